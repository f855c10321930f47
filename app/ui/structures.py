"""Protein / nucleic-acid structures in the page: a 3D cartoon (3Dmol.js), a card of chains and ligands, "Ask".

The viewer uses the 3Dmol.js that :mod:`app.ui.viewer3d` vendors (one copy, one ``<script>``: Gradio loads a
``head`` script once per ``src``). Its value is a small JSON document — ``{"format", "data", "caption"}`` — built by
:func:`viewer_value`; the page draws chains as cartoons coloured by chain, ligands as sticks, and hides water.
Everything shown comes from one ``science_tools.read_structure`` report; a file the report refuses (over the size
limit, no ATOM records, binary) gets its reason in the status line and nothing is drawn.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import science_tools
from app.chat.history import History
from app.chat.structures import structure_prompt_text
from app.config import STRUCTURE_EXTENSIONS
from app.ui import viewer3d
from app.ui.safe_html import escape_text
from science_tools import StructureReport


__all__ = [
    "MAX_VIEWER_ATOMS",
    "STRUCTURE_PROMPT",
    "StructurePanel",
    "attached_structure",
    "insert_structure",
    "make_structure_panel",
    "make_structure_viewer",
    "structure_card",
    "structure_panel",
    "structure_text_panel",
    "viewer_value",
    "wire_structure_panel",
]

STRUCTURE_PROMPT = "Upload a .pdb or .cif (mmCIF) file, or paste its text, to see it in 3D with its chains."
MAX_VIEWER_ATOMS = 100_000  # larger structures are described but not sent to the browser's 3D view
_PREVIEW_CHARS = 60

_TEMPLATE = (
    "<div class='structure3d-wrap'><div class='structure3d-box' style='width:100%;height:0;position:relative'></div>"
    "<div class='structure3d-msg' role='status' style='font-size:0.9em;opacity:0.85'></div></div>"
)

# Theme-aware (Gradio's colour variables), so the card reads in light and dark mode alike.
_CARD_CSS = """
.structure-card { display: block; margin: 4px 0; padding: 8px; border-radius: 8px; max-width: 100%;
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill);
  color: var(--body-text-color); }
.structure-card table { font-size: 0.85em; margin: 4px 0; }
.structure-card td { color: var(--body-text-color); padding: 2px 6px; }
.structure-card code { word-break: break-all; }
"""

# `props.value`: "" or JSON {"format": "pdb" | "mmcif", "data": file text, "caption": text under the view}.
_JS_ON_LOAD = """
const WATER = ['HOH', 'WAT', 'DOD', 'H2O', 'TIP', 'TIP3', 'SOL'];
const draw = () => {
  const box = element.querySelector('.structure3d-box');
  const msg = element.querySelector('.structure3d-msg');
  if (!box || !msg) return;
  let spec = null;
  try { spec = props.value ? JSON.parse(props.value) : null; } catch (err) { spec = null; }
  if (!spec || !spec.data) {
    if (element._viewer) { element._viewer.clear(); }
    box.style.height = '0px';
    msg.textContent = (spec && spec.caption) || '';
    return;
  }
  if (typeof $3Dmol === 'undefined') {
    msg.textContent = '3D viewer unavailable: 3Dmol.js could not be loaded in this browser.'; return;
  }
  box.style.height = box.clientWidth < 480 ? '300px' : '380px';
  try {
    const dark = document.body.classList.contains('dark') || !!document.querySelector('.gradio-container.dark');
    if (!element._viewer) element._viewer = $3Dmol.createViewer(box, {backgroundColor: dark ? '#1b1f27' : 'white'});
    const viewer = element._viewer;
    viewer.clear();
    viewer.resize();
    viewer.addModel(spec.data, spec.format === 'mmcif' ? 'cif' : 'pdb');
    viewer.setStyle({hetflag: false}, {cartoon: {colorscheme: 'chain'}});
    viewer.setStyle({hetflag: true}, {stick: {colorscheme: 'greenCarbon', radius: 0.2}});
    viewer.setStyle({resn: WATER}, {});
    viewer.zoomTo();
    viewer.render();
    msg.textContent = spec.caption || 'Drag to rotate, scroll to zoom.';
  } catch (err) {
    msg.textContent = '3D viewer unavailable: ' + err;
  }
};
draw();
watch('value', draw);
"""


def make_structure_viewer(**kwargs: Any):
    """The 3D structure view; set its value with :func:`viewer_value`."""
    import gradio as gr

    return gr.HTML(value="", html_template=_TEMPLATE, js_on_load=_JS_ON_LOAD, head=viewer3d.head_html(), **kwargs)


def viewer_value(report: StructureReport, text: str) -> str:
    """The viewer's value for a readable structure (its text and format), or "" with no 3D for a refused one."""
    if not report.ok:
        return ""
    if report.atoms > MAX_VIEWER_ATOMS:
        caption = (f"{report.atoms:,} atoms: too many to show in 3D here (the viewer takes up to "
                   f"{MAX_VIEWER_ATOMS:,}); the chains and ligands are listed below.")  # fmt: skip
        return json.dumps({"format": report.format, "data": "", "caption": caption})
    chains = ", ".join(chain.id for chain in report.chains)
    caption = f"{report.input}: chains {chains} as cartoons (coloured by chain), ligands as sticks. Drag to rotate."
    return json.dumps({"format": report.format, "data": text, "caption": caption})


