"""Every example input in assets/ is readable by the parts of the app that take it."""

from pathlib import Path

import pytest

import science_tools
from app.chat.attachments import prepare_user_turn
from app.config import Limits


ASSETS = Path(__file__).resolve().parents[1] / "assets"
EXPECTED = {"absorbance_spectrum.png", "cells_micrograph.png", "titration.mp4", "proteins.fasta", "drugs.sdf",
            "designed_peptides.pdb", "README.md"}  # fmt: skip


def test_every_asset_is_listed_in_the_readme():
    names = {path.name for path in ASSETS.iterdir()}
    assert names == EXPECTED
    readme = (ASSETS / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED - {"README.md"}:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", ["absorbance_spectrum.png", "cells_micrograph.png", "titration.mp4"])
def test_media_assets_become_model_input(name):
    turn = prepare_user_turn("What does this show?", [str(ASSETS / name)], Limits())
    kinds = [item["type"] for item in turn.content]
    assert kinds == ["video" if name.endswith(".mp4") else "image", "text"]


def test_video_asset_is_short_h264_with_30_frames():
    import av

    with av.open(str(ASSETS / "titration.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"  # plays in every browser
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_fasta_asset_gives_two_valid_proteins():
    reports = science_tools.check_fasta((ASSETS / "proteins.fasta").read_text(encoding="ascii"))
    assert [(r.ok, r.kind, len(r.sequence)) for r in reports] == [(True, "protein", 76), (True, "protein", 30)]
    assert reports[0].header.startswith("ubiquitin")


def test_sdf_asset_gives_three_named_molecules():
    from rdkit import Chem

    supplier = Chem.SDMolSupplier(str(ASSETS / "drugs.sdf"))
    named = {mol.GetProp("_Name"): Chem.MolToSmiles(mol) for mol in supplier}
    expected = {name: science_tools.check_smiles(smiles).canonical_smiles
                for name, smiles in {"caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
                                     "paracetamol": "CC(=O)Nc1ccc(O)cc1"}.items()}  # fmt: skip
    assert named == expected


def test_pdb_asset_has_a_helix_a_strand_a_ligand_and_no_clashes():
    import numpy as np
    from Bio.PDB import PDBParser
    from Bio.SeqUtils import seq1

    structure = PDBParser(QUIET=True).get_structure("example", ASSETS / "designed_peptides.pdb")
    chains = {chain.id: [res for res in chain if res.id[0] == " "] for chain in structure[0]}
    assert {cid: seq1("".join(r.get_resname() for r in res)) for cid, res in chains.items()} == {
        "A": "AEAAAKEAAAKEAAAKAGW",
        "B": "KVTVKVTV",
    }
    ligands = sorted({res.get_resname() for res in structure.get_residues() if res.id[0].startswith("H_")})
    assert ligands == ["ACT"]
    helix = chains["A"]
    # An alpha helix: the carbonyl O of residue i accepts an H-bond from the N-H of residue i + 4 (~2.9–3.1 Å).
    assert all(2.7 < helix[i]["O"] - helix[i + 4]["N"] < 3.3 for i in range(len(helix) - 4))
    coords = {cid: np.array([atom.coord for res in res_list for atom in res]) for cid, res_list in chains.items()}
    closest = np.min(np.linalg.norm(coords["A"][:, None] - coords["B"][None], axis=-1))
    assert closest > 3.0
