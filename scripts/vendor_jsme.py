"""Vendor the JSME molecule editor (npm ``jsme-editor``, BSD-3-Clause) into ``app/ui/static/jsme/``.

Usage: ``python scripts/vendor_jsme.py [--version 0.8.2]`` (needs ``npm``; run from the repository root).

JSME is a GWT build: ``jsme.nocache.js`` picks one compiled "permutation" (``<hash>.cache.js`` plus its
``deferredjs/<hash>/`` fragments) by browser family and document mode. The package ships twelve permutations;
only the ``safari`` (Chrome, Edge, Safari, mobile WebKit/Blink) and ``gecko1_8`` (Firefox) ones can be picked by a
browser Gradio 6 supports, so only those are kept (read from the package's own ``compilation-mappings.txt``, not
hard-coded). The InChI module (``JSApplet.Inchi``, 1.2 MB, loaded only when JSME is asked for an InChI) and the
right-to-left / IE-only style sheets are left out as well: the app reads SMILES from the editor. The result is
about a fifth of the package and is listed, with the version, in ``app/ui/static/jsme/VENDORED.md``.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path


TARGET = Path(__file__).resolve().parents[1] / "app" / "ui" / "static" / "jsme"
BROWSERS = ("safari", "gecko1_8")
# Loaded by jsme.nocache.js ("loadExternalRefs") or by the permutations, whatever the browser.
SHARED = ("jsme.nocache.js", "jsa.css", "clear.cache.gif", "gwt/chrome/chrome.css", "gwt/chrome/mosaic.css")
SHARED_PATTERNS = ("*.cache.png", "gwt/chrome/images/**/*")


def permutations_for(mappings: str, browsers: tuple[str, ...] = BROWSERS) -> list[str]:
    """The ``<hash>.cache.js`` names that ``compilation-mappings.txt`` assigns to one of ``browsers``."""
    chosen: list[str] = []
    for block in re.split(r"\n\s*\n", mappings):
        lines = block.strip().splitlines()
        if not lines or not lines[0].endswith(".cache.js"):
            continue
        agents = {line.split()[1] for line in lines[1:] if line.startswith("user.agent ")}
        if agents & set(browsers) and lines[0] not in chosen:
            chosen.append(lines[0])
    return chosen


def _npm_pack(version: str, folder: Path) -> Path:
    subprocess.run(["npm", "pack", f"jsme-editor@{version}", "--pack-destination", str(folder)], check=True,
                   capture_output=True)  # fmt: skip
    return next(folder.glob("jsme-editor-*.tgz"))


def _copy(package: Path, relative: str) -> None:
    destination = TARGET / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package / relative, destination)


def vendor(version: str) -> list[str]:
    """Replace ``app/ui/static/jsme`` with the chosen files of ``jsme-editor@version``; returns their paths."""
    with tempfile.TemporaryDirectory() as temporary:
        archive = _npm_pack(version, Path(temporary))
        with tarfile.open(archive) as tar:
            tar.extractall(temporary, filter="data")
        package = Path(temporary) / "package"
        permutations = permutations_for((package / "compilation-mappings.txt").read_text(encoding="utf-8"))
        files = list(SHARED)
        files += [str(p.relative_to(package)) for pattern in SHARED_PATTERNS for p in package.glob(pattern)
                  if p.is_file() and "ie6" not in p.name and "/ie6/" not in str(p)]  # fmt: skip
        for permutation in permutations:
            files.append(permutation)
            stem = permutation.removesuffix(".cache.js")
            files += [str(p.relative_to(package)) for p in sorted((package / "deferredjs" / stem).glob("*.js"))]
        if TARGET.exists():
            shutil.rmtree(TARGET)
        for relative in sorted(set(files)):
            _copy(package, relative)
        shutil.copyfile(package / "license.txt", TARGET / "LICENSE.txt")
        _write_manifest(version, permutations, sorted(set(files)))
    return sorted(set(files))


def _write_manifest(version: str, permutations: list[str], files: list[str]) -> None:
    out = io.StringIO()
    out.write(f"# JSME {version} (npm `jsme-editor@{version}`, BSD-3-Clause, see LICENSE.txt)\n\n")
    out.write("Vendored by `scripts/vendor_jsme.py` so the sketcher works offline (no CDN). Kept: the loader, the\n")
    out.write(f"permutations for {' and '.join(BROWSERS)} browsers ({', '.join(permutations)}), their\n")
    out.write("`deferredjs/` fragments, style sheets and images. Left out: the opera/IE permutations, the InChI\n")
    out.write("module and the right-to-left style sheets (the app only reads SMILES from the editor).\n\n")
    out.write(f"{len(files)} files.\n")
    (TARGET / "VENDORED.md").write_text(out.getvalue(), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="0.8.2")
    files = vendor(parser.parse_args().version)
    size = sum((TARGET / name).stat().st_size for name in files)
    print(f"vendored {len(files)} files ({size / 1e6:.1f} MB) into {TARGET}")


if __name__ == "__main__":
    main()
