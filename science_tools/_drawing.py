"""2D pictures with RDKit: one molecule (SVG or PNG), a grid of molecules, a reaction.

Every SVG returned is checked to be well-formed XML with no script, foreignObject, event-handler attribute or
``javascript:`` link, so the app can inline it in HTML. Invalid input never raises: it yields a small picture
that states the problem (root element class ``science-tools-error``), because a picture slot needs a picture.
"""

import io
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html import escape

from rdkit import Chem
from rdkit.Chem import rdChemReactions
from rdkit.Chem.Draw import rdMolDraw2D

from ._limits import MAX_DEPICTION_HEAVY_ATOMS, MAX_GRID_CELL_HEAVY_ATOMS, MAX_GRID_MOLECULES, require_str
from ._molecules import check_smiles, parse_smiles
from ._rdkit_log import captured_rdkit_log
from ._reactions import reaction_problem


__all__ = ["draw_grid_svg", "draw_molecule_svg", "draw_reaction_svg", "molecule_png", "svg_is_safe"]

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "object", "embed"}
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MIN_SIDE, _MAX_SIDE = 50, 4000


def svg_is_safe(svg: str) -> bool:
    """True when ``svg`` is well-formed XML without scripts, event attributes or ``javascript:`` links."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return False
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments / processing instructions
            continue
        if element.tag.rsplit("}", 1)[-1].lower() in _FORBIDDEN_TAGS:
            return False
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or (local == "href" and value.strip().lower().startswith("javascript:")):
                return False
    return True


def _clean_label(text: str) -> str:
    """Replace characters XML and RDKit cannot carry (control characters, lone surrogates) with U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


def _error_svg(message: str, width: int = 320, height: int = 120) -> str:
    message = _clean_label(message)
    lines = textwrap.wrap(message, width=max(20, width // 8))[:8] or ["invalid input"]
    tspans = "".join(
        f'<tspan x="10" dy="{18 if n else 0}">{escape(line, quote=True)}</tspan>' for n, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="science-tools-error" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" fill="#fff4f4" stroke="#c00"/>'
        f'<text x="10" y="24" font-family="sans-serif" font-size="13" fill="#900">{tspans}</text></svg>'
    )


def _finish_svg(svg: str, width: int, height: int) -> str:
    svg = _XML_DECLARATION.sub("", svg).strip()  # meant for inlining in HTML
    if not svg_is_safe(svg):  # defence in depth; RDKit's writer escapes labels, but never trust a string
        return _error_svg("the drawing could not be verified as safe SVG", width, height)
    return svg


def _check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be int, got {type(value).__name__}")
        if not _MIN_SIDE <= value <= _MAX_SIDE:
            raise ValueError(f"{name} must be between {_MIN_SIDE} and {_MAX_SIDE} pixels, got {value}")


def _molecule_or_reason(smiles: str) -> tuple[Chem.Mol | None, str | None]:
    report = check_smiles(smiles, descriptors=False)
    if not report.ok:
        return None, f"Cannot draw: {report.error}"
    mol = parse_smiles(smiles.strip())
    if mol.GetNumHeavyAtoms() > MAX_DEPICTION_HEAVY_ATOMS:
        return None, (
            f"Cannot draw: {mol.GetNumHeavyAtoms()} heavy atoms; the depiction limit is {MAX_DEPICTION_HEAVY_ATOMS}"
        )
    return mol, None


def _configure(drawer, atom_indices: bool, stereo_annotation: bool) -> None:
    options = drawer.drawOptions()
    options.addAtomIndices = atom_indices
    options.addStereoAnnotation = stereo_annotation
    options.clearBackground = True


def _draw_one(drawer, mol: Chem.Mol, legend: str, highlight_atoms: Sequence[int]) -> None:
    highlight = sorted({int(i) for i in highlight_atoms if 0 <= int(i) < mol.GetNumAtoms()})
    with captured_rdkit_log():
        rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, legend=_clean_label(legend), highlightAtoms=highlight)
        drawer.FinishDrawing()


def _check_drawing_args(smiles: str, legend: str, highlight_atoms: Sequence[int], width: int, height: int) -> None:
    require_str(smiles, "smiles")
    require_str(legend, "legend")
    _check_size(width, height)
    if isinstance(highlight_atoms, str) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in highlight_atoms
    ):
        raise TypeError("highlight_atoms must be a sequence of int atom indices")


