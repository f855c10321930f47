"""check_smiles / check_molecule: verdicts and reasons on a table of valid and invalid SMILES."""

import pytest
from rdkit import Chem, rdBase

import science_tools as st


VALID = [
    ("CCO", "C2H6O"),
    ("c1ccccc1", "C6H6"),
    ("C1=CC=CC=C1", "C6H6"),
    ("CC(=O)Oc1ccccc1C(=O)O", "C9H8O4"),
    ("CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "C8H10N4O2"),
    ("CC(C)Cc1ccc(cc1)C(C)C(=O)O", "C13H18O2"),
    ("O=C=O", "CO2"),
    ("N#N", "N2"),
    ("[Na+].[Cl-]", "ClNa"),
    ("C[C@H](N)C(=O)O", "C3H7NO2"),
    ("N[C@@H](Cc1ccccc1)C(=O)O", "C9H11NO2"),
    ("C/C=C/C", "C4H8"),
    ("C1CCCCC1", "C6H12"),
    ("c1ccncc1", "C5H5N"),
    ("c1cc[nH]c1", "C4H5N"),
    ("o1cccc1", "C4H4O"),
    ("s1cccc1", "C4H4S"),
    ("[NH4+]", "H4N+"),
    ("[O-][N+](=O)c1ccccc1", "C6H5NO2"),
    ("C(Cl)(Cl)(Cl)Cl", "CCl4"),
    ("FC(F)(F)F", "CF4"),
    ("BrCCBr", "C2H4Br2"),
    ("ICI", "CH2I2"),
    ("[2H]C([2H])([2H])[2H]", "CH4"),  # isotopes are not separated in the formula (exact_mass has them)
    ("[13CH4]", "CH4"),
    ("c1ccc2ccccc2c1", "C10H8"),
    ("C1CC2CCC1CC2", "C8H14"),
    ("C%10CCCCC%10", "C6H12"),
    ("OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O", "C6H12O6"),
    ("CC(C)(C)OC(=O)N", "C5H11NO2"),
    ("[Fe+2]", "Fe+2"),
    ("[Cu]", "Cu"),
    ("P(=O)(O)(O)O", "H3O4P"),
    ("OS(=O)(=O)O", "H2O4S"),
    ("CS(=O)C", "C2H6OS"),
    ("C#C", "C2H2"),
    ("[H][H]", "H2"),
    ("[He]", "He"),
    ("B(O)(O)O", "H3BO3"),
    ("c1ccc(cc1)P(c1ccccc1)c1ccccc1", "C18H15P"),
    ("CC(=O)[O-].[Na+]", "C2H3NaO2"),
    ("c1ccc2[nH]ccc2c1", "C8H7N"),
    ("C[Si](C)(C)C", "C4H12Si"),
    ("Clc1ccccc1", "C6H5Cl"),
    ("C[N+](C)(C)C", "C4H12N+"),
    ("CC.CC", "C4H12"),
]

INVALID = [
    ("CN(C)(C)(C)C", "atom 1 (N) has valence 5"),
    ("C[N](C)(C)(C)C", "valence"),
    ("CC(C)(C)(C)(C)C", "atom 1 (C) has valence 6"),
    ("F[Cl](F)(F)F", "(Cl) has valence 4"),
    ("O=C=O=C", "atom 2 (O) has valence"),
    ("C1CC", "unclosed ring 1"),
    ("C1CC1C1", "unclosed ring 1"),
    ("C%12CC", "unclosed ring 12"),
    ("c1ccccc1C2", "unclosed ring 2"),
    ("C[Xx]", "unknown element 'Xx'"),
    ("[Zz]", "unknown element 'Zz'"),
    ("CXx", "unknown element 'Xx'"),
    ("CQ", "unknown element 'Q'"),
    ("hello", "unknown element"),
    ("c1cccc1", "can't kekulize"),
    ("c1ccnc1", "can't kekulize"),
    ("oC", "aromatic"),
    ("Cc", "not in a ring"),
    ("[CH3", "'[' at position 0 is never closed"),
    ("C[Na", "never closed"),
    ("CC]", "no matching '['"),
    ("[]", "empty bracket atom"),
    ("[C@@@@H]", "malformed bracket atom"),
    ("C(C", "'(' at position 1 is never closed"),
    ("C)C", "no matching '('"),
    ("C1CC1)", "no matching '('"),
    ("C((C))", "branch '(' at position 2"),
    ("C==C", "bond '=' at position 2"),
    ("=CC", "bond '=' at position 0"),
    ("CC=", "dangling '='"),
    ("C.", "dangling '.'"),
    ("C..C", "'.' at position 2"),
    ("1CC", "ring label 1 at position 0"),
    ("C&C", "'&' at position 1 is not allowed"),
    ("C\x00C", "character '\\x00' at position 1 is not allowed in SMILES"),
    ("C\ud800", "character '\\ud800' at position 1"),
    ("CCé", "(SMILES is plain ASCII)"),
    ("CNa", "'Na' at position 1 must be written in brackets"),
    ("", "empty input"),
    ("   ", "empty input"),
    ("\t\n", "empty input"),
    ("C C", "whitespace at position 1"),
    ("CC>>CC", "reaction"),
    ("x" * 10_000, "the limit is 5000"),
    ("C(=O)Q" * 300, "unknown element 'Q'"),
]


def test_table_sizes_meet_the_issue():
    assert len(VALID) >= 40
    assert len(INVALID) >= 30


@pytest.mark.parametrize(("smiles", "formula"), VALID)
def test_valid_smiles(smiles, formula):
    report = st.check_smiles(smiles)
    assert report.ok, report.error
    assert report.error is None
    assert report.formula == formula
    assert Chem.MolToSmiles(Chem.MolFromSmiles(report.canonical_smiles)) == report.canonical_smiles
    assert set(report.descriptors) == set(st.DESCRIPTOR_NAMES)


@pytest.mark.parametrize(("smiles", "reason"), INVALID, ids=lambda value: repr(value)[:30])
def test_invalid_smiles_names_the_problem(smiles, reason):
    report = st.check_smiles(smiles)
    assert not report.ok
    assert report.canonical_smiles is None and report.formula is None and report.descriptors == {}
    assert reason in report.error


def test_error_positions_point_at_the_problem():
    assert st.check_smiles("CN(C)(C)(C)C").error_position == 1
    assert st.check_smiles("CN(C)(C)(C)C").error_atoms == (1,)
    assert st.check_smiles("CCC[Xx]").error_position == 3
    assert st.check_smiles("c1cccc1").error_atoms == (0, 1, 2, 3, 4)
    assert st.check_smiles("C1CC").error_position == 1


def test_rdkit_log_is_captured_not_printed(capfd):
    st.check_smiles("C1CC")
    st.check_smiles("CN(C)(C)(C)C")
    st.check_smiles("c1cccc1")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_rdkit_log_settings_are_restored_after_a_check():
    before = rdBase.LogStatus()
    st.check_smiles("C1CC")
    st.draw_molecule_svg("CN(C)(C)(C)C")
    assert rdBase.LogStatus() == before


def test_reasons_are_captured_even_when_the_process_disabled_rdkit_logs():
    from science_tools._rdkit_log import captured_rdkit_log

    before = rdBase.LogStatus()
    rdBase.DisableLog("rdApp.error")
    try:
        with captured_rdkit_log() as log:
            Chem.MolFromSmiles("C1CC")
        assert log.lines == ["SMILES Parse Error: unclosed ring for input: 'C1CC'"]
    finally:
        if "rdApp.error:enabled" in before:
            rdBase.EnableLog("rdApp.error")
    assert rdBase.LogStatus() == before


@pytest.mark.parametrize(
    ("variants", "canonical"),
    [
        (["CCO", "OCC", "C(C)O", "[CH3][CH2][OH]"], "CCO"),
        (["c1ccccc1", "C1=CC=CC=C1", "C1C=CC=CC=1"], "c1ccccc1"),
        (["C[C@H](N)C(=O)O", "N[C@@H](C)C(=O)O", "OC(=O)[C@@H](N)C"], "C[C@H](N)C(=O)O"),
        (["[Na+].[Cl-]", "[Cl-].[Na+]"], "[Cl-].[Na+]"),
    ],
)
def test_canonical_smiles_is_the_same_for_every_spelling(variants, canonical):
    assert {st.check_smiles(v).canonical_smiles for v in variants} == {canonical}


@pytest.mark.parametrize("smiles", [s for s, _ in VALID])
def test_canonicalisation_is_idempotent_and_survives_random_spellings(smiles):
    canonical = st.check_smiles(smiles).canonical_smiles
    assert st.check_smiles(canonical).canonical_smiles == canonical
    mol = Chem.MolFromSmiles(smiles)
    for seed in range(3):
        Chem.rdBase.SeedRandomNumberGenerator(seed)
        random_spelling = Chem.MolToSmiles(mol, doRandom=True)
        assert st.check_smiles(random_spelling).canonical_smiles == canonical


def test_descriptors_for_aspirin():
    d = st.check_smiles("CC(=O)Oc1ccccc1C(=O)O").descriptors
    assert d["molecular_weight"] == pytest.approx(180.159, abs=1e-3)
    assert d["exact_mass"] == pytest.approx(180.0423, abs=1e-4)
    assert d["tpsa"] == pytest.approx(63.6, abs=0.1)
    assert (d["hbd"], d["hba"], d["rotatable_bonds"], d["rings"], d["aromatic_rings"]) == (1, 4, 2, 1, 1)
    assert d["formal_charge"] == 0 and d["heavy_atoms"] == 13
    assert 0 < d["qed"] < 1
    assert d["lipinski_violations"] == 0 and d["lipinski_pass"] is True


def test_lipinski_fails_for_a_large_greasy_molecule():
    d = st.check_smiles("C" * 40 + "C(=O)O" + "c1ccccc1" * 0).descriptors
    assert d["lipinski_violations"] == 2 and d["lipinski_pass"] is False  # MW > 500 and logP > 5


def test_surrounding_whitespace_is_a_warning_not_an_error():
    report = st.check_smiles("  CCO\n")
    assert report.ok and report.canonical_smiles == "CCO" and report.warnings


ETHANOL_MOLBLOCK = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))


