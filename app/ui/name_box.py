"""The SMILES panel's name box: a chemical name (IUPAC / systematic) becomes a structure through OPSIN.

A separate box rather than a SMILES box that also takes names, because many short strings are both ("CO", "NO",
"CN", "Co" read as SMILES and as formulas or names), and because the SMILES box checks every keystroke in a few
milliseconds while a name costs a JVM start (about 1–2 s): names are converted when the user presses Enter or
"Convert", once, through the cache of :mod:`app.chat.names`. The structure then goes into the SMILES box, so the
RDKit check, picture, properties, 3D view and sketcher follow, and the status says where it came from
("from the name 2-acetyloxybenzoic acid, OPSIN"). Without Java the box is shown disabled with the reason and how
to enable it.
"""

from __future__ import annotations

from typing import Any

from app.chat import names
from app.ui.rendering import sanitize_markdown


__all__ = ["NAME_PLACEHOLDER", "convert_name", "name_box_state", "origin_for"]

NAME_PLACEHOLDER = "e.g. 2-acetyloxybenzoic acid, then Enter"


def name_box_state() -> tuple[bool, str]:
    """(enabled, status markdown) for the name box on this machine: off, with the reason, when OPSIN cannot run."""
    problem = names.names_unavailable()
    if problem:
        return False, f"**Name → structure is off on this server:** {sanitize_markdown(problem)}"
    return True, "Type a chemical name (IUPAC or systematic) and press Enter; OPSIN turns it into a structure."


def convert_name(name: str | None) -> tuple[str, Any, dict[str, str]]:
    """Convert the name box's text: (status markdown, new SMILES box value or ``gr.skip()``, origin record).

    The origin record ``{"smiles": canonical SMILES, "origin": "from the name …, OPSIN"}`` lets the SMILES panel
    caption the molecule with its provenance for as long as the SMILES box holds that structure.
    """
    import gradio as gr

    enabled, off_status = name_box_state()
    if not enabled:
        return off_status, gr.skip(), {}
    if not (name or "").strip():
        return "Type a chemical name first, e.g. 2-acetyloxybenzoic acid.", gr.skip(), {}
    report = names.name_to_structure(name)
    if not report.ok:
        return f"**Not converted:** {sanitize_markdown(report.error or 'unknown error')}", gr.skip(), {}
    origin = report.provenance()
    status = sanitize_markdown(f"**Structure {origin}:** `{report.canonical_smiles}` · {report.formula}")
    return status, report.canonical_smiles, {"smiles": report.canonical_smiles, "origin": origin}


def origin_for(smiles: str | None, record: dict[str, str] | None) -> str:
    """The provenance to show for the SMILES box's current text ("" once the user changed the structure)."""
    if not record or not smiles:
        return ""
    return record.get("origin", "") if smiles.strip() == record.get("smiles") else ""