def draw_molecule_svg(
    smiles: str,
    *,
    width: int = 320,
    height: int = 240,
    highlight_atoms: Sequence[int] = (),
    atom_indices: bool = False,
    stereo_annotation: bool = True,
    legend: str = "",
) -> str:
    """Draw one molecule as an SVG string (RDKit ``MolDraw2DSVG``), ready to inline in HTML.

    Args:
        smiles: The molecule as SMILES.
        width: Picture width in pixels (50–4000).
        height: Picture height in pixels (50–4000).
        highlight_atoms: RDKit atom indices to highlight; indices outside the molecule are ignored.
        atom_indices: Write each atom's index next to it.
        stereo_annotation: Label stereocentres with CIP codes (R/S, E/Z).
        legend: Text drawn under the molecule.

    Returns:
        SVG markup without an XML declaration. For invalid SMILES or a molecule over
        ``MAX_DEPICTION_HEAVY_ATOMS``, an SVG (class ``science-tools-error``) stating the reason.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If width or height is out of range.
    """
    _check_drawing_args(smiles, legend, highlight_atoms, width, height)
    mol, reason = _molecule_or_reason(smiles)
    if mol is None:
        return _error_svg(reason, width, min(height, 160))
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    _configure(drawer, atom_indices, stereo_annotation)
    _draw_one(drawer, mol, legend, highlight_atoms)
    return _finish_svg(drawer.GetDrawingText(), width, height)