@pytest.mark.parametrize(
    ("text", "fmt", "expected_format"),
    [
        ("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3", "auto", "inchi"),
        ("[C][C][O]", "auto", "selfies"),
        ("[C][C][O]", "selfies", "selfies"),
        (ETHANOL_MOLBLOCK, "auto", "molblock"),
        (ETHANOL_MOLBLOCK + "$$$$\n" + ETHANOL_MOLBLOCK + "$$$$\n", "molblock", "molblock"),
        ("OCC", "auto", "smiles"),
    ],
)
def test_other_formats_give_the_same_canonical_smiles(text, fmt, expected_format):
    report = st.check_molecule(text, fmt)
    assert report.ok, report.error
    assert report.input_format == expected_format
    assert report.canonical_smiles == "CCO"


@pytest.mark.parametrize(
    ("text", "fmt", "reason"),
    [
        ("InChI=1S/garbage", "inchi", "invalid InChI: Syntax error (-2) in MOBILE_H_FORMULA"),
        ("InChI=", "auto", "invalid InChI"),
        ("[C][Xyz]", "selfies", "invalid SELFIES: invalid symbol '[Xyz]'"),
        ("[C", "selfies", "invalid SELFIES"),
        ("not a mol block\nM  END", "molblock", "invalid MOL block"),
        ("", "auto", "empty input"),
    ],
)
def test_other_formats_report_failures(text, fmt, reason):
    report = st.check_molecule(text, fmt)
    assert not report.ok and reason in report.error


