"""HTML cards for the science in answers and panels: RDKit pictures and ``science_tools`` display rows.

Every number on a card comes from a report's ``display_rows()`` (labels with units, one formatter), so cards,
panels and exports agree. Pictures come only from RDKit (via ``science_tools``) and are embedded as
``<img src="data:image/svg+xml;base64,…">``, so even a hostile SVG could not run script. Cards are cached: the
chat is re-rendered many times while an answer streams.
"""

from __future__ import annotations

import base64
import html
from functools import lru_cache

import science_tools
from app.chat.history import Found


__all__ = ["CARD_CSS", "card_for", "molecule_card", "reaction_card", "sequence_card", "svg_data_uri"]

_SEQUENCE_KINDS = ("protein", "dna", "rna")
_PREVIEW_CHARS = 60


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _rows_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>" for label, value in rows)
    return f"<table>{cells}</table>"


def molecule_card(smiles: str, *, title: str = "") -> str | None:
    """An HTML card with the RDKit 2D drawing, canonical SMILES, formula and molecular weight; None if invalid."""
    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return None
    rows = dict(report.display_rows())
    weight_label = science_tools.label("molecular_weight")
    svg = science_tools.draw_molecule_svg(report.canonical_smiles)
    caption = (
        f"<div class='mol-caption'><code>{html.escape(report.canonical_smiles)}</code><br>"
        f"{html.escape(report.formula or '')} · {html.escape(weight_label)} {html.escape(rows.get(weight_label, ''))}"
        "</div>"
    )
    heading = f"<div class='mol-title'>{html.escape(title)}</div>" if title else ""
    return (
        f"<div class='mol-card'>{heading}<img alt='{html.escape(report.canonical_smiles, quote=True)}' "
        f"src='{svg_data_uri(svg)}' width='260'>{caption}</div>"
    )


def reaction_card(reaction: str) -> str | None:
    """An HTML card with the RDKit drawing of a reaction SMILES; None if any part is invalid."""
    sides = reaction.split(">")
    parts = [part for side in sides for part in side.split(".") if part]
    if len(sides) != 3 or not parts or not all(science_tools.check_smiles(part).ok for part in parts):
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
    """A property table for a protein / DNA / RNA sequence (ProtParam or nucleotide card); None if invalid."""
    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return None
    cleaned = report.sequence
    preview = cleaned if len(cleaned) <= _PREVIEW_CHARS else cleaned[: _PREVIEW_CHARS - 3] + "…"
    rows = [(label, value) for label, value in report.display_rows() if label != science_tools.label("kind")]
    kind = dict(report.display_rows()).get(science_tools.label("kind"), "Sequence")
    return (
        f"<div class='seq-card'><div class='mol-title'>{html.escape(kind)}</div><code>{html.escape(preview)}</code>"
        f"{_rows_table(rows)}</div>"
    )


@lru_cache(maxsize=256)
def card_for(found: Found) -> str | None:
    """The card for a molecule, reaction or sequence found in an answer (None when it cannot be drawn)."""
    if found.kind == "reaction":
        return reaction_card(found.text)
    if found.kind in _SEQUENCE_KINDS:
        return sequence_card(found.text)
    return molecule_card(found.text, title=f"Structure {found.origin}" if found.origin else "")


CARD_CSS = """
.mol-card, .seq-card, .reaction-card { display: inline-block; margin: 4px; padding: 6px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: white; color: #222; vertical-align: top; }
.mol-card img { display: block; }
.mol-caption { font-size: 0.85em; max-width: 260px; word-break: break-all; }
.mol-title { font-weight: 600; font-size: 0.9em; }
.seq-card table { font-size: 0.8em; }
"""
