"""The science panels beside the chat: the SMILES box (molecules and reactions), the protein / DNA box, file
loading, 3D and "Ask".

Statuses and tables use the reports' ``display_rows()`` (labels with units), the same rows the cards and exports
show. Each panel is built from small functions (check → status, picture, rows), so more inputs can join later
(a sketcher, names, structures). Problems with something the user asked for are ``gr.Warning`` toasts that leave
the page as it was (never the red error state over a component).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

import science_tools
from app.chat.errors import InputError
from app.chat.science_files import first_molecule
from app.ui.cards import molecule_card, reaction_card, sequence_card
from app.ui.safe_html import escape_text


__all__ = [
    "SEQUENCE_PROMPT",
    "SMILES_PROMPT",
    "VIEWER_EMPTY",
    "insert_molecule",
    "insert_sequence",
    "molecule_3d",
    "read_sequence_upload",
    "read_upload_text",
    "sequence_panel",
    "smiles_panel",
]

SMILES_PROMPT = "Type or paste a SMILES string — a molecule, or a reaction such as `CC(=O)O.OCC>>CC(=O)OCC.O`."
SEQUENCE_PROMPT = "Paste a protein, DNA or RNA sequence (FASTA or bare letters)."
VIEWER_EMPTY = ""  # the 3D viewer's value when it holds nothing (it then says how to fill it)
MAX_PANEL_FILE_CHARS = 200_000

PanelUpdate = tuple[str, str, list[list[str]]]


def _notes(warnings: list[str] | tuple[str, ...]) -> str:
    return "".join(f"\n\n⚠️ {escape_text(warning)}" for warning in warnings)


def _pointer(text: str, position: int | None) -> str:
    """The input with a caret under the character at fault (0-based ``position``), as a code block (shown
    verbatim; an input holding a backtick, which could close the block, gets no pointer)."""
    if position is None or not 0 <= position < len(text) or "\n" in text or "`" in text or len(text) > 200:
        return ""
    return f"\n\n```\n{text}\n{' ' * position}^\n```"


def _invalid(what: str, report: Any, text: str) -> PanelUpdate:
    position = report.to_dict().get("error_position")
    message = f"**Invalid {what}:** {escape_text(report.error or 'unknown error')}"
    return message + _pointer(text, position), "", []


def _molecule_panel(text: str) -> PanelUpdate:
    report = science_tools.check_smiles(text)
    if not report.ok:
        return _invalid("SMILES", report, text)
    status = f"**Valid molecule.** Canonical: `{report.canonical_smiles}` · {report.formula}" + _notes(report.warnings)
    return status, molecule_card(report.canonical_smiles) or "", [list(row) for row in report.display_rows()]


def _reaction_panel(text: str) -> PanelUpdate:
    report = science_tools.check_reaction(text)
    if not report.ok:
        return _invalid("reaction", report, text)
    parts = report.to_dict()
    sides = f"{len(parts['reactants'])} reactant(s) → {len(parts['products'])} product(s)"
    agents = f", {len(parts['agents'])} agent(s)" if parts["agents"] else ""
    status = f"**Valid reaction.** {sides}{agents}" + _notes(report.warnings)
    return status, reaction_card(text, rows=False) or "", [list(row) for row in report.display_rows()]


def smiles_panel(smiles: str) -> PanelUpdate:
    """Live validation for the SMILES box, a molecule or a reaction: (status markdown, picture HTML, rows)."""
    text = (smiles or "").strip()
    if not text:
        return SMILES_PROMPT, "", []
    if science_tools.check_smiles_or_reaction(text).to_dict()["kind"] == "reaction":
        return _reaction_panel(text)
    return _molecule_panel(text)


def sequence_panel(sequence: str) -> tuple[str, str]:
    """Live validation for the protein / DNA / RNA box: (status markdown, card HTML)."""
    if not (sequence or "").strip():
        return SEQUENCE_PROMPT, ""
    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return f"**Invalid sequence:** {escape_text(report.error or 'unknown error')}", ""
    rows = dict(report.display_rows())
    length_label = science_tools.label("length", report.kind)
    kind = rows.get(science_tools.label("kind"), report.kind)
    status = f"**Valid** {kind} · {length_label}: {rows.get(length_label)}."
    if report.record_count > 1:
        status += f" The first of {report.record_count} FASTA records is shown."
    return status + _notes(report.warnings), sequence_card(sequence, notes=False) or ""


def _append_to_box(box: dict[str, Any] | None, text: str, lead: str) -> dict[str, Any]:
    box = box or {}
    current = (box.get("text") or "").rstrip()
    prefix = current + "\n" if current else lead + "\n"
    return {"text": prefix + text, "files": list(box.get("files") or [])}


def insert_molecule(smiles: str, box: dict[str, Any] | None) -> Any:
    """Append the checked molecule or reaction to the chat box in ``<SMILES>`` tags (the SMILES sub-vocabulary)."""
    report = science_tools.check_smiles_or_reaction((smiles or "").strip())
    if not report.ok:
        gr.Warning(f"Not inserted: {report.error}")
        return gr.skip()
    is_reaction = report.to_dict()["kind"] == "reaction"
    lead = "Tell me about this reaction:" if is_reaction else "Tell me about this molecule:"
    return _append_to_box(box, f"<SMILES>{report.canonical_smiles}</SMILES>", lead)


def insert_sequence(sequence: str, box: dict[str, Any] | None) -> Any:
    """Append the checked sequence to the chat box: a protein in ``<FASTA>`` tags, DNA / RNA as plain letters."""
    report = science_tools.check_sequence(sequence or "")
    if not report.ok:
        gr.Warning(f"Not inserted: {report.error}")
        return gr.skip()
    text = science_tools.tag_for_tokenizer(report.sequence, "protein") if report.kind == "protein" else report.sequence
    kind = {"protein": "protein", "dna": "DNA sequence", "rna": "RNA sequence"}.get(report.kind or "", "sequence")
    return _append_to_box(box, text, f"Tell me about this {kind}:")


def read_upload_text(path: str | None) -> Any:
    """The first molecule of an uploaded .smi / .sdf / .mol file, as SMILES for the SMILES box.

    Read with the same bounded reader as chat attachments (limits checked while the file streams in).
    """
    if not path:
        return ""
    try:
        return first_molecule(path, max_chars=MAX_PANEL_FILE_CHARS)
    except InputError as error:
        gr.Warning(str(error))
        return gr.skip()


def read_sequence_upload(path: str | None) -> Any:
    """The records of an uploaded FASTA or PDB / mmCIF file as FASTA text (headers kept) for the sequence box."""
    if not path:
        return ""
    report = science_tools.read_sequence_file(path, properties=False, max_chars=MAX_PANEL_FILE_CHARS)
    if not report.ok or not report.records:
        gr.Warning(report.error or f"no sequence could be read from '{Path(path).name}'")
        return gr.skip()
    records = [
        f">{record.header}\n{record.sequence}" if record.header else record.sequence for record in report.records
    ]
    return "\n".join(records)[:MAX_PANEL_FILE_CHARS]


def molecule_3d(smiles: str) -> Any:
    """A MOL block with 3D coordinates (ETKDG + force field) for the 3D viewer; its title line names the molecule."""
    report = science_tools.check_smiles((smiles or "").strip())
    if not report.ok:
        reason = report.error or "invalid SMILES"
        if report.to_dict().get("input_format") == "reaction":
            reason = "a reaction has no single 3D structure; paste one of its molecules"
        gr.Warning(f"No 3D view: {reason}")
        return VIEWER_EMPTY
    conformer = science_tools.embed_conformer(report.canonical_smiles)
    if not conformer.ok or not conformer.molblock:
        gr.Warning(f"No 3D view: {conformer.error or 'RDKit could not generate a 3D conformer'}")
        return VIEWER_EMPTY
    title = f"{report.canonical_smiles} · {report.formula}"[:80]  # a MOL block's first line is its title (≤ 80)
    _, _, rest = conformer.molblock.partition("\n")
    return f"{title}\n{rest}"
