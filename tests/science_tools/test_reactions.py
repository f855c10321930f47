"""Reaction SMILES: every molecule checked and named by role, number and position in the text as typed."""

import json

import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

import science_tools as st


ESTERIFICATION = "CCO.CC(=O)O>[H+]>CCOC(C)=O.O"


def test_valid_reaction_lists_each_molecule_with_formula_and_weight():
    report = st.check_reaction(ESTERIFICATION)
    assert report.ok and report.error is None
    assert [c.text for c in report.reactants] == ["CCO", "CC(=O)O"]
    assert [c.text for c in report.agents] == ["[H+]"]
    assert [c.text for c in report.products] == ["CCOC(C)=O", "O"]
    ethanol = report.reactants[0]
    assert (ethanol.role, ethanol.index, ethanol.start) == ("reactant", 1, 0)
    assert ethanol.formula == "C2H6O"
    assert ethanol.molecular_weight == pytest.approx(Descriptors.MolWt(Chem.MolFromSmiles("CCO")))
    water = report.products[1]
    assert (water.role, water.index, ESTERIFICATION[water.start]) == ("product", 2, "O")
    assert report.canonical_smiles == ">".join(
        ".".join(Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in side.split("."))
        for side in ESTERIFICATION.split(">")
    )


def test_no_agents_is_fine():
    report = st.check_reaction("C=C.[H][H]>>CC")
    assert report.ok and report.agents == () and len(report.reactants) == 2


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("CC>>C1CC", "product 1 'C1CC' (at position 4): unclosed ring 1 (opened at position 5)", 5),
        ("  CC>>C1CC", "product 1 'C1CC' (at position 6): unclosed ring 1 (opened at position 7)", 7),
        ("CC.N(C)(C)(C)(C)C>>C", "reactant 2 'N(C)(C)(C)(C)C' (at position 3): atom 0 (N) has valence 5", 3),
        ("CC>Xx>C", "agent 1 'Xx' (at position 3): unknown element 'Xx' at position 3", 3),
        ("CC>>C C", "whitespace at position 5", 5),
        ("C..C>>C", "empty molecule between '.' separators in the reactants", 2),
        ("CC>C", "reaction SMILES needs the form reactants>agents>products", None),
        (">>CC", "at least one reactant and one product", None),
        ("", "empty input", None),
    ],
)
def test_invalid_reactions_name_the_molecule_and_position(text, message, position):
    report = st.check_reaction(text)
    assert not report.ok
    assert message in report.error
    assert report.error_position == position


def test_every_invalid_molecule_is_reported_not_only_the_first():
    report = st.check_reaction("C1CC.CCO>>Xx")
    assert [c.ok for c in report.components()] == [False, True, False]
    assert report.error.startswith("reactant 1 'C1CC'")
    assert "unknown element 'Xx'" in report.products[0].error


def test_reaction_limit():
    long = "C" * st.LIMITS["MAX_SMILES_LENGTH"] + ">>C"
    assert "the limit is 5000" in st.check_reaction(long).error


def test_check_smiles_points_reactions_to_check_reaction():
    report = st.check_smiles(ESTERIFICATION)
    assert not report.ok and report.input_format == "reaction"
    assert "reaction SMILES (reactants>agents>products)" in report.error and "check_reaction" in report.error
    markup = st.check_smiles("<SMILES>CCO</SMILES>")
    assert markup.input_format == "smiles" and "tags or HTML" in markup.error


@pytest.mark.parametrize(
    ("text", "kind"),
    [(ESTERIFICATION, "reaction"), (" CC>>CC ", "reaction"), ("CCO", "molecule"), ("<b>CC>>CC</b>", "molecule")],
)
def test_check_smiles_or_reaction_dispatches(text, kind):
    assert st.check_smiles_or_reaction(text).to_dict()["kind"] == kind


def test_reaction_dict_and_rows():
    data = st.check_reaction(ESTERIFICATION).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert list(data)[:3] == ["kind", "ok", "input"] and data["kind"] == "reaction"
    assert data["agents"][0] == {
        "role": "agent", "index": 1, "start": 12, "text": "[H+]", "ok": True, "canonical_smiles": "[H+]",
        "formula": "H+", "molecular_weight": pytest.approx(1.008, abs=1e-3), "error": None, "error_position": None,
    }  # fmt: skip
    rows = dict(st.check_reaction(ESTERIFICATION).display_rows())
    assert rows["Reaction SMILES (canonical)"] == data["canonical_smiles"]
    assert rows["Reactant 1"] == "CCO · C2H6O · 46.07 g/mol"
    assert rows["Product 2"] == "O · H2O · 18.02 g/mol"
    bad = dict(st.check_reaction("CC>>C1CC").display_rows())
    assert bad["Product 1"] == "C1CC (invalid: unclosed ring 1 (opened at position 5))"
    assert bad["Error"].startswith("product 1 'C1CC'")


def test_spans_and_drawing_still_agree_with_check_reaction():
    assert [s.kind for s in st.find_spans("Esterification: CCO.CC(=O)O>[H+]>CCOC(C)=O.O here")] == ["reaction"]
    assert 'class="science-tools-error"' not in st.draw_reaction_svg(ESTERIFICATION)
