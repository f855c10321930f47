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
from app.ui import panels
from app.ui.cards import molecule_card
from app.ui.safe_html import code_text, escape_text


__all__ = [
    "NAME_PLACEHOLDER",
    "convert_name",
    "make_name_box",
    "name_box_state",
    "origin_for",
    "smiles_panel_with_origin",
    "wire_name_box",
]

NAME_PLACEHOLDER = "e.g. 2-acetyloxybenzoic acid, then Enter"


def name_box_state() -> tuple[bool, str]:
    """(enabled, status markdown) for the name box on this machine: off, with the reason, when OPSIN cannot run."""
    problem = names.names_unavailable()
    if problem:
        return False, f"**Name → structure is off on this server:** {escape_text(problem)}"
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
        return f"**Not converted:** {escape_text(report.error or 'unknown error')}", gr.skip(), {}
    origin = report.provenance()
    status = (
        f"**Structure {escape_text(origin)}:** {code_text(report.canonical_smiles)} · {escape_text(report.formula)}"
    )
    return status, report.canonical_smiles, {"smiles": report.canonical_smiles, "origin": origin}


def origin_for(smiles: str | None, record: dict[str, str] | None) -> str:
    """The provenance to show for the SMILES box's current text ("" once the user changed the structure)."""
    if not record or not smiles:
        return ""
    return record.get("origin", "") if smiles.strip() == record.get("smiles") else ""


def smiles_panel_with_origin(smiles: str | None, record: dict[str, str] | None) -> tuple[str, str, list[list[str]]]:
    """The SMILES panel (:func:`app.ui.panels.smiles_panel`), captioned with the name it came from, if it did."""
    status, picture, rows = panels.smiles_panel(smiles or "")
    origin = origin_for(smiles, record)
    if origin and picture:
        status += f" · structure {escape_text(origin)}"
        picture = molecule_card(smiles.strip(), title=f"Structure {origin}") or picture
    return status, picture, rows


def make_name_box() -> tuple[Any, Any, Any, Any]:
    """The name box, its Convert button, its status line and the origin record (build inside a ``gr.Blocks``)."""
    import gradio as gr

    enabled, status = name_box_state()
    with gr.Row():
        name = gr.Textbox(label="…or a chemical name (IUPAC / systematic)", placeholder=NAME_PLACEHOLDER,
                          interactive=enabled, elem_id="name-box", scale=4)  # fmt: skip
        convert = gr.Button("Convert", size="sm", interactive=enabled, elem_id="convert-name", scale=0, min_width=90)
    return name, convert, gr.Markdown(status, elem_id="name-status"), gr.State({})


def wire_name_box(name: Any, convert: Any, status: Any, origin: Any, smiles: Any, **private: Any) -> None:
    """Enter in the name box, or Convert, puts the structure in the SMILES box and records where it came from."""
    for event in (name.submit, convert.click):
        event(convert_name, [name], [status, smiles, origin], **private)
