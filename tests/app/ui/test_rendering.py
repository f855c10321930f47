"""The history rendered as Chatbot messages: model text inert, user text as typed, cards, end markers, indices."""

import base64
import html
import re
from pathlib import Path

import gradio as gr
import pytest
from studio_media import ASPIRIN, UBIQUITIN, make_image

from app.chat.attachments import prepare_user_turn
from app.chat.history import Answer, Found, History, ToolStep, Turn, TurnEnd, find_science
from app.config import Limits
from app.ui import cards, rendering
from app.ui.safe_html import markdown_to_html


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
    assert "Protein" in protein and f"<th>Length (aa)</th><td>{len(UBIQUITIN)}</td>" in protein
    assert "Isoelectric point (pI)" in protein and "<th>Charge at pH 7</th>" in protein
    dna = cards.sequence_card("ATGCGTACGTTAGCATGCAAATTT")
    assert "DNA" in dna and "<th>Length (nt)</th><td>24</td>" in dna and "residues" not in dna
    assert cards.sequence_card("<script>") is None


def test_reaction_card_and_a_thumbnail_for_each_kind():
    assert "reaction-tile" in cards.thumbnail_for(Found("reaction", "CCO.CC(=O)O>>CCOC(C)=O"))
    assert "seq-tile" in cards.thumbnail_for(Found("protein", UBIQUITIN))
    assert "mol-tile" in cards.thumbnail_for(Found("smiles", "CCO"))
    assert cards.thumbnail_for(Found("smiles", "C1CC(")) is None and cards.science_grid([]) is None
    assert cards.reaction_card("CC>>C1CC(") is None
    assert "Reactant 1" in cards.reaction_card("CCO.CC(=O)O>>CCOC(C)=O")
    assert "Reactant 1" not in cards.reaction_card("CCO.CC(=O)O>>CCOC(C)=O", rows=False)


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
    files, caption, user, thinking, text, grid = rendering.render_turn(
        Turn("  a\t&amp; <b>b</b>", attachments, answer)
    )
    assert files == {
        "role": "user",
        "content": [{"file": {"path": image, "orig_name": "flask.png", "mime_type": "image/png"}}],
    }
    assert caption["role"] == "user" and "<b>flask.png</b>" in caption["content"].value
    assert user == {"role": "user", "content": [{"type": "text", "text": "  a\t&amp; <b>b</b>"}]}
    assert thinking["metadata"] == {"title": "Thinking", "status": "done", "duration": 1.3}
    assert thinking["content"] == '<div class="model-text"><p>think &lt;i&gt;</p></div>'
    assert text["content"] == (  # the tag hidden, the molecule in code
        '<div class="model-text"><p>&lt;b&gt;bold?&lt;/b&gt; Ethanol <code>CCO</code></p></div>'
    )
    assert isinstance(grid["content"], gr.HTML) and "C2H6O" in grid["content"].value


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


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Ethanol is <SMILES>CCO</SMILES>.", "Ethanol is `CCO`."),
        ("<SMILES>CC(=O)O.OCC>>CC(=O)OCC.O</SMILES>", "`CC(=O)O.OCC>>CC(=O)OCC.O`"),
        ("a <FASTA>MKV</FASTA> and <IUPAC>ethanol</IUPAC>", "a `MKV` and `ethanol`"),
        ("in code `<SMILES>CCO</SMILES>` stays", "in code `<SMILES>CCO</SMILES>` stays"),
        ("<SMILES>C`C</SMILES>", "C`C"),  # a backtick inside: the tags go, the text stays for the sanitiser
        ("<SMILES>CCO", "<SMILES>CCO"),  # still streaming: nothing to hide yet
    ],
)
def test_science_tags_are_hidden_in_model_text(text, shown):
    assert rendering.hide_science_tags(text) == shown


