"""The history rendered as Chatbot messages: model text inert, user text as typed, cards, end markers, indices."""

import base64
import re

import gradio as gr
import pytest
from studio_media import ASPIRIN, UBIQUITIN, make_image

from app.chat.attachments import prepare_user_turn
from app.chat.history import Answer, Found, History, ToolStep, Turn, TurnEnd
from app.config import Limits
from app.ui import cards, rendering


def test_model_html_in_an_answer_is_shown_as_text():
    safe = rendering.render_answer(Answer(content="before <script>alert(1)</script> after"))[0]["content"]
    assert "<script" not in safe and "&lt;script&gt;" in safe
    assert safe.startswith('<div class="model-text">') and "\n" not in safe


def _svg_of(card: str) -> str:
    encoded = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", card).group(1)
    return base64.b64decode(encoded).decode()


def test_molecule_card_has_rdkit_svg_formula_and_weight_with_its_unit():
    card = cards.molecule_card(ASPIRIN)
    assert "C9H8O4" in card and "Molecular weight (g/mol) 180.16" in card
    assert "<svg" in _svg_of(card) and "<script" not in _svg_of(card)
    assert cards.molecule_card("C1CC(") is None


def test_sequence_cards_speak_lab_language():
    protein = cards.sequence_card(UBIQUITIN)
    assert "Protein" in protein and f"<td>Length (aa)</td><td>{len(UBIQUITIN)}</td>" in protein
    assert "Isoelectric point (pI)" in protein
    dna = cards.sequence_card("ATGCGTACGTTAGCATGCAAATTT")
    assert "DNA" in dna and "<td>Length (nt)</td><td>24</td>" in dna and "residues" not in dna
    assert cards.sequence_card("<script>") is None


def test_reaction_card_and_cached_card_for_each_kind():
    assert "reaction-card" in cards.card_for(Found("reaction", "CCO.CC(=O)O>>CCOC(C)=O"))
    assert "seq-card" in cards.card_for(Found("protein", UBIQUITIN))
    assert "mol-card" in cards.card_for(Found("smiles", "CCO"))
    assert cards.reaction_card("CC>>C1CC(") is None


def test_a_turn_renders_user_text_as_typed_and_model_text_escaped(tmp_path):
    image = str(make_image(tmp_path / "upload.png"))
    attachments = prepare_user_turn("x", [image], Limits(), names=["flask.png"]).attachments
    answer = Answer(
        content="<b>bold?</b> Ethanol <SMILES>CCO</SMILES>",
        reasoning="think <i>",
        thinking_seconds=1.26,
        found=[Found("smiles", "CCO")],
        end=TurnEnd("answered"),
    )
    files, user, thinking, text, card = rendering.render_turn(Turn("  a\t&amp; <b>b</b>", attachments, answer))
    assert files == {
        "role": "user",
        "content": [{"file": {"path": image, "orig_name": "flask.png", "mime_type": "image/png"}}],
    }
    assert user == {"role": "user", "content": [{"type": "text", "text": "  a\t&amp; <b>b</b>"}]}
    assert thinking["metadata"] == {"title": "Thinking", "status": "done", "duration": 1.3}
    assert thinking["content"] == '<div class="model-text"><p>think &lt;i&gt;</p></div>'
    assert text["content"] == (
        '<div class="model-text"><p>&lt;b&gt;bold?&lt;/b&gt; Ethanol &lt;SMILES&gt;CCO&lt;/SMILES&gt;</p></div>'
    )
    assert isinstance(card["content"], gr.HTML) and "C2H6O" in card["content"].value


def test_thinking_is_pending_only_while_the_answer_runs():
    running = rendering.render_answer(Answer(reasoning="hmm"))
    assert running[0]["metadata"]["status"] == "pending"
    stopped = rendering.render_answer(Answer(reasoning="hmm", end=TurnEnd("stopped")))
    assert stopped[0]["metadata"]["status"] == "done"
    assert stopped[-1]["content"] == '<div class="model-text"><em>&#40;stopped&#41;</em></div>'


@pytest.mark.parametrize(
    ("end", "shown"),
    [
        (TurnEnd("empty"), "<em>&#40;the model returned no text&#41;</em>"),
        (TurnEnd("cut_off", tokens=64), "<em>&#40;cut off at 64 tokens&#41;</em>"),
        (TurnEnd("timed_out"), "<em>&#40;generation timed out&#41;</em>"),
        (
            TurnEnd("failed", reason="server <down>"),
            f"<strong>{rendering.ERROR_TITLE}:</strong> server &lt;down&gt;",
        ),
    ],
)
def test_every_end_state_but_answered_shows_a_marker(end, shown):
    assert (
        rendering.render_answer(Answer(content="", end=end))[-1]["content"] == f'<div class="model-text">{shown}</div>'
    )
    answered = rendering.render_answer(Answer(content="fine", end=TurnEnd("answered")))
    assert answered[-1]["content"] == '<div class="model-text"><p>fine</p></div>'


def test_tool_steps_are_collapsed_with_the_result_inside_and_cannot_break_out_of_the_code_block():
    step = ToolStep("check_smiles", {"smiles": "OCC"}, True, result={"input": "```\n<img src=x onerror=alert(1)>"})
    messages = rendering.render_answer(Answer(steps=[step], end=TurnEnd("empty")))
    assert (
        messages[0]["metadata"]["title"]
        == '<div class="model-text">🛠️ check&#95;smiles&#40;smiles=&#39;OCC&#39;&#41;</div>'
    )
    assert "<img" not in messages[0]["content"] and "&lt;img" in messages[0]["content"]
    drawn = ToolStep("render_molecule", {"smiles": "C"}, True, result={"ok": True}, svg="<svg></svg>")
    picture = rendering.render_answer(Answer(steps=[drawn]))[1]["content"]
    assert isinstance(picture, gr.HTML) and "data:image/svg+xml;base64," in picture.value


def test_message_indices_map_back_to_turns():
    history = History(
        [
            Turn("q1", [], Answer(content="a1", reasoning="r", end=TurnEnd("answered"))),  # user, thinking, answer
            Turn("q2", [], Answer(content="", end=TurnEnd("empty"))),  # user, marker
            Turn("q3"),  # user only
        ]
    )
    messages = rendering.to_chatbot(history)
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant", "user", "assistant", "user"]
    assert [rendering.turn_at(history, index) for index in range(6)] == [0, 0, 0, 1, 1, 2]
    with pytest.raises(IndexError, match="message 6 is not in this chat"):
        rendering.turn_at(history, 6)