def structure_card(report: StructureReport) -> str:
    """An HTML card: the report's display rows (file, format, atoms, one row per chain, ligands) and the sequences."""
    if not report.ok:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>"
        for label, value in report.display_rows()
    )
    sequences = "".join(
        f"<div><code>&gt;{html.escape(chain.header)}</code><br><code>{html.escape(_preview(chain.sequence))}</code></div>"
        for chain in report.chains
    )
    return (
        "<div class='structure-card'><div class='mol-title'>Structure</div>"
        f"<table>{rows}</table><details><summary>Sequences (FASTA)</summary>{sequences}</details></div>"
    )


def _preview(sequence: str) -> str:
    return sequence if len(sequence) <= _PREVIEW_CHARS else sequence[: _PREVIEW_CHARS - 1] + "…"


def _panel(report: StructureReport, text: str) -> tuple[str, str, str]:
    if not report.ok:
        return f"**Not shown:** {escape_text(report.error or 'the structure could not be read')}", "", ""
    chains = ", ".join(f"{chain.id} ({chain.length:,} {'aa' if chain.kind == 'protein' else 'nt'})"
                       for chain in report.chains)  # fmt: skip
    ligands = ", ".join(ligand.name for ligand in report.ligands) or "none"
    status = f"**{escape_text(report.input)}** · chains {escape_text(chains)} · ligands: {escape_text(ligands)}"
    notes = "".join(f"\n\n*{escape_text(warning)}*" for warning in report.warnings)
    return status + notes, structure_card(report), viewer_value(report, text)


def structure_panel(path: str | None, name: str | None = None) -> tuple[str, str, str]:
    """The Protein tab for an uploaded .pdb / .cif: (status markdown, card HTML, viewer value)."""
    if not path:
        return STRUCTURE_PROMPT, "", ""
    report = science_tools.read_structure(path, name=name or Path(path).name)
    text = Path(path).read_text(encoding="utf-8-sig") if report.ok else ""
    return _panel(report, text)


def structure_text_panel(text: str | None) -> tuple[str, str, str]:
    """The Protein tab for pasted PDB / mmCIF text: (status markdown, card HTML, viewer value)."""
    if not (text or "").strip():
        return STRUCTURE_PROMPT, "", ""
    pasted = text if ("\n" in text or "\r" in text) else text + "\n"  # a one-line paste is text, never a path
    return _panel(science_tools.read_structure(pasted), pasted)


def insert_structure(path: str | None, text: str | None, box: dict[str, Any] | None) -> dict[str, Any]:
    """Append the structure's FASTA blocks (one per chain, headed by file and chain) to the chat box.

    Raises:
        gr.Error: when there is no structure, or it cannot be read (with the reason).
    """
    import gradio as gr

    if path:
        report = science_tools.read_structure(path, name=Path(path).name)
    elif (text or "").strip():
        report = science_tools.read_structure(text if "\n" in text else text + "\n")
    else:
        raise gr.Error("no structure yet: upload a .pdb / .cif file or paste one", print_exception=False)
    if not report.ok:
        raise gr.Error(f"not inserted: {report.error}", print_exception=False)
    box = box or {}
    current = (box.get("text") or "").rstrip()
    prefix = current + "\n" if current else "Tell me about this structure:\n"
    return {"text": prefix + structure_prompt_text(report), "files": list(box.get("files") or [])}


def attached_structure(history: History) -> tuple[Any, Any, Any]:
    """The Protein tab for the last structure attached to the newest chat turn (no change when it has none)."""
    import gradio as gr

    turn = history.last
    structures = [a for a in (turn.attachments if turn else []) if a.kind == "structure"]
    if not structures:
        return gr.skip(), gr.skip(), gr.skip()
    return structure_panel(structures[-1].path, structures[-1].name)


@dataclass
class StructurePanel:
    """The Protein tab's structure components (see :func:`make_structure_panel`)."""

    file: Any
    text: Any
    status: Any
    card: Any
    viewer: Any
    ask: Any

    @property
    def outputs(self) -> list[Any]:
        return [self.status, self.card, self.viewer]


def make_structure_panel() -> StructurePanel:
    """Upload, paste box, status, card, 3D view and "Ask" for a structure (build inside a ``gr.Blocks``)."""
    import gradio as gr

    file = gr.File(label="…or a .pdb / .cif structure (3D view, chains, ligands)",
                   file_types=list(STRUCTURE_EXTENSIONS), height=80, elem_id="structure-file")  # fmt: skip
    text = gr.Textbox(label="…or paste PDB / mmCIF text", lines=2, max_lines=6, elem_id="structure-text")
    status = gr.Markdown(STRUCTURE_PROMPT, elem_id="structure-status")
    viewer = make_structure_viewer(elem_id="structure3d")
    card = gr.HTML(elem_id="structure-card", css_template=_CARD_CSS)
    ask = gr.Button("Ask about this structure", size="sm", elem_id="ask-structure")
    return StructurePanel(file, text, status, card, viewer, ask)


def wire_structure_panel(panel: StructurePanel, box: Any, **private: Any) -> None:
    """Upload, clear and paste update the panel; "Ask" appends the chains to the chat ``box``."""
    panel.file.upload(structure_panel, [panel.file], panel.outputs, **private)
    panel.file.clear(lambda: (STRUCTURE_PROMPT, "", ""), None, panel.outputs, **private)
    panel.text.change(structure_text_panel, [panel.text], panel.outputs, trigger_mode="always_last", **private)
    panel.ask.click(insert_structure, [panel.file, panel.text, box], [box], **private)
