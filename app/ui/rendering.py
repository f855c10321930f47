"""What the page shows for model text and science: sanitised markdown, molecule cards, protein cards.

Model text is untrusted: HTML in it is escaped (shown as text, never parsed) and links with script-capable
schemes are disarmed before Gradio's own sanitiser sees it. Molecule pictures come only from RDKit (via
``science_tools``) and are embedded as ``<img src="data:image/svg+xml;base64,…">``, so even a hostile SVG
could not run script.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Any


MAX_CARDS_PER_ANSWER = 8
_CODE = re.compile(r"(```.*?(?:```|\Z)|`[^`\n]*`)", re.DOTALL)
_UNSAFE_LINK = re.compile(r"\]\(\s*(?:javascript|vbscript|data|file):", re.IGNORECASE)
_SMILES_TAG = re.compile(r"<SMILES>\s*(.*?)\s*</SMILES>", re.DOTALL)
_PROTEIN_KINDS = ("protein", "dna", "rna")


def sanitize_markdown(text: str) -> str:
    """Escape HTML outside code (markdown shows code verbatim already) and disarm script links."""
    parts = _CODE.split(text)
    safe = []
    for index, part in enumerate(parts):
        is_code = index % 2 == 1
        safe.append(part if is_code else html.escape(part, quote=False))
    return _UNSAFE_LINK.sub("](#unsafe-link-removed:", "".join(safe))


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return html.escape(str(value)) if value is not None else "–"


@dataclass(frozen=True)
class ScienceItem:
    """A molecule, reaction or sequence found in an answer, ready to show."""

    kind: str  # "smiles", "reaction", "protein", "dna", "rna"
    text: str
    html: str


def molecule_card(smiles: str, *, title: str = "") -> str | None:
    """An HTML card with the RDKit 2D drawing, canonical SMILES, formula and MW; None if invalid."""
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return None
    svg = science_tools.draw_molecule_svg(report.canonical_smiles)
    weight = report.descriptors.get("molecular_weight")
    caption = (
        f"<div class='mol-caption'><code>{html.escape(report.canonical_smiles)}</code><br>"
        f"{html.escape(report.formula or '')} · MW {_fmt(weight)} g/mol</div>"
    )
    heading = f"<div class='mol-title'>{html.escape(title)}</div>" if title else ""
    return (
        f"<div class='mol-card'>{heading}<img alt='{html.escape(report.canonical_smiles, quote=True)}' "
        f"src='{svg_data_uri(svg)}' width='260'>{caption}</div>"
    )


def reaction_card(reaction: str) -> str | None:
    """An HTML card with the RDKit drawing of a reaction SMILES; None if any part is invalid."""
    import science_tools

    sides = reaction.split(">")
    if len(sides) != 3:
        return None
    parts = [part for side in sides for part in side.split(".") if part]
    if not parts or not all(science_tools.check_smiles(part).ok for part in parts):
        return None
    try:
        svg = science_tools.draw_reaction_svg(reaction)
    except ValueError:
        return None
    return (
        f"<div class='reaction-card'><img alt='reaction' src='{svg_data_uri(svg)}' width='520'>"
        f"<div class='mol-caption'><code>{html.escape(reaction)}</code></div></div>"
    )


def sequence_card(sequence: str) -> str | None:
    """A ProtParam (or nucleotide) property table for a sequence; None if invalid."""
    import science_tools

    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return None
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{_fmt(value)}</td></tr>"
        for name, value in report.properties.items()
        if not isinstance(value, dict | list | tuple)
    )
    preview = report.sequence if len(report.sequence) <= 60 else report.sequence[:57] + "…"
    return (
        f"<div class='seq-card'><div class='mol-title'>{html.escape(report.kind or 'sequence')} · "
        f"{len(report.sequence)} residues</div><code>{html.escape(preview)}</code>"
        f"<table>{rows}</table></div>"
    )


def _candidate_spans(text: str) -> list[tuple[str, str]]:
    import science_tools

    found = [("smiles", match.group(1)) for match in _SMILES_TAG.finditer(text)]
    found += [(span.kind, span.text) for span in science_tools.find_spans(text)]
    unique: list[tuple[str, str]] = []
    for kind, value in found:
        if (kind, value) not in unique and kind != "formula":
            unique.append((kind, value))
    return unique


def science_items(text: str) -> list[ScienceItem]:
    """Every valid molecule, reaction and sequence in ``text`` (tagged or auto-detected), as cards."""
    items: list[ScienceItem] = []
    for kind, value in _candidate_spans(text):
        if len(items) >= MAX_CARDS_PER_ANSWER:
            break
        if kind == "reaction" or (kind == "smiles" and ">" in value):
            card = reaction_card(value)
        elif kind in _PROTEIN_KINDS:
            card = sequence_card(value)
        else:
            card = molecule_card(value)
        if card is not None:
            items.append(ScienceItem(kind=kind, text=value, html=card))
    return items


def descriptor_rows(descriptors: dict[str, Any]) -> list[list[str]]:
    """Rows for the descriptor table of the SMILES panel."""
    return [[name.replace("_", " "), _fmt(value)] for name, value in descriptors.items()]


CARD_CSS = """
.mol-card, .seq-card, .reaction-card { display: inline-block; margin: 4px; padding: 6px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: white; color: #222; vertical-align: top; }
.mol-card img { display: block; }
.mol-caption { font-size: 0.85em; max-width: 260px; word-break: break-all; }
.mol-title { font-weight: 600; font-size: 0.9em; }
.reaction-card .arrow { font-size: 2em; padding: 0 8px; vertical-align: middle; }
.seq-card table { font-size: 0.8em; }
"""
