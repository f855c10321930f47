"""The page's handlers for issue 17: names in a finished answer become cards, an attached structure reaches the
Protein tab, and the SMILES panel says which name a structure came from (FakeBackend; no server, no browser)."""

import html
import types
from collections import deque

import gradio as gr
import pytest
from studio_media import make_pdb

import science_tools
from app.backends.fake import FakeBackend
from app.chat import names
from app.chat.attachments import prepare_user_turn
from app.chat.engine import ChatEngine
from app.chat.history import History, Turn
from app.config import Limits
from app.ui import name_box, structures
from app.ui.handlers import ChatHandlers


ANSWER = "Aspirin is <IUPAC>2-acetyloxybenzoic acid</IUPAC>."
SAMPLING = (False, 0.7, 0.95, 50, 0.0, 64, False)


@pytest.fixture
def opsin(monkeypatch):
    """OPSIN without a JVM: a table, and a record of the batches asked for."""
    batches = []

    def convert(batch):
        batches.append(list(batch))
        return [science_tools.NameReport(ok=True, input=n, name=n, canonical_smiles="CC(=O)Oc1ccccc1C(=O)O")
                if n == "2-acetyloxybenzoic acid" else
                science_tools.NameReport(ok=False, input=n, name=n, error="OPSIN could not interpret this name: x")
                for n in batch]  # fmt: skip

    monkeypatch.setattr(science_tools, "names_to_structures", convert)
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: None)
    monkeypatch.setattr(names, "_CACHE", names.NameCache())
    return batches


def _answered(content: str) -> tuple[ChatHandlers, History]:
    chat = ChatHandlers(ChatEngine(FakeBackend(content=content), Limits()))
    _, history, _ = chat.add_turn({"text": "Name a drug", "files": []}, History())
    deque(chat.respond(types.SimpleNamespace(session_hash="s"), history, "", *SAMPLING), maxlen=1)
    return chat, history


def test_the_names_of_a_finished_answer_become_cards_with_their_provenance(opsin):
    chat, history = _answered(ANSWER)
    chatbot, history = chat.name_structures(history)
    cards = [str(m["content"].value) for m in chatbot if isinstance(m["content"], gr.HTML)]
    assert any("Structure from the name 2-acetyloxybenzoic acid, OPSIN" in card for card in cards)
    assert opsin == [["2-acetyloxybenzoic acid"]]
    assert chat.molecules(history).choices[0][0] == "CC(=O)Oc1ccccc1C(=O)O"  # offered to the SMILES panel too
    assert chat.name_structures(history) == (gr.skip(), gr.skip())  # nothing new the second time
    assert opsin == [["2-acetyloxybenzoic acid"]]


def test_an_answer_without_names_or_without_java_changes_nothing(opsin, monkeypatch):
    chat, history = _answered("Water is H2O.")
    assert chat.name_structures(history) == (gr.skip(), gr.skip())
    chat, history = _answered(ANSWER)
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: "Java runtime not found")
    assert chat.name_structures(history) == (gr.skip(), gr.skip()) and opsin == []


def test_an_imported_conversation_gets_its_name_cards_in_one_run(opsin):
    chat, history = _answered(ANSWER)
    _, second = _answered("And <IUPAC>foo-ane</IUPAC> or <IUPAC>2-acetyloxybenzoic acid</IUPAC>.")
    both = History([*history.turns, *second.turns])
    chatbot, both = chat.all_name_structures(both)
    assert opsin == [["2-acetyloxybenzoic acid", "foo-ane"]]
    assert [len(turn.answer.found) for turn in both.turns] == [1, 1]


def test_an_attached_structure_is_shown_in_the_protein_tab(tmp_path):
    pdb = make_pdb(tmp_path / "upload-1.pdb")
    attachments = prepare_user_turn("?", [str(pdb)], Limits(), names=["1abc.pdb"]).attachments
    status, card, viewer = structures.attached_structure(History([Turn("?", attachments)]))
    assert (
        html.unescape(status).startswith("**1abc.pdb** · chains A (16 aa), B (8 aa)") and "Chain B" in card and viewer
    )
    assert structures.attached_structure(History([Turn("hi", [])])) == (gr.skip(), gr.skip(), gr.skip())
    assert structures.attached_structure(History()) == (gr.skip(), gr.skip(), gr.skip())


def test_the_smiles_panel_names_the_source_while_the_box_holds_that_structure():
    record = {"smiles": "CC(=O)Oc1ccccc1C(=O)O", "origin": "from the name 2-acetyloxybenzoic acid, OPSIN"}
    status, picture, rows = name_box.smiles_panel_with_origin("CC(=O)Oc1ccccc1C(=O)O", record)
    assert status.endswith("· structure from the name 2-acetyloxybenzoic acid, OPSIN")
    assert "Structure from the name 2-acetyloxybenzoic acid, OPSIN" in picture and rows
    status, picture, _ = name_box.smiles_panel_with_origin("CCO", record)
    assert "OPSIN" not in status and "OPSIN" not in picture
