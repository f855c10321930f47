"""3D conformers: MOL block parses back with the same heavy atoms, seeded determinism, clear failures."""

import pytest
from rdkit import Chem

import science_tools as st


def _heavy_atoms(mol: Chem.Mol) -> list[str]:
    return sorted(atom.GetSymbol() for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1)


@pytest.mark.parametrize(
    "smiles", ["CCO", "CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "C1CC2CCC1CC2", "c1ccc2[nH]ccc2c1", "[NH4+]"]
)
def test_molblock_parses_back_with_the_same_heavy_atoms(smiles):
    report = st.embed_conformer(smiles)
    assert report.ok, report.error
    assert report.forcefield in ("MMFF94", "UFF")
    mol = Chem.MolFromMolBlock(report.molblock, removeHs=False)
    assert mol is not None and mol.GetNumConformers() == 1 and mol.GetConformer().Is3D()
    assert _heavy_atoms(mol) == _heavy_atoms(Chem.MolFromSmiles(smiles))
    assert Chem.MolToSmiles(Chem.RemoveHs(mol)) == st.check_smiles(smiles).canonical_smiles
    z = [mol.GetConformer().GetAtomPosition(i).z for i in range(mol.GetNumAtoms())]
    assert max(z) - min(z) > 0.1 or mol.GetNumAtoms() < 4  # really 3D


def test_stereo_survives_embedding():
    mol = Chem.MolFromMolBlock(st.conformer_molblock("C[C@H](N)C(=O)O"))
    Chem.AssignStereochemistryFrom3D(mol)
    assert Chem.MolToSmiles(mol) == "C[C@H](N)C(=O)O"


def test_same_seed_same_coordinates_different_seed_may_differ():
    first = st.conformer_molblock("CCCCCCCC(=O)O", seed=7)
    assert first == st.conformer_molblock("CCCCCCCC(=O)O", seed=7)
    assert first != st.conformer_molblock("CCCCCCCC(=O)O", seed=8)


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [("C1CC", "invalid SMILES: unclosed ring 1"), ("", "invalid SMILES: empty input"), ("C" * 300, "3D limit")],
)
def test_failures_have_reasons_and_empty_molblock(smiles, reason):
    report = st.embed_conformer(smiles)
    assert not report.ok and reason in report.error and report.molblock == ""
    assert st.conformer_molblock(smiles) == ""


def test_embedding_failure_is_reported(monkeypatch):
    monkeypatch.setattr("science_tools._conformers._embed", lambda mol, seed: -1)
    report = st.embed_conformer("CCO")
    assert not report.ok and "could not embed a 3D conformer" in report.error


def test_elements_without_force_field_get_etkdg_geometry_and_a_warning():
    report = st.embed_conformer("[U]")
    assert report.ok and report.forcefield == "none" and "no MMFF94 or UFF parameters" in report.warnings[0]


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), (2**31, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_seed_is_a_programmer_error(seed, error):
    with pytest.raises(error):
        st.embed_conformer("CCO", seed=seed)
