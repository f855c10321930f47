"""The science panels beside the chat: the SMILES box, the protein / DNA box, file loading, 3D and "Ask".

Statuses and tables use the reports' ``display_rows()`` (labels with units), the same rows the cards and exports
show. ``gr.Error`` is raised here, at the boundary, for actions the user asked for that cannot be done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

import science_tools
from app.chat.attachments import InputError, smiles_from_molecule_file
from app.ui.cards import molecule_card, sequence_card
from app.ui.rendering import inert_text


__all__ = [
    "SEQUENCE_PROMPT",
    "SMILES_PROMPT",
    "insert_molecule",
    "insert_sequence",
    "molecule_3d",
    "read_upload_text",
    "sequence_panel",
    "smiles_panel",
]

SMILES_PROMPT = "Type or paste a SMILES string."
SEQUENCE_PROMPT = "Paste a protein, DNA or RNA sequence (FASTA or bare letters)."
MAX_PANEL_FILE_CHARS = 200_000


def smiles_panel(smiles: str) -> tuple[str, str, list[list[str]]]:
    """Live validation for the SMILES box: (status markdown, picture HTML, property rows)."""
    if not (smiles or "").strip():
        return SMILES_PROMPT, "", []
    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return f"**Invalid SMILES:** {inert_text(report.error or 'unknown error')}", "", []
    status = f"**Valid.** Canonical: `{report.canonical_smiles}` · {report.formula}"
    return status, molecule_card(report.canonical_smiles) or "", [list(row) for row in report.display_rows()]


def sequence_panel(sequence: str) -> tuple[str, str]:
    """Live validation for the protein / DNA / RNA box: (status markdown, card HTML)."""
    if not (sequence or "").strip():
        return SEQUENCE_PROMPT, ""
    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return f"**Invalid sequence:** {inert_text(report.error or 'unknown error')}", ""
    rows = dict(report.display_rows())
    length_label = science_tools.label("length", report.kind)
    note = (
        " The tokenizer's FASTA sub-vocabulary triggers automatically on runs of ≥ 27 capital letters."
        if report.kind == "protein"
        else ""
    )
    status = (
        f"**Valid** {rows.get(science_tools.label('kind'), report.kind)} · {length_label}: {rows.get(length_label)}."
    )
    return status + note, sequence_card(sequence) or ""


def _append_to_box(box: dict[str, Any] | None, text: str) -> dict[str, Any]:
    box = box or {}
    current = (box.get("text") or "").rstrip()
    prefix = current + "\n" if current else "Tell me about this molecule:\n"
    return {"text": prefix + text, "files": list(box.get("files") or [])}


def insert_molecule(smiles: str, box: dict[str, Any] | None) -> dict[str, Any]:
    """Append the checked molecule to the chat box, wrapped in ``<SMILES>`` tags for the SMILES sub-vocabulary."""
    report = science_tools.check_smiles(smiles or "")
    if not report.ok:
        raise gr.Error(f"not inserted: {report.error}", print_exception=False)
    return _append_to_box(box, f"<SMILES>{report.canonical_smiles}</SMILES>")


def insert_sequence(sequence: str, box: dict[str, Any] | None) -> dict[str, Any]:
    """Append the checked sequence as plain capitals: Intern-S1 has no protein tag, auto-detection picks it up."""
    report = science_tools.check_sequence(sequence or "")
    if not report.ok:
        raise gr.Error(f"not inserted: {report.error}", print_exception=False)
    return _append_to_box(box, report.sequence)


def read_upload_text(path: str | None) -> str:
    """The first molecule (SMILES) or sequence of an uploaded .smi/.sdf/.mol/.fasta/.pdb file, for the panels.

    Read with the same bounded readers as chat attachments (science_tools' streaming file readers).
    """
    if not path:
        return ""
    if Path(path).suffix.lower() in (".sdf", ".mol", ".smi"):
        try:
            return smiles_from_molecule_file(path, max_chars=MAX_PANEL_FILE_CHARS)[0]
        except InputError as error:
            raise gr.Error(str(error), print_exception=False) from error
    report = science_tools.read_sequence_file(path, properties=False, max_chars=MAX_PANEL_FILE_CHARS)
    if not report.ok:
        raise gr.Error(report.error or "no sequence could be read", print_exception=False)
    first = report.records[0]
    return f">{first.header}\n{first.sequence}\n" if first.header else first.sequence


def molecule_3d(smiles: str) -> str:
    """A MOL block with 3D coordinates (ETKDG + force field) for the 3D viewer."""
    report = science_tools.check_smiles(smiles or "")
    if not report.ok:
        raise gr.Error(f"no 3D view: {report.error}", print_exception=False)
    block = science_tools.conformer_molblock(report.canonical_smiles)
    if not block:
        raise gr.Error("RDKit could not generate a 3D conformer for this molecule", print_exception=False)
    return block
