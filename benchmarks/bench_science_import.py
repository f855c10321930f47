"""Import cost of ``science_tools`` in a fresh interpreter versus importing its libraries eagerly.

Peer: ``import rdkit.Chem; import Bio.SeqUtils.ProtParam`` — what a package without lazy imports pays.
Two lines are printed (one JSON object each):

* ``science_tools_import``: ``import science_tools`` alone (the cost every app start and CLI pays).
* ``science_tools_first_check``: import + first ``check_smiles`` / ``check_sequence`` versus RDKit / Biopython
  imported eagerly and called directly for the same numbers (what the first real request pays; laziness and
  our validation layer should add little to it).

``outputs_identical`` compares canonical SMILES, MW, logP, QED and the ProtParam MW from both sides. Each repetition runs ours and
the peer alternately in fresh interpreters; times are measured inside the child (interpreter start excluded).
Run from the repository root: ``python benchmarks/bench_science_import.py``.
"""

import json
import random
import statistics
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
REPETITIONS = 7
SAMPLES = ["CCO", "CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "c1ccc2[nH]ccc2c1"]
PROTEIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"

_CHILD_TEMPLATE = """
import json, time
start = time.perf_counter()
{import_code}
imported = time.perf_counter()
outputs = {use_code}
used = time.perf_counter()
print(json.dumps({{"import_ms": (imported - start) * 1e3, "first_use_ms": (used - start) * 1e3, "outputs": outputs}}))
"""
OURS = {
    "import_code": "import science_tools as st",
    "use_code": (
        f"[(r.canonical_smiles, r.descriptors['molecular_weight'], r.descriptors['logp'], r.descriptors['qed'])"
        f" for r in map(st.check_smiles, {SAMPLES!r})]"
        f" + [st.check_sequence({PROTEIN!r}).properties['molecular_weight']]"
    ),
}
# The peer for the import line, as named in the issue: the two libraries imported eagerly.
PEER_IMPORT = {"import_code": "import rdkit.Chem as Chem; import Bio.SeqUtils.ProtParam as PP", "use_code": "None"}
# The peer for the first-use line does the same science with RDKit / Biopython directly, imported eagerly.
PEER_FIRST_USE = {
    "import_code": (
        "import rdkit.Chem as Chem; from rdkit.Chem import QED, Crippen, Descriptors; "
        "import Bio.SeqUtils.ProtParam as PP"
    ),
    "use_code": (
        f"[(Chem.MolToSmiles(m), Descriptors.MolWt(m), Crippen.MolLogP(m), QED.qed(m))"
        f" for m in map(Chem.MolFromSmiles, {SAMPLES!r})]"
        f" + [PP.ProteinAnalysis({PROTEIN!r}).molecular_weight()]"
    ),
}


def _run_child(spec: dict) -> dict:
    code = _CHILD_TEMPLATE.format(**spec)
    # cwd=REPO and "-c" put the repository first on sys.path, so the working tree is what gets measured
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _bootstrap_ci(ratios: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds) - 1]


def _line(name: str, key: str, ours: list[dict], peer: list[dict], peer_name: str, identical: bool) -> dict:
    ours_ms = [run[key] for run in ours]
    peer_ms = [run[key] for run in peer]
    ratios = [o / p for o, p in zip(ours_ms, peer_ms)]
    low, high = _bootstrap_ci(ratios)
    return {
        "name": name,
        "ours": round(statistics.median(ours_ms), 2),
        "peer": round(statistics.median(peer_ms), 2),
        "unit": "ms",
        "ratio": round(statistics.median(ratios), 3),
        "ratio_ci95": [round(low, 3), round(high, 3)],
        "outputs_identical": identical,
        "peer_name": peer_name,
        "repetitions": len(ratios),
    }


def main() -> None:
    for spec in (OURS, PEER_IMPORT, PEER_FIRST_USE):  # warm-up: fill the OS file cache for every child
        _run_child(spec)
    ours, peer_import, peer_first = [], [], []
    for _ in range(REPETITIONS):  # alternate so drift on a shared machine hits every side alike
        ours.append(_run_child(OURS))
        peer_import.append(_run_child(PEER_IMPORT))
        peer_first.append(_run_child(PEER_FIRST_USE))
    # same science from both sides: canonical SMILES, MW, logP, QED and the ProtParam MW must match exactly
    identical = all(o["outputs"] == p["outputs"] for o, p in zip(ours, peer_first))
    import_peer = "import rdkit.Chem; import Bio.SeqUtils.ProtParam (eager)"
    first_peer = "RDKit Chem/Descriptors/Crippen/QED + Biopython ProtParam, eager import, same calls"
    print(json.dumps(_line("science_tools_import", "import_ms", ours, peer_import, import_peer, identical)))
    print(json.dumps(_line("science_tools_first_check", "first_use_ms", ours, peer_first, first_peer, identical)))


if __name__ == "__main__":
    main()
