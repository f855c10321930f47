"""HTML cards for the science in answers and panels: RDKit pictures and ``science_tools`` display rows.

Every number on a card comes from a report's ``display_rows()`` (labels with units, one formatter), so cards,
panels and exports agree. Pictures come only from RDKit (via ``science_tools``) and are embedded as
``<img src="data:image/svg+xml;base64,…">``, so even a hostile SVG could not run script.

In the chat, the science of one answer is one compact grid of thumbnails (:func:`science_grid`); each thumbnail is a
``<details>`` element that opens, without script, into the full card (bigger drawing, every property). Colours come
from Gradio's theme variables, so cards read in light and dark mode; only the drawing keeps its white paper, as
RDKit draws black bonds. Cards are cached: the chat is re-rendered many times while an answer streams.
"""

from __future__ import annotations

import base64
import html
from functools import lru_cache

import science_tools
from app.chat.history import Found


__all__ = [
    "CARD_CSS",
    "molecule_card",
    "reaction_card",
    "science_grid",
    "sequence_card",
    "svg_data_uri",
    "thumbnail_for",
]

_SEQUENCE_KINDS = ("protein", "dna", "rna")
_PREVIEW_CHARS = 60
_THUMB_PREVIEW_CHARS = 24


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _rows_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{_escape(label)}</th><td>{_escape(value)}</td></tr>" for label, value in rows)
    return f"<table class='sci-rows'>{cells}</table>"


def _picture(svg: str, alt: str, css_class: str) -> str:
    return f"<img class='{css_class}' alt='{_escape(alt)}' src='{svg_data_uri(svg)}'>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def molecule_card(smiles: str, *, title: str = "") -> str | None:
    """A card with the RDKit 2D drawing, canonical SMILES, formula and molecular weight; None if invalid."""
    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return None
    rows = dict(report.display_rows())
    weight_label = science_tools.label("molecular_weight")
    svg = science_tools.draw_molecule_svg(report.canonical_smiles)
    heading = f"<div class='mol-title'>{_escape(title)}</div>" if title else ""
    caption = (
        f"<div class='mol-caption'><code>{_escape(report.canonical_smiles)}</code><br>"
        f"{_escape(report.formula or '')} · {_escape(weight_label)} {_escape(rows.get(weight_label, ''))}</div>"
    )
    return f"<div class='mol-card sci-panel-card'>{heading}{_picture(svg, report.canonical_smiles, 'sci-picture')}{caption}</div>"


def _drawn_reaction(reaction: str) -> tuple[science_tools.ReactionReport, str] | None:
    """(the reaction report, RDKit's SVG of it), or None when the reaction is invalid or cannot be drawn."""
    report = science_tools.check_reaction(reaction)
    if not report.ok:
        return None
    try:
        return report, science_tools.draw_reaction_svg(reaction)
    except ValueError:
        return None


def reaction_card(reaction: str, *, rows: bool = True) -> str | None:
    """A card with the RDKit drawing of a reaction and (``rows``) one row per component with formula and MW;
    None if invalid. The SMILES panel leaves the rows to its property table."""
    drawn = _drawn_reaction(reaction)
    if drawn is None:
        return None
    report, svg = drawn
    table = (
        _rows_table(report.display_rows())
        if rows
        else f"<div class='mol-caption'><code>{_escape(reaction)}</code></div>"
    )
    return f"<div class='reaction-card sci-panel-card'>{_picture(svg, 'reaction', 'sci-picture')}{table}</div>"


def sequence_card(sequence: str, *, notes: bool = True) -> str | None:
    """A property table for a protein / DNA / RNA sequence (ProtParam or nucleotide card); None if invalid.

    ``notes=False`` leaves out the warnings row (the sequence panel shows them in its status).
    """
    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return None
    preview = _shorten(report.sequence, _PREVIEW_CHARS)
    kind_label = science_tools.label("kind")
    hidden = {kind_label} | (set() if notes else {science_tools.label("warnings")})
    rows = [(label, value) for label, value in report.display_rows() if label not in hidden]
    kind = dict(report.display_rows()).get(kind_label, "Sequence")
    header = f" · {_escape(report.header)}" if report.header else ""
    return (
        f"<div class='seq-card sci-panel-card'><div class='mol-title'>{_escape(kind)}{header}</div>"
        f"<code class='seq-preview'>{_escape(preview)}</code>{_rows_table(rows)}</div>"
    )


# ---- the chat's grid of thumbnails -------------------------------------------------------------------------------


def _tile(kind_class: str, thumb: str, name: str, subtitle: str, detail: str) -> str:
    """One thumbnail that opens into its full card (``<details>``: no script needed)."""
    return (
        f"<details class='sci-tile {kind_class}'><summary title='{_escape(name)}'>{thumb}"
        f"<span class='sci-name'>{_escape(_shorten(name, 40))}</span>"
        f"<span class='sci-sub'>{_escape(subtitle)}</span></summary>"
        f"<div class='sci-detail'>{detail}</div></details>"
    )


