"""Pictures: SVG is well-formed and script-free, options change the drawing, errors become pictures."""

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

import science_tools as st
from science_tools._drawing import svg_is_safe


SVG_NS = "{http://www.w3.org/2000/svg}"


def _assert_safe_svg(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG_NS}svg"
    for element in root.iter():
        assert element.tag.rsplit("}", 1)[-1].lower() not in {"script", "foreignobject"}
        assert not any(name.rsplit("}", 1)[-1].lower().startswith("on") for name in element.attrib)
    return root


@pytest.mark.parametrize(
    "smiles", ["CCO", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "c1ccc2ccccc2c1", "F/C=C/F", "[2H]C([2H])([2H])[2H]"]
)
def test_molecule_svg_is_well_formed_and_safe(smiles):
    svg = st.draw_molecule_svg(smiles)
    _assert_safe_svg(svg)
    assert not svg.startswith("<?xml")
    assert "science-tools-error" not in svg


def test_size_option_sets_the_svg_size():
    root = _assert_safe_svg(st.draw_molecule_svg("CCO", width=500, height=400))
    assert (root.get("width"), root.get("height")) == ("500px", "400px")


def test_atom_indices_and_stereo_annotation_change_the_drawing():
    plain = st.draw_molecule_svg("C[C@H](N)C(=O)O", stereo_annotation=False)
    assert "CIP_Code" not in plain and "class='note'" not in plain
    assert "CIP_Code" in st.draw_molecule_svg("C[C@H](N)C(=O)O", stereo_annotation=True)
    assert "class='note'" in st.draw_molecule_svg("C[C@H](N)C(=O)O", stereo_annotation=False, atom_indices=True)


def test_highlight_draws_highlight_shapes_and_ignores_foreign_indices():
    plain = st.draw_molecule_svg("CCO")
    highlighted = st.draw_molecule_svg("CCO", highlight_atoms=[0, 1, 42])
    assert highlighted != plain
    assert "#FF7F7F" in highlighted  # RDKit's default highlight colour


def test_legend_text_cannot_inject_markup():
    svg = st.draw_molecule_svg("CCO", legend='<script>alert(1)</script><g onload="x()">')
    _assert_safe_svg(svg)
    assert "<script" not in svg and "onload" not in svg


@pytest.mark.parametrize(("smiles", "reason"), [("C1CC", "unclosed ring 1"), ("", "empty input"), ("<b>x", "")])
def test_invalid_smiles_gives_an_error_picture(smiles, reason):
    svg = st.draw_molecule_svg(smiles)
    root = _assert_safe_svg(svg)
    assert root.get("class") == "science-tools-error"
    assert reason in "".join(root.itertext())


def test_error_picture_escapes_user_text():
    svg = st.draw_molecule_svg('C[<script>alert("x")</script>]')
    _assert_safe_svg(svg)
    assert "<script>" not in svg


def test_depiction_limit(monkeypatch):
    monkeypatch.setattr("science_tools._drawing.MAX_DEPICTION_HEAVY_ATOMS", 5)
    root = _assert_safe_svg(st.draw_molecule_svg("CCCCCCCC"))
    assert "8 heavy atoms; the depiction limit is 5" in " ".join(root.itertext())


def test_svg_checker_rejects_scripts_and_handlers():
    ns = 'xmlns="http://www.w3.org/2000/svg"'
    assert svg_is_safe(f"<svg {ns}><rect/></svg>")
    assert not svg_is_safe(f"<svg {ns}><script>alert(1)</script></svg>")
    assert not svg_is_safe(f'<svg {ns}><rect onclick="x()"/></svg>')
    assert not svg_is_safe(f'<svg {ns} xmlns:xl="http://www.w3.org/1999/xlink"><a xl:href="javascript:x()"/></svg>')
    assert not svg_is_safe(f"<svg {ns}><foreignObject/></svg>")
    assert not svg_is_safe("<svg><unclosed></svg>")


def test_png_is_a_png_of_the_requested_size():
    png = st.molecule_png("c1ccccc1O", width=300, height=200)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (300, 200)
    error_png = Image.open(io.BytesIO(st.molecule_png("C1CC", width=300, height=200)))
    assert error_png.format == "PNG" and error_png.size == (300, 200)