def test_hidden_tags_never_let_html_through():
    shown = markdown_to_html(rendering.hide_science_tags("<SMILES><img src=x onerror=alert(1)></SMILES>"))
    assert shown == '<div class="model-text"><p><code>&lt;img src=x onerror=alert&#40;1&#41;&gt;</code></p></div>'
    shown = markdown_to_html(rendering.hide_science_tags("<SMILES>`<img src=x>`</SMILES>"))
    assert "<img" not in shown and "<code>&lt;img src=x&gt;</code>" in shown  # typed code stays code, as text


def test_each_structure_is_drawn_once_in_one_grid_of_thumbnails():
    found = find_science("Ethanol <SMILES>CCO</SMILES> is OCC; <SMILES>CC(=O)O.OCC>>CC(=O)OCC.O</SMILES> and "
                         "again CC(=O)O.OCC>>CC(=O)OCC.O")  # fmt: skip
    assert [item.kind for item in found] == ["smiles", "reaction"]
    messages = rendering.render_answer(Answer(content="x", found=found, end=TurnEnd("answered")))
    grids = [m for m in messages if isinstance(m["content"], gr.HTML)]
    assert len(grids) == 1 and grids[0]["content"].value.count("<details class='sci-tile") == 2
    grid = grids[0]["content"].value
    assert "Reactant 1" in grid and "C2H4O2" in grid  # the reaction's tile opens into every component


def test_thinking_that_never_closed_is_the_answer_with_a_note():
    answer = Answer(reasoning="I think it is water", usage={"thinking_unclosed": True})
    answer.settle_unclosed_thinking()
    answer.finish(TurnEnd("answered"))
    messages = rendering.render_answer(answer)
    answer_text, note = (m["content"] for m in messages)
    assert answer_text == '<div class="model-text"><p>I think it is water</p></div>'
    assert html.unescape(note) == f'<div class="model-text"><em>{rendering.UNCLOSED_THINKING_NOTE}</em></div>'


def test_a_running_answer_says_what_it_waits_for_until_the_first_token():
    waiting = rendering.render_answer(Answer(), preparing="Decoding 8 frames of a.mp4…")
    assert waiting == [{"role": "assistant", "content": "", "metadata": {"title": "Decoding 8 frames of a.mp4…",
                                                                          "status": "pending"}}]  # fmt: skip
    assert rendering.render_answer(Answer(reasoning="r"), preparing="x")[0]["metadata"]["title"] == "Thinking"


def test_captions_name_files_records_and_frames(tmp_path):
    from studio_media import make_video

    assets = Path(__file__).resolve().parents[3] / "assets"
    video = str(make_video(tmp_path / "clip.mp4", frames=12))
    turn = prepare_user_turn("x", [str(assets / "drugs.sdf"), video], Limits())
    caption = rendering.attachment_caption(turn.attachments, max_frames=8)
    assert "<b>drugs.sdf</b> → caffeine (record 1), aspirin (record 2), paracetamol (record 3)" in html.unescape(
        caption
    )
    assert "<b>clip.mp4</b> · 8 of 12 frames go to the model" in caption


def test_a_video_the_browser_cannot_play_is_a_named_chip_with_a_note(tmp_path):
    from studio_media import make_video

    old = str(make_video(tmp_path / "old-camera.avi", frames=6, codec="mpeg4"))  # MPEG-4 Part 2 in AVI
    fine = str(make_video(tmp_path / "fine.mp4", frames=6, codec="libx264"))
    turn = Turn("what happens?", prepare_user_turn("x", [old], Limits()).attachments)
    files, caption, _ = rendering.render_turn(turn)
    assert files["content"][0]["file"]["mime_type"] == "application/octet-stream"  # a chip, not a dead player
    assert (
        "your browser cannot play this video's format (MPEG-4 Part 2); the model still receives it"
        in html.unescape(caption["content"].value)
    )
    playable = rendering.render_turn(Turn("x", prepare_user_turn("x", [fine], Limits()).attachments))
    assert (
        playable[0]["content"][0]["file"]["mime_type"] == "video/mp4"
        and "cannot play" not in playable[1]["content"].value
    )
