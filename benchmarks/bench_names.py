"""Names in one answer → structures: one OPSIN run for all of them (ours) versus one run per name (peer).

``app.chat.names`` converts every ``<IUPAC>`` name of a finished answer in one ``names_to_structures`` call, so the
JVM starts once; the peer converts the same names one by one with ``science_tools.name_to_structure`` (what a
per-span converter would do: one JVM start each). A second line measures a repeated answer, answered from the cache.

* ``names_one_answer``: wall time for the names of one answer (cold cache), ours vs one-by-one.
* ``names_repeated_answer``: the same names again: ours from the cache vs one-by-one again.

Times: lower is better, so ``ratio`` = peer / ours. ``outputs_identical``: the canonical SMILES agree name by name.
Needs Java (OPSIN runs in a JVM); without it the script prints an error line and exits non-zero.

Usage: ``python benchmarks/bench_names.py [--quick]`` — one JSON object per line.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import emit_row  # benchmarks/ is on sys.path when a script runs

import science_tools  # noqa: E402
from app.chat.names import NameCache, convert_names  # noqa: E402


NAMES = [
    "2-acetyloxybenzoic acid",
    "1,3,7-trimethylpurine-2,6-dione",
    "(2S)-2-aminopropanoic acid",
    "N-(4-hydroxyphenyl)acetamide",
    "2-methylpropan-2-ol",
    "benzene-1,2-diol",
    "prop-2-enoic acid",
    "4-methylpentan-2-one",
]


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="4 names, 1 repetition")
    args = parser.parse_args()
    if shutil.which("java") is None:
        raise SystemExit("no Java runtime: OPSIN cannot run, nothing to measure")
    names = NAMES[:4] if args.quick else NAMES
    repetitions = 1 if args.quick else 3
    ours, peer, cached, identical = [], [], [], True
    for _ in range(repetitions):  # alternate, so drift on a shared machine hits both sides alike
        cache = NameCache()
        seconds, batch = _timed(convert_names, names, cache)
        ours.append(seconds)
        seconds, again = _timed(convert_names, names, cache)
        cached.append(seconds)
        seconds, singles = _timed(lambda: [science_tools.name_to_structure(name) for name in names])
        peer.append(seconds)
        smiles = [report.canonical_smiles for report in batch]
        identical &= all(smiles) and smiles == [r.canonical_smiles for r in singles] == [
            r.canonical_smiles for r in again
        ]
    extra = {"names": len(names), "repetitions": repetitions, "peer_name": "science_tools.name_to_structure per name"}
    peer_ms = statistics.median(peer) * 1e3
    emit_row("names_one_answer", statistics.median(ours) * 1e3, peer_ms, "ms", identical, higher_is_better=False,
             **extra)  # fmt: skip
    emit_row("names_repeated_answer", statistics.median(cached) * 1e3, peer_ms, "ms", identical,
             higher_is_better=False, **extra)  # fmt: skip


if __name__ == "__main__":
    main()