def test_drawing_is_deterministic():
    assert st.draw_molecule_svg("CC(=O)Oc1ccccc1C(=O)O") == st.draw_molecule_svg("CC(=O)Oc1ccccc1C(=O)O")
    assert st.molecule_png("CCO") == st.molecule_png("CCO")


def test_grid_marks_invalid_molecules_and_is_safe():
    svg = st.draw_grid_svg(["CCO", "C1CC", "c1ccccc1"], mols_per_row=2, cell_width=150, cell_height=120)
    root = _assert_safe_svg(svg)
    assert (root.get("width"), root.get("height")) == ("300px", "240px")
    assert "science-tools-error" not in svg


def test_grid_caps_the_number_of_molecules():
    root = _assert_safe_svg(st.draw_grid_svg(["C"] * 100, mols_per_row=12, cell_width=50, cell_height=50))
    rows = -(-st._limits.MAX_GRID_MOLECULES // 12)
    assert root.get("height") == f"{rows * 50}px"


def test_reaction_svg():
    root = _assert_safe_svg(st.draw_reaction_svg("CC(=O)O.OCC>>CC(=O)OCC"))
    assert root.get("class") != "science-tools-error"
    agents = _assert_safe_svg(st.draw_reaction_svg("CC(=O)O.OCC>[H+]>CC(=O)OCC.O"))
    assert agents.get("class") != "science-tools-error"


@pytest.mark.parametrize(
    ("reaction", "reason"),
    [
        ("CCO", "reactants>agents>products"),
        ("CC>>C1CC", "product 1 'C1CC' (at position 4): unclosed ring 1 (opened at position 5)"),
        (">>CC", "at least one reactant"),
        ("C..C>>CC", "empty molecule"),
        ("CC >> CC", "whitespace"),
    ],
)
def test_invalid_reaction_gives_an_error_picture(reaction, reason):
    root = _assert_safe_svg(st.draw_reaction_svg(reaction))
    assert root.get("class") == "science-tools-error"
    assert reason in " ".join(" ".join(root.itertext()).split())


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: st.draw_molecule_svg("CCO", width="300"), TypeError),
        (lambda: st.draw_molecule_svg("CCO", width=10), ValueError),
        (lambda: st.draw_molecule_svg("CCO", highlight_atoms="01"), TypeError),
        (lambda: st.draw_molecule_svg("CCO", colour="red"), TypeError),
        (lambda: st.draw_grid_svg("CCO"), TypeError),
        (lambda: st.draw_grid_svg(["CCO"], legends=["a", "b"]), ValueError),
        (lambda: st.draw_grid_svg(["CCO"], mols_per_row=0), ValueError),
    ],
)
def test_programmer_errors_raise(call, error):
    with pytest.raises(error):
        call()


def test_reaction_depiction_limit(monkeypatch):
    monkeypatch.setattr("science_tools._drawing.MAX_DEPICTION_HEAVY_ATOMS", 5)
    root = _assert_safe_svg(st.draw_reaction_svg("CCC.CCC>>CCCCCC"))
    assert "12 heavy atoms; the depiction limit is 5" in " ".join(root.itertext())


def test_grid_leaves_oversized_molecules_empty(monkeypatch):
    monkeypatch.setattr("science_tools._drawing.MAX_GRID_CELL_HEAVY_ATOMS", 3)
    with_big = st.draw_grid_svg(["CCCCCC", "CC"], legends=["x", "y"])
    empty_cell = st.draw_grid_svg(["", "CC"], legends=["x", "y"])
    # the 6-carbon molecule is replaced by an empty cell: only its caption differs from an invalid entry
    assert with_big.count("class='bond-") == empty_cell.count("class='bond-") == 1


@pytest.mark.parametrize("text", ["[\x01]", "C\x00", "[\ud800]", "C[\x0b]C"])
def test_error_picture_is_well_formed_even_with_control_characters(text):
    root = _assert_safe_svg(st.draw_molecule_svg(text))
    assert root.get("class") == "science-tools-error"


@pytest.mark.parametrize("legend", ["\ud800", "a\x00b", "\x1b[31m"])
def test_legends_with_unencodable_characters_are_drawn(legend):
    _assert_safe_svg(st.draw_molecule_svg("CCO", legend=legend))
    _assert_safe_svg(st.draw_grid_svg([legend, "CCO"], legends=[legend, legend]))
    assert st.molecule_png("CCO", legend=legend).startswith(b"\x89PNG")