def test_molblock_valence_problem_is_explained():
    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CN(C)(C)(C)C", sanitize=False))
    report = st.check_molecule(block, "molblock")
    assert not report.ok and "has valence 5" in report.error and report.error_atoms == (1,)


def test_unknown_format_is_a_programmer_error():
    with pytest.raises(ValueError, match="fmt must be one of"):
        st.check_molecule("CCO", "smarts")


def test_sdf_with_several_records_warns_that_only_the_first_is_read():
    report = st.check_molecule(ETHANOL_MOLBLOCK + "$$$$\n" + ETHANOL_MOLBLOCK + "$$$$\n", "molblock")
    assert report.warnings == ("SDF has several records; only the first was read",)


def test_validation_only_mode_skips_descriptors():
    report = st.check_smiles("CCO", descriptors=False)
    assert report.ok and report.canonical_smiles == "CCO" and report.formula == "C2H6O" and report.descriptors == {}
    assert st.check_smiles("C1CC", descriptors=False).error == st.check_smiles("C1CC").error


def test_selfies_symbol_limit():
    report = st.check_molecule("[C]" * 3000, "selfies")
    assert not report.ok and report.error == "SELFIES has 3000 symbols; the limit is 2000"


@pytest.mark.parametrize(("text", "fmt"), [("InChI=1S/\ud800", "inchi"), ("\x00\n  M  END", "molblock")])
def test_unreadable_characters_in_inchi_and_molblock(text, fmt):
    report = st.check_molecule(text, fmt)
    assert not report.ok and "unreadable character" in report.error
