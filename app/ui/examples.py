"""The example prompts the empty chat offers: two typed questions and one for each file in ``assets/``.

``assets/`` (see its README: made by this project, Apache-2.0) holds a spectrum chart, a micrograph-like figure,
a 3-second titration video, a FASTA file, an SDF file and a PDB file. Clicking an example puts its text and file
into the chat box (:func:`box_value`); the example cards show the files from ``assets/`` as static files. Examples whose file is missing (an
installed package without the repository's ``assets/``) are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


__all__ = ["ASSETS_DIR", "ASSET_EXAMPLES", "TEXT_EXAMPLES", "box_value", "chat_examples", "static_paths"]

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"

TEXT_EXAMPLES: list[dict[str, Any]] = [
    {"text": "What is the chemical formula of water?"},
    {"text": "Which functional groups does <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES> have?",
     "display_text": "Which functional groups does aspirin (SMILES) have?"},
]  # fmt: skip

# (file in assets/, the question, the short label shown on the example)
ASSET_EXAMPLES: list[tuple[str, str, str]] = [
    ("absorbance_spectrum.png", "Where are the absorbance maxima in this UV-Vis spectrum, and what colour would "
     "the solution look?", "Read a UV-Vis spectrum (chart)"),
    ("cells_micrograph.png", "How many cells are in this fluorescence micrograph, and which stain marks the "
     "nuclei?", "Count cells in a micrograph"),
    ("titration.mp4", "What happens in this titration video, and when is the end point reached?",
     "Explain a titration video (3 s)"),
    ("proteins.fasta", "Compare these two proteins: size, charge and what they do.", "Compare two proteins (.fasta)"),
    ("drugs.sdf", "Which of these drugs is the most polar, and why?", "Three drugs from an .sdf file"),
    ("designed_peptides.pdb", "Describe the chains and the ligand in this structure.", "A two-chain structure (.pdb)"),
]  # fmt: skip

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def chat_examples(assets: Path = ASSETS_DIR) -> list[dict[str, Any]]:
    """Examples for ``gr.Chatbot(examples=…)``: text ones, then one per asset file that exists."""
    examples = [dict(example) for example in TEXT_EXAMPLES]
    for name, question, label in ASSET_EXAMPLES:
        path = assets / name
        if path.is_file():
            example: dict[str, Any] = {"text": question, "files": [str(path)], "display_text": label}
            if path.suffix in _IMAGE_SUFFIXES:
                example["icon"] = str(path)
            examples.append(example)
    return examples


def static_paths(assets: Path = ASSETS_DIR) -> list[str]:
    """Folders Gradio must serve for the examples (pass to ``gr.set_static_paths``)."""
    return [str(assets)] if assets.is_dir() else []


def box_value(selected: dict[str, Any], assets: Path = ASSETS_DIR) -> dict[str, Any]:
    """The chat box's value for a clicked example: its text and its files as local paths in ``assets/``.

    The Chatbot hands the example's files over as static-file URLs; given to the chat box as such, they would be
    downloaded again through Gradio's SSRF guard, which refuses the app's own loopback address. Local paths are
    copied into the box's upload cache instead. Only files of ``assets/`` are accepted.
    """
    files = []
    for item in selected.get("files") or []:
        given = (item.get("orig_name") or item.get("path") or "") if isinstance(item, dict) else str(item)
        name = Path(given).name
        path = assets / name
        if name and path.is_file():
            files.append(str(path))
    return {"text": selected.get("text", ""), "files": files}
