"""The science panels: live checks with lab-language rows, "Ask" inserts, file loading, 3D."""

import gradio as gr
import pytest
from studio_media import ASPIRIN, make_text

from app.ui import panels


def test_smiles_panel_shows_picture_and_rows_with_units():
    status, picture, rows = panels.smiles_panel(ASPIRIN)
    assert status.startswith("**Valid") and "C9H8O4" in status and "data:image/svg+xml" in picture
    assert ["Molecular weight (g/mol)", "180.16"] in rows and ["TPSA (Å²)", "63.6"] in rows
    status, picture, rows = panels.smiles_panel("C1CC(")
    assert status.startswith("**Invalid") and picture == "" and rows == []
    assert panels.smiles_panel("  ") == (panels.SMILES_PROMPT, "", [])
    hostile, _, _ = panels.smiles_panel("<img src=x onerror=alert(1)>")
    assert "<img" not in hostile


def test_sequence_panel_speaks_in_residues_of_the_right_kind():
    status, card = panels.sequence_panel(">p\nMKTAYIAKQRQISFVKSHFSRQ")
    assert status.startswith("**Valid** Protein · Length (aa): 22.") and "<table>" in card
    status, card = panels.sequence_panel("ATGCGTACGTTAGCATGCAAATTT")
    assert status == "**Valid** DNA · Length (nt): 24." and "Length (nt)" in card
    status, card = panels.sequence_panel("MKT*JJ")
    assert status.startswith("**Invalid") and card == ""


def test_ask_inserts_checked_science_into_the_box():
    box = panels.insert_molecule("OCC", {"text": "", "files": []})
    assert box["text"] == "Tell me about this molecule:\n<SMILES>CCO</SMILES>"
    assert panels.insert_molecule("OCC", {"text": "Compare", "files": ["a.png"]}) == {
        "text": "Compare\n<SMILES>CCO</SMILES>",
        "files": ["a.png"],
    }
    with pytest.raises(gr.Error, match="not inserted"):
        panels.insert_molecule("C1CC(", None)
    assert panels.insert_sequence("mktayiakqr", None)["text"].endswith("MKTAYIAKQR")


def test_files_load_into_the_panels(tmp_path):
    assert panels.read_upload_text(str(make_text(tmp_path / "m.smi", f"{ASPIRIN} aspirin\n"))) == ASPIRIN
    assert panels.read_upload_text(str(make_text(tmp_path / "p.fasta", ">p\nMKV\n"))) == ">p\nMKV\n"
    with pytest.raises(gr.Error, match="line 1"):
        panels.read_upload_text(str(make_text(tmp_path / "bad.smi", "C1CC(\n")))
    assert panels.read_upload_text(None) == ""


def test_molecule_3d_returns_a_molblock():
    block = panels.molecule_3d("CCO")
    assert "V2000" in block or "V3000" in block
    with pytest.raises(gr.Error, match="no 3D view"):
        panels.molecule_3d("not a smiles")
