"""Run every benchmark script (or those named) and collect their JSON lines.

Usage::

    python -m benchmarks                 # all, full size
    python -m benchmarks --quick         # all, small workloads (minutes)
    python -m benchmarks tokenizer model # only bench_tokenizer.py and bench_model.py

Each ``benchmarks/bench_<name>.py`` prints one JSON object per line
(``name, ours, peer, unit, ratio, outputs_identical``). The collected lines are written to
``benchmarks/results/latest.jsonl``. A benchmark whose outputs are not identical to its peer's
makes this runner exit non-zero; speed ratios are reported, never asserted.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent


def _scripts(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = {f"bench_{name}.py" for name in names}
    missing = wanted - {path.name for path in found}
    if missing:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(missing))}")
    return [path for path in found if path.name in wanted]


def _run(script: Path, quick: bool) -> list[dict]:
    cmd = [sys.executable, str(script)] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    rows = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    if proc.returncode != 0:
        rows.append({"name": script.stem, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmark names (bench_<name>.py); default: all")
    parser.add_argument("--quick", action="store_true", help="small workloads")
    args = parser.parse_args(argv)

    all_rows = []
    for script in _scripts(args.names):
        for row in _run(script, args.quick):
            print(json.dumps(row), flush=True)
            all_rows.append(row)
    out = HERE / "results" / "latest.jsonl"
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(json.dumps(row) + "\n" for row in all_rows))
    failed = [row for row in all_rows if "error" in row or row.get("outputs_identical") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
