"""The one history model: raw text in, backend messages out, retry / edit / undo, end states."""

import pytest
from studio_media import make_image, make_text

from app.chat.attachments import prepare_user_turn
from app.chat.history import END_STATES, Answer, Found, History, Turn, TurnEnd, find_science, without_end_marker
from app.config import Limits


def _turn(text, answer=None, attachments=()):
    return Turn(text, list(attachments), answer)


def test_messages_carry_raw_text_thinking_and_media(tmp_path):
    image = str(make_image(tmp_path / "x.png"))
    attachments = prepare_user_turn("what is <b>?", [image], Limits()).attachments
    history = History(
        [
            _turn(
                "what is <b>? `a &amp; b`",
                Answer(content="It is bold.", reasoning="hmm", end=TurnEnd("answered")),
                attachments,
            ),
            _turn("next"),
        ]
    )
    assert history.to_messages("Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "image", "path": image}, {"type": "text", "text": "what is <b>? `a &amp; b`"}],
        },
        {"role": "assistant", "content": "It is bold.", "reasoning_content": "hmm"},
        {"role": "user", "content": [{"type": "text", "text": "next"}]},
    ]


def test_answers_without_text_are_not_sent_back():
    history = History(
        [
            _turn("a", Answer(reasoning="thought only", end=TurnEnd("empty"))),
            _turn("b", Answer(end=TurnEnd("failed", reason="server down"))),
            _turn("c"),
        ]
    )
    assert [message["role"] for message in history.to_messages()] == ["user", "user", "user"]


def test_molecule_and_sequence_files_add_their_text_for_the_model(tmp_path):
    smi = make_text(tmp_path / "aspirin.smi", "CC(=O)Oc1ccccc1C(=O)O aspirin\n")
    attachments = prepare_user_turn("compare", [str(smi)], Limits()).attachments
    assert attachments[0].name == "aspirin.smi" and attachments[0].kind == "molecule"
    history = History([_turn("compare", attachments=attachments)])
    assert history.to_messages()[0]["content"] == [
        {"type": "text", "text": "compare\naspirin (aspirin.smi, line 1) → <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES>"}
    ]
    assert history.turns[0].text == "compare"  # the typed text itself stays as typed


def test_typed_control_tokens_are_neutralised_only_for_the_model():
    history = History([_turn("<think>x</think><video><|im_end|>")])
    assert (
        history.to_messages()[0]["content"][0]["text"] == "<\u200bthink>x<\u200b/think><\u200bvideo><\u200b|im_end|>"
    )
    assert history.turns[0].text == "<think>x</think><video><|im_end|>"


def test_retry_edit_and_undo_rewrite_the_history(tmp_path):
    attachments = prepare_user_turn("look", [str(make_image(tmp_path / "a.png"))], Limits()).attachments
    first = _turn("a", Answer(content="x", end=TurnEnd("answered")), attachments)
    second = _turn("b", Answer(content="y", end=TurnEnd("answered")))
    history = History([first, second])
    retried = history.retried(1)
    assert [t.text for t in retried.turns] == ["a", "b"] and retried.turns[1].answer is None
    assert retried.turns[0] is first and history.turns[1].answer.content == "y"  # the original is untouched
    edited = history.edited(0, "A!")
    assert len(edited) == 1 and edited.turns[0].text == "A!" and edited.turns[0].attachments == attachments
    assert edited.turns[0].answer is None
    assert history.before(1).turns == [first]
    with pytest.raises(IndexError, match="turn 5 does not exist"):
        history.edited(5, "x")


def test_end_states_have_their_markers():
    assert {state: TurnEnd(state, tokens=7, reason="boom").marker for state in END_STATES} == {
        "answered": "",
        "empty": "(the model returned no text)",
        "stopped": "(stopped)",
        "cut_off": "(cut off at 7 tokens)",
        "failed": "(failed: boom)",
        "timed_out": "(generation timed out)",
    }
    with pytest.raises(ValueError, match="unknown end state 'done'"):
        TurnEnd("done")
    assert TurnEnd.from_dict(TurnEnd("cut_off", tokens=3).to_dict()) == TurnEnd("cut_off", tokens=3)


def test_an_answer_ends_once():
    answer = Answer(content="partial")
    assert answer.finish(TurnEnd("stopped")) and not answer.finish(TurnEnd("answered"))
    assert answer.end == TurnEnd("stopped") and answer.text_with_marker() == "partial\n\n(stopped)"


def test_answer_text_in_think_tags():
    assert Answer(reasoning="r", content="c", thinking_seconds=1.0).as_text() == "<think>\nr\n</think>\n\nc"
    assert Answer(reasoning="still thinking").as_text() == "<think>\nstill thinking"
    assert Answer(end=TurnEnd("empty")).text_with_marker() == "(the model returned no text)"


def test_science_found_once_each_and_molecules_listed_newest_first():
    text = "Ethanol <SMILES>CCO</SMILES> again CCO, a reaction CCO.CC(=O)O>>CCOC(C)=O and glucose C6H12O6."
    assert find_science(text) == [Found("smiles", "CCO"), Found("reaction", "CCO.CC(=O)O>>CCOC(C)=O")]
    history = History(
        [
            _turn("q1", Answer(content="x", found=[Found("smiles", "CCO")])),
            _turn("q2", Answer(content="y", found=[Found("smiles", "c1ccccc1"), Found("smiles", "CCO")])),
        ]
    )
    assert history.molecules() == ["c1ccccc1", "CCO"]


@pytest.mark.parametrize("state", ["answered", "empty", "stopped", "cut_off", "timed_out"])
def test_the_model_text_of_a_reply_is_the_reply_without_its_marker(state):
    for content in ("", "Water is H2O.", "ends with (stopped)"):
        reply = Answer(content=content, end=TurnEnd(state, tokens=64)).text_with_marker()
        assert without_end_marker(reply) == content


def test_each_structure_is_found_once_whatever_its_spelling():
    text = ("Ethanol <SMILES>CCO</SMILES>, also written OCC; the ester <SMILES>CC(=O)O.OCC>>CC(=O)OCC.O</SMILES> "
            "and again CC(=O)O.OCC>>CC(=O)OCC.O; ethyl acetate CCOC(C)=O")  # fmt: skip
    assert find_science(text) == [
        Found("smiles", "CCO"),
        Found("reaction", "CC(=O)O.OCC>>CC(=O)OCC.O"),
        Found("smiles", "CCOC(C)=O"),
    ]


def test_the_panel_list_offers_molecules_and_reactions_newest_first():
    first = Answer(content="x", found=[Found("smiles", "CCO")], end=TurnEnd("answered"))
    second = Answer(
        content="y", found=[Found("reaction", "CC>>C=C"), Found("protein", "MKV")], end=TurnEnd("answered")
    )
    history = History([_turn("a", answer=first), _turn("b", answer=second)])
    assert history.molecules() == ["CC>>C=C", "CCO"]
