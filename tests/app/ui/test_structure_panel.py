"""The Protein tab's structure box: chains, ligands and a 3D view from one report; bad files get the reason."""

import html
import json

import gradio as gr
import pytest
from studio_media import UBIQUITIN, make_mmcif, make_pdb

from app.ui import structures


def test_an_uploaded_pdb_gives_status_card_and_viewer(tmp_path):
    pdb = make_pdb(tmp_path / "1abc.pdb")
    status, card, viewer = structures.structure_panel(str(pdb))
    assert html.unescape(status) == "**1abc.pdb** · chains A (16 aa), B (8 aa) · ligands: ACT"
    for row in ("<td>Chain A</td><td>Protein, 16 residues</td>", "<td>Ligands (HETATM, no water)</td><td>ACT × 1 (A)"):
        assert row in card
    assert f"<code>&gt;1abc.pdb chain A</code><br><code>{UBIQUITIN[:16]}</code>" in card
    spec = json.loads(viewer)
    assert spec["format"] == "pdb" and spec["data"] == pdb.read_text() and "chains A, B" in spec["caption"]


def test_pasted_text_is_read_as_text_even_on_one_line(tmp_path):
    pdb = make_pdb(tmp_path / "s.pdb")
    status, card, viewer = structures.structure_text_panel(pdb.read_text())
    assert status.startswith("**pasted structure**") and json.loads(viewer)["data"]
    secret = tmp_path / "secret.pdb"
    secret.write_text(pdb.read_text())
    status, card, viewer = structures.structure_text_panel(str(secret))  # a path typed into the box is not opened
    assert "pasted structure" in status and "no atoms" in status and card == viewer == ""
    assert structures.structure_text_panel("   ") == (structures.STRUCTURE_PROMPT, "", "")
    assert structures.structure_panel(None) == (structures.STRUCTURE_PROMPT, "", "")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty_model.pdb", b"HEADER    NOTHING\nEND\n", "has no atoms (no ATOM or HETATM records)"),
        ("binary.cif", bytes(range(256)) * 4, "is not a text file (it contains NUL bytes)"),
    ],
)
def test_bad_files_show_their_reason_and_nothing_else(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    status, card, viewer = structures.structure_panel(str(path))
    shown = html.unescape(status)
    assert shown.startswith("**Not shown:**") and says in shown and f"'{name}'" in shown
    assert card == viewer == ""


def test_a_50_mb_pdb_is_refused_with_the_size_and_the_limit(tmp_path):
    big = tmp_path / "huge.pdb"
    big.write_bytes((b"REMARK" + b" " * 73 + b"\n") * 625_000)  # 50,000,000 bytes
    status, card, viewer = structures.structure_panel(str(big))
    assert "'huge.pdb' is 50.0 MB; the limit is 20.0 MB" in html.unescape(status) and card == viewer == ""


def test_structures_too_large_for_the_browser_are_described_not_drawn(tmp_path, monkeypatch):
    monkeypatch.setattr(structures, "MAX_VIEWER_ATOMS", 50)
    status, card, viewer = structures.structure_panel(str(make_pdb(tmp_path / "big.pdb")))
    spec = json.loads(viewer)
    assert spec["data"] == "" and "99 atoms: too many to show in 3D here" in spec["caption"] and "Chain A" in card


def test_mmcif_is_drawn_as_mmcif(tmp_path):
    cif = make_mmcif(make_pdb(tmp_path / "s.pdb"), tmp_path / "s.cif")
    status, _, viewer = structures.structure_panel(str(cif))
    assert status.startswith("**s.cif**") and json.loads(viewer)["format"] == "mmcif"


def test_file_names_are_escaped_in_status_and_card(tmp_path):
    pdb = make_pdb(tmp_path / "<img src=x onerror=alert(1)>.pdb")
    status, card, _ = structures.structure_panel(str(pdb))
    assert "<img" not in status and "<img" not in card and "&lt;img" in card


def test_ask_appends_one_fasta_block_per_chain_to_the_chat_box(tmp_path):
    pdb = make_pdb(tmp_path / "1abc.pdb", {"A": "MKTAYIAK"}, ligand=None)
    box = structures.insert_structure(str(pdb), "", {"text": "Compare:", "files": ["x.png"]})
    assert box == {"text": "Compare:\n>1abc.pdb chain A\n<FASTA>MKTAYIAK</FASTA>", "files": ["x.png"]}
    pasted = structures.insert_structure(None, pdb.read_text(), None)
    assert pasted["text"] == "Tell me about this structure:\n>pasted structure chain A\n<FASTA>MKTAYIAK</FASTA>"
    with pytest.raises(gr.Error, match="no structure yet"):
        structures.insert_structure(None, "", None)
    with pytest.raises(gr.Error, match="not inserted: .*has no atoms"):
        structures.insert_structure(None, "HEADER    X\n", None)
