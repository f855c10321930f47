"""Vendored JavaScript libraries (3Dmol.js, JSME) served by Gradio itself: the page never reaches a CDN.

One rule for both: a library is there when its entry script is on disk; then the page loads that script through
Gradio's file route (``gr.HTML(head=…)``) and Gradio serves the library's folder (``gr.set_static_paths``).
"""

from __future__ import annotations

from pathlib import Path


__all__ = ["STATIC_DIR", "script_tag", "served_folders"]

STATIC_DIR = Path(__file__).parent / "static"


def script_tag(script: Path) -> str:
    """The ``<script>`` tag loading ``script`` through Gradio's file route ("" when the file is missing)."""
    return f'<script src="/gradio_api/file={script.resolve()}"></script>' if script.is_file() else ""


def served_folders(script: Path, folder: Path) -> list[str]:
    """``[folder]`` for ``gr.set_static_paths`` when the library (its entry ``script``) is present, else ``[]``."""
    return [str(folder.resolve())] if script.is_file() else []