def _error_png(message: str, width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "#fff4f4")
    pen = ImageDraw.Draw(image)
    for row, line in enumerate(textwrap.wrap(message, width=max(20, width // 7))[: max(1, height // 16)]):
        pen.text((8, 8 + 16 * row), line, fill="#990000")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def molecule_png(
    smiles: str,
    *,
    width: int = 320,
    height: int = 240,
    highlight_atoms: Sequence[int] = (),
    atom_indices: bool = False,
    stereo_annotation: bool = True,
    legend: str = "",
) -> bytes:
    """Draw one molecule as PNG bytes (RDKit's Cairo drawer, re-encoded by Pillow without metadata).

    Args: as ``draw_molecule_svg``.

    Returns:
        PNG file bytes; for invalid input a PNG showing the reason.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If width or height is out of range.
    """
    from PIL import Image

    _check_drawing_args(smiles, legend, highlight_atoms, width, height)
    mol, reason = _molecule_or_reason(smiles)
    if mol is None:
        return _error_png(reason, width, height)
    drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
    _configure(drawer, atom_indices, stereo_annotation)
    _draw_one(drawer, mol, legend, highlight_atoms)
    image = Image.open(io.BytesIO(drawer.GetDrawingText()))
    out = io.BytesIO()
    image.save(out, format="PNG")  # drops RDKit's embedded molecule metadata
    return out.getvalue()


def draw_grid_svg(
    smiles_list: Sequence[str],
    *,
    legends: Sequence[str] | None = None,
    mols_per_row: int = 4,
    cell_width: int = 200,
    cell_height: int = 200,
) -> str:
    """Draw several molecules in a grid, one SVG.

    Args:
        smiles_list: SMILES strings; at most ``MAX_GRID_MOLECULES`` are drawn (the rest are dropped).
        legends: One caption per molecule; defaults to the SMILES. Invalid molecules, and molecules over
            ``MAX_GRID_CELL_HEAVY_ATOMS``, get an empty cell captioned "invalid: <reason>".
        mols_per_row: Cells per row (1–12).
        cell_width: Width of one cell in pixels.
        cell_height: Height of one cell in pixels.

    Returns:
        SVG markup without an XML declaration.

    Raises:
        TypeError: If ``smiles_list`` / ``legends`` are not sequences of str or a size is not int.
        ValueError: If sizes are out of range or ``legends`` has a different length.
    """
    if isinstance(smiles_list, str) or not all(isinstance(s, str) for s in smiles_list):
        raise TypeError("smiles_list must be a sequence of str")
    if legends is not None and (isinstance(legends, str) or not all(isinstance(s, str) for s in legends)):
        raise TypeError("legends must be a sequence of str")
    if legends is not None and len(legends) != len(smiles_list):
        raise ValueError(f"got {len(legends)} legends for {len(smiles_list)} molecules")
    if not isinstance(mols_per_row, int) or not 1 <= mols_per_row <= 12:
        raise ValueError(f"mols_per_row must be an int from 1 to 12, got {mols_per_row!r}")
    _check_size(cell_width, cell_height)
    items = list(smiles_list)[:MAX_GRID_MOLECULES]
    captions = list(legends)[: len(items)] if legends is not None else [s.strip()[:40] for s in items]
    if not items:
        return _error_svg("no molecules to draw", cell_width, 60)
    mols = []
    for index, smiles in enumerate(items):
        mol, reason = _molecule_or_reason(smiles)
        if mol is not None and mol.GetNumHeavyAtoms() > MAX_GRID_CELL_HEAVY_ATOMS:
            mol, reason = None, f"{mol.GetNumHeavyAtoms()} heavy atoms, over {MAX_GRID_CELL_HEAVY_ATOMS} per cell"
        if mol is None:
            captions[index] = "invalid: " + reason.removeprefix("Cannot draw: ")[:60]
        mols.append(mol if mol is not None else Chem.Mol())
    rows = -(-len(mols) // mols_per_row)
    columns = min(mols_per_row, len(mols))
    drawer = rdMolDraw2D.MolDraw2DSVG(columns * cell_width, rows * cell_height, cell_width, cell_height)
    _configure(drawer, False, True)
    with captured_rdkit_log():
        drawer.DrawMolecules(mols, legends=[_clean_label(caption) for caption in captions])
        drawer.FinishDrawing()
    return _finish_svg(drawer.GetDrawingText(), columns * cell_width, rows * cell_height)


def draw_reaction_svg(reaction_smiles: str, *, width: int = 640, height: int = 220) -> str:
    """Draw reaction SMILES ``reactants>agents>products`` (e.g. ``CC(=O)O.OCC>>CC(=O)OCC``) as one SVG.

    Args:
        reaction_smiles: The reaction; every molecule in it must be valid SMILES.
        width: Picture width in pixels (50–4000).
        height: Picture height in pixels (50–4000).

    Returns:
        SVG markup without an XML declaration; for invalid input an SVG stating the reason.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If width or height is out of range.
    """
    require_str(reaction_smiles, "reaction_smiles")
    _check_size(width, height)
    problem = reaction_problem(reaction_smiles.strip())
    if problem:
        return _error_svg(f"Cannot draw reaction: {problem}", width, min(height, 160))
    with captured_rdkit_log() as log:
        try:
            reaction = rdChemReactions.ReactionFromSmarts(reaction_smiles.strip(), useSmiles=True)
        except ValueError:
            reaction = None
    if reaction is None:
        detail = log.lines[0] if log.lines else "RDKit could not parse it"
        return _error_svg(f"Cannot draw reaction: {detail}", width, min(height, 160))
    templates = [*reaction.GetReactants(), *reaction.GetAgents(), *reaction.GetProducts()]
    heavy = sum(template.GetNumHeavyAtoms() for template in templates)
    if heavy > MAX_DEPICTION_HEAVY_ATOMS:
        return _error_svg(
            f"Cannot draw reaction: {heavy} heavy atoms; the depiction limit is {MAX_DEPICTION_HEAVY_ATOMS}",
            width,
            min(height, 160),
        )
    with captured_rdkit_log():
        drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
        _configure(drawer, False, True)
        drawer.DrawReaction(reaction)
        drawer.FinishDrawing()
    return _finish_svg(drawer.GetDrawingText(), width, height)
