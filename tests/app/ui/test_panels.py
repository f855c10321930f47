"""The science panels: live checks with lab-language rows, reactions, "Ask" inserts, file loading, 3D."""

import html
from pathlib import Path

import gradio as gr
import pytest
from studio_media import ASPIRIN, make_text

from app.ui import panels


ASSETS = Path(__file__).resolve().parents[3] / "assets"
ESTERIFICATION = "CC(=O)O.OCC>>CC(=O)OCC.O"


def test_smiles_panel_shows_picture_and_rows_with_units():
    status, picture, rows = panels.smiles_panel(ASPIRIN)
    assert status.startswith("**Valid molecule") and "C9H8O4" in status and "data:image/svg+xml" in picture
    assert ["Molecular weight (g/mol)", "180.16"] in rows and ["TPSA (Å²)", "63.6"] in rows
    assert ["logP (Crippen)", "1.31"] in rows and ["H-bond donors", "1"] in rows  # lab names, not raw keys
    assert not any(label in ("logp", "tpsa", "hbd", "charge_at_ph7") for label, _ in rows)
    assert panels.smiles_panel("  ") == (panels.SMILES_PROMPT, "", [])
    hostile, _, _ = panels.smiles_panel("<img src=x onerror=alert(1)>")
    message, _, pointer = hostile.partition("\n\n```\n")
    assert "<img" not in message and pointer.startswith("<img src=x")  # the input only inside a code block
    fenced, _, _ = panels.smiles_panel("```<img src=x onerror=alert(1)>")
    assert "```" not in fenced and "<img" not in fenced  # no pointer when the input could close the block


def test_an_invalid_smiles_points_at_the_character_as_typed():
    status, picture, rows = panels.smiles_panel("C1CC(")
    assert (
        html.unescape(status).startswith("**Invalid SMILES:** branch '(' at position 4 is never closed")
        and picture == ""
    )
    assert status.endswith("```\nC1CC(\n    ^\n```") and rows == []


def test_the_smiles_panel_takes_a_reaction_with_every_component():
    status, picture, rows = panels.smiles_panel(ESTERIFICATION)
    assert status == "**Valid reaction.** 2 reactant(s) → 2 product(s)"
    assert "data:image/svg+xml" in picture and "reaction-card" in picture
    assert ["Reactant 1", "CC(=O)O · C2H4O2 · 60.05 g/mol"] in rows and ["Product 2", "O · H2O · 18.02 g/mol"] in rows
    status, picture, _ = panels.smiles_panel("CC>>C1CC")
    assert html.unescape(status).startswith("**Invalid reaction:** product 1 'C1CC'") and picture == ""


def test_sequence_panel_speaks_in_residues_of_the_right_kind_and_warns_about_prose():
    status, card = panels.sequence_panel(">p\nMKTAYIAKQRQISFVKSHFSRQ")
    assert status.startswith("**Valid** Protein · Length (aa): 22.") and "<table" in card
    status, card = panels.sequence_panel("ATGCGTACGTTAGCATGCAAATTT")
    assert status == "**Valid** DNA · Length (nt): 24." and "Length (nt)" in card and "residues" not in card
    status, card = panels.sequence_panel("hello there")
    assert "⚠️ this reads like English words, not a protein sequence" in status and "Notes" not in card
    status, card = panels.sequence_panel("MKTAYIAKQR 1 QI!")
    assert html.unescape(status) == "**Invalid sequence:** 1 character(s) not allowed in a protein sequence: '!' at 16"


def test_ask_inserts_checked_science_into_the_box():
    box = panels.insert_molecule("OCC", {"text": "", "files": []})
    assert box["text"] == "Tell me about this molecule:\n<SMILES>CCO</SMILES>"
    assert panels.insert_molecule("OCC", {"text": "Compare", "files": ["a.png"]}) == {
        "text": "Compare\n<SMILES>CCO</SMILES>",
        "files": ["a.png"],
    }
    reaction = panels.insert_molecule(ESTERIFICATION, None)["text"]
    assert reaction == "Tell me about this reaction:\n<SMILES>CC(=O)O.CCO>>CCOC(C)=O.O</SMILES>"
    with pytest.warns(UserWarning, match="Not inserted"):
        assert panels.insert_molecule("C1CC(", None) == gr.skip()
    protein = panels.insert_sequence("mktayiakqr", None)["text"]
    assert protein == "Tell me about this protein:\n<FASTA>MKTAYIAKQR</FASTA>"  # the tag README promises
    assert panels.insert_sequence("ATGCGT", None)["text"] == "Tell me about this DNA sequence:\nATGCGT"


def test_files_load_into_the_panels(tmp_path):
    assert panels.read_upload_text(str(make_text(tmp_path / "m.smi", f"{ASPIRIN} aspirin\n"))) == ASPIRIN
    assert panels.read_upload_text(str(ASSETS / "drugs.sdf")) == "Cn1c(=O)c2c(ncn2C)n(C)c1=O"  # caffeine, record 1
    with pytest.warns(UserWarning, match="line 1"):
        assert panels.read_upload_text(str(make_text(tmp_path / "bad.smi", "C1CC(\n"))) == gr.skip()
    assert panels.read_upload_text(None) == ""
    fasta = panels.read_sequence_upload(str(ASSETS / "proteins.fasta"))
    assert fasta.startswith(">ubiquitin human (76 aa)\nMQIFVKTLTGK") and ">insulin B chain human (30 aa)\n" in fasta
    chains = panels.read_sequence_upload(str(ASSETS / "designed_peptides.pdb"))
    assert chains == ">designed_peptides.pdb chain A\nAEAAAKEAAAKEAAAKAGW\n>designed_peptides.pdb chain B\nKVTVKVTV"
    with pytest.warns(UserWarning, match="not a FASTA"):
        assert panels.read_sequence_upload(str(make_text(tmp_path / "notes.txt", "hi"))) == gr.skip()


def test_molecule_3d_returns_a_molblock_titled_with_the_molecule():
    block = panels.molecule_3d("OCC")
    assert block.splitlines()[0] == "CCO · C2H6O" and ("V2000" in block or "V3000" in block)
    with pytest.warns(UserWarning, match="No 3D view"):
        assert panels.molecule_3d("not a smiles") == panels.VIEWER_EMPTY
    with pytest.warns(UserWarning, match="a reaction has no single 3D structure"):
        assert panels.molecule_3d(ESTERIFICATION) == panels.VIEWER_EMPTY