def _molecule_tile(smiles: str, origin: str = "") -> str | None:
    """A molecule's tile; ``origin`` says where a structure the answer did not write out came from (a name)."""
    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return None
    weight = dict(report.display_rows()).get(science_tools.label("molecular_weight"), "")
    svg = science_tools.draw_molecule_svg(report.canonical_smiles)
    thumb = _picture(svg, report.canonical_smiles, "sci-thumb")
    heading = f"<div class='mol-title'>Structure {_escape(origin)}</div>" if origin else ""
    detail = heading + _picture(svg, report.canonical_smiles, "sci-picture") + _rows_table(report.display_rows())
    subtitle = f"{report.formula} · {weight} g/mol" + (f" · {origin}" if origin else "")
    return _tile("mol-tile", thumb, report.canonical_smiles, subtitle, detail)


def _reaction_tile(reaction: str) -> str | None:
    drawn = _drawn_reaction(reaction)
    if drawn is None:
        return None
    report, svg = drawn
    components = report.to_dict()
    subtitle = f"{len(components['reactants'])} reactant(s) → {len(components['products'])} product(s)"
    detail = _picture(svg, reaction, "sci-picture") + _rows_table(report.display_rows())
    return _tile("reaction-tile", _picture(svg, reaction, "sci-thumb"), reaction, subtitle, detail)


def _sequence_tile(sequence: str) -> str | None:
    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return None
    rows = dict(report.display_rows())
    kind = rows.get(science_tools.label("kind"), "Sequence")
    length_label = science_tools.label("length", report.kind)
    unit = length_label[length_label.rfind("(") + 1 : -1] if "(" in length_label else ""
    preview = f"<code class='sci-thumb seq-thumb'>{_escape(_shorten(report.sequence, _THUMB_PREVIEW_CHARS))}</code>"
    detail = sequence_card(sequence) or ""
    return _tile("seq-tile", preview, kind, f"{rows.get(length_label, '?')} {unit}".strip(), detail)


@lru_cache(maxsize=256)
def thumbnail_for(found: Found) -> str | None:
    """The grid tile for a molecule, reaction or sequence found in an answer (None when it cannot be drawn)."""
    if found.kind == "reaction":
        return _reaction_tile(found.text)
    if found.kind in _SEQUENCE_KINDS:
        return _sequence_tile(found.text)
    return _molecule_tile(found.text, origin=found.origin)


def science_grid(found: list[Found]) -> str | None:
    """The science of one answer as one grid of thumbnails, each drawn once; None when nothing can be drawn."""
    tiles = [tile for tile in (thumbnail_for(item) for item in found) if tile]
    if not tiles:
        return None
    return f"<div class='sci-grid'>{''.join(tiles)}</div>"


# Theme variables (Gradio sets them for light and dark): text, block background, borders. The drawings keep a
# white "paper" because RDKit draws dark bonds on white.
CARD_CSS = """
.sci-panel-card, .sci-tile { color: var(--body-text-color); background: var(--block-background-fill);
  border: 1px solid var(--border-color-primary); border-radius: 8px; box-sizing: border-box; max-width: 100%; }
.sci-panel-card { display: block; margin: 4px 0; padding: 8px; overflow-x: auto; }
.sci-picture { display: block; max-width: 100%; height: auto; background: #fff; border-radius: 6px;
  margin: 0 auto 6px !important; }
.sci-panel-card .sci-picture { width: 320px; }
.reaction-card .sci-picture, .reaction-tile[open] .sci-picture { width: 640px; }
.mol-caption { font-size: 0.85em; overflow-wrap: anywhere; color: var(--body-text-color); }
.mol-title { font-weight: 600; font-size: 0.9em; margin-bottom: 4px; overflow-wrap: anywhere; }
.seq-preview { display: block; overflow-wrap: anywhere; margin-bottom: 4px; }
table.sci-rows { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 0.82em; border: 0 !important; }
table.sci-rows th, table.sci-rows td { text-align: left; vertical-align: top; padding: 2px 4px; overflow-wrap: anywhere;
  border: 0 !important; color: var(--body-text-color); background: transparent; }
table.sci-rows tr { border: 0 !important; }
table.sci-rows tr + tr > * { border-top: 1px solid var(--border-color-primary) !important; }
table.sci-rows th { font-weight: 500; width: 45%; color: var(--body-text-color-subdued); }
.sci-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; width: min(620px, 78vw);
  max-width: 100%; box-sizing: border-box; }
.sci-tile { padding: 6px; min-width: 0; }
.sci-tile > summary { cursor: pointer; list-style: none; display: flex; flex-direction: column; gap: 2px;
  min-width: 0; }
.sci-tile > summary::-webkit-details-marker { display: none; }
.sci-tile .sci-thumb { display: block; width: 100%; max-width: 100%; box-sizing: border-box; height: 96px;
  margin: 0; object-fit: contain; background: #fff; border-radius: 6px; }
.sci-tile code.seq-thumb { height: auto; min-height: 40px; padding: 4px; overflow-wrap: anywhere;
  background: var(--background-fill-secondary); color: var(--body-text-color); font-size: 0.8em; }
.sci-name { font-family: var(--font-mono); font-size: 0.78em; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.sci-sub { font-size: 0.78em; color: var(--body-text-color-subdued); }
.reaction-tile { grid-column: 1 / -1; }
.sci-tile[open] { grid-column: 1 / -1; }
.sci-tile[open] > summary .sci-thumb { display: none; }
.sci-detail { margin-top: 6px; }
.sci-detail .seq-card { border: none; padding: 0; }
"""
