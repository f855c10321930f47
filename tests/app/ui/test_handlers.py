"""The page's and the API's chat handlers over one engine (FakeBackend; no server, no browser).

The property at the end is the history model's promise: any text a user types reaches the backend byte for byte,
through the page (new turn, retry, edit) and through ``/chat``.
"""

import shutil
import types
from collections import deque
from pathlib import Path

import gradio as gr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from studio_media import ASPIRIN, make_image, make_video

from app.backends.base import SamplingParams
from app.backends.fake import FakeBackend
from app.chat.attachments import neutralize_control_tokens
from app.chat.engine import ChatEngine
from app.chat.history import History, TurnEnd
from app.config import Limits
from app.ui.handlers import ChatHandlers
from app.ui.safe_html import escape_text


LIMITS = Limits()
DEFAULTS = SamplingParams()
SAMPLING = (False, DEFAULTS.temperature, DEFAULTS.top_p, DEFAULTS.top_k, DEFAULTS.min_p, 64, False)


def _request(session="s"):
    return types.SimpleNamespace(session_hash=session)


def _handlers(backend, limits=LIMITS):
    return ChatHandlers(ChatEngine(backend, limits), model_id="fake-model")


def _last(iterator):
    return deque(iterator, maxlen=1)[0]


def _ask(chat, history, text, files=(), system=""):
    """The page's submit chain: add_turn, then respond to the end; returns (chatbot, history)."""
    _, history, box = chat.add_turn({"text": text, "files": list(files)}, history)
    assert box.interactive is False
    chatbot, history, _ = _last(chat.respond(_request(), history, system, *SAMPLING))
    return chatbot, history


def _respond(chat, history):
    chatbot, history, _ = _last(chat.respond(_request(), history, "", *SAMPLING))
    return chatbot, history


def _sent_text(backend):
    return backend.calls[-1].messages[-1]["content"][-1]["text"]


def test_a_turn_streams_into_the_history_and_the_chat(tmp_path):
    backend = FakeBackend(content=f"Aspirin is <SMILES>{ASPIRIN}</SMILES>.")
    chat = _handlers(backend)
    image = str(make_image(tmp_path / "flask.png"))
    chatbot, history = _ask(chat, History(), "what is <b>this</b>?", [image], system="Be brief.")
    turn = history.turns[0]
    assert turn.text == "what is <b>this</b>?" and turn.attachments[0].name == "flask.png"
    assert turn.answer.end == TurnEnd("answered") and turn.answer.found[0].text == ASPIRIN
    assert backend.calls[-1].messages[0] == {"role": "system", "content": "Be brief."}
    assert backend.calls[-1].messages[-1]["content"][0] == {"type": "image", "path": image}
    files, caption, user, answer, grid = chatbot
    assert files["content"][0]["file"]["orig_name"] == "flask.png" and "flask.png" in caption["content"].value
    assert user["content"][-1] == {"type": "text", "text": "what is <b>this</b>?"}
    assert answer["content"] == f'<div class="model-text"><p>Aspirin is <code>{escape_text(ASPIRIN)}</code>.</p></div>'
    assert isinstance(grid["content"], gr.HTML)
    assert turn.answer.settings.system_prompt == "Be brief." and turn.answer.settings.model == "fake-model"
    assert turn.answer.settings.sampling["max_new_tokens"] == 64 and turn.answer.settings.backend == "fake"
    assert [choice[0] for choice in chat.molecules(history).choices] == [ASPIRIN]


def test_bad_input_is_a_warning_that_keeps_the_chat_and_the_box():
    chat = _handlers(FakeBackend())
    with pytest.warns(UserWarning, match="empty"):
        updates = chat.add_turn({"text": "  ", "files": []}, History())
    assert all(update == gr.skip() for update in updates)  # chat, history and box keep what they had
    assert list(chat.respond(_request(), History(), "", *SAMPLING)) == []  # nothing to answer: Stop stays off


def test_the_first_update_enables_stop_and_says_what_happens_before_the_first_token(tmp_path):
    chat = _handlers(FakeBackend(content="ok"))
    video = str(make_video(tmp_path / "titration.mp4", frames=12))
    _, history, _ = chat.add_turn({"text": "what happens?", "files": [video]}, History())
    stream = chat.respond(_request(), history, "", *SAMPLING)
    chatbot, _, stop = next(stream)
    assert stop.interactive is True and stop.variant == "stop"
    assert chatbot[-1]["metadata"] == {"title": "Decoding 8 frames of titration.mp4 and preparing the prompt…",
                                       "status": "pending"}  # fmt: skip
    *_, (chatbot, history, stop) = stream
    assert chatbot[-1]["content"] == '<div class="model-text"><p>ok</p></div>' and stop == gr.skip()
    box, stop = chat.idle()
    assert box.interactive is True and stop.interactive is False and stop.variant == "secondary"


def test_a_refusal_before_streaming_ends_the_turn_failed_with_the_reason():
    chat = _handlers(FakeBackend(), Limits(max_prompt_tokens=10))
    chatbot, history = _ask(chat, History(), "x" * 100)
    assert history.turns[0].answer.end.state == "failed" and "prompt budget" in history.turns[0].answer.end.reason
    assert "prompt budget" in chatbot[-1]["content"]


def test_stop_marks_the_running_answer_stopped_and_unlocks_the_box():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.02)
    chat = _handlers(backend)
    _, history, _ = chat.add_turn({"text": "long", "files": []}, History())
    stream = chat.respond(_request(), history, "", *SAMPLING)
    next(stream)  # "waiting for the first token"
    next(stream), next(stream)  # the engine's first update comes at once, the next once the backend streams
    chatbot, history, box, stop = chat.stop(history, _request())
    assert history.turns[0].answer.end == TurnEnd("stopped") and "<em>&#40;stopped&#41;</em>" in chatbot[-1]["content"]
    assert box.interactive is True and stop.interactive is False
    stream.close()  # Gradio cancels the generator; the answer keeps its one end state
    assert history.turns[0].answer.end == TurnEnd("stopped") and backend.calls[-1].cancel_requested


def test_stop_before_the_first_token_means_the_answer_never_starts():
    backend = FakeBackend(content="never")
    chat = _handlers(backend)
    _, history, _ = chat.add_turn({"text": "q", "files": []}, History())
    stream = chat.respond(_request(), history, "", *SAMPLING)
    next(stream)
    chat.stop(history, _request())
    assert list(stream) == [] and backend.calls == [] and history.turns[0].answer.end == TurnEnd("stopped")


def test_stop_mid_thinking_finishes_the_thinking_block_itself():
    backend = FakeBackend(reasoning=" ".join(["hmm"] * 500), content="never", delay_s=0.02)
    chat = _handlers(backend)
    _, history, _ = chat.add_turn({"text": "think", "files": []}, History())
    stream = chat.respond(_request(), history, "", True, *SAMPLING[1:])
    for chatbot, _, _ in stream:  # preparing, the engine's first update, heartbeats, then thinking
        if chatbot[-1].get("metadata", {}).get("title") == "Thinking":
            break
    assert chatbot[-1]["metadata"]["status"] == "pending"
    chatbot, history, _, _ = chat.stop(history, _request())
    thinking = next(message for message in chatbot if message.get("metadata", {}).get("title") == "Thinking")
    assert thinking["metadata"]["status"] == "done" and thinking["metadata"]["duration"] >= 0  # no spinner left
    assert "<em>&#40;stopped&#41;</em>" in chatbot[-1]["content"]
    stream.close()


def test_retry_edit_and_undo_map_chat_indices_to_turns(tmp_path):
    backend = FakeBackend(content="ok")
    chat = _handlers(backend)
    image = str(make_image(tmp_path / "a.png"))
    _, history = _ask(chat, History(), "first", [image])
    _, history = _ask(chat, history, "second")
    # the chat is: [image] [caption] [first] [ok] [second] [ok]; indices name messages, the handlers find turns
    chatbot, history = chat.retry(history, gr.RetryData(None, {"index": 4, "value": "second"}))
    assert [t.text for t in history.turns] == ["first", "second"] and history.turns[1].answer is None
    # Editing a message with an attachment keeps the attachment and uses the new text.
    chatbot, history = chat.edit(
        history, gr.EditData(None, {"index": 2, "value": "first, edited", "previous_value": "first"})
    )
    assert len(history) == 1 and history.turns[0].text == "first, edited"
    assert history.turns[0].attachments[0].path == image
    _, history = _respond(chat, history)
    assert backend.calls[-1].messages[-1]["content"] == [
        {"type": "image", "path": image},
        {"type": "text", "text": "first, edited"},
    ]
    chatbot, history, box = chat.undo(history, gr.UndoData(None, {"index": 2, "value": "first, edited"}))
    assert chatbot == [] and len(history) == 0 and box == {"text": "first, edited", "files": [image]}
    asked = History([*_ask(chat, History(), "q")[1].turns])
    with pytest.warns(UserWarning, match="Not edited: the message is empty"):
        chatbot, kept = chat.edit(asked, gr.EditData(None, {"index": 0, "value": " ", "previous_value": "q"}))
    assert kept is asked and chatbot[0]["content"][-1]["text"] == "q"  # the chat shows the message as it was


def test_editing_a_message_with_a_science_file_and_tags_keeps_both(tmp_path):
    backend = FakeBackend(content="ok")
    chat = _handlers(backend)
    sdf = str(tmp_path / "caffeine.sdf")
    shutil.copy(Path(__file__).resolve().parents[3] / "assets" / "drugs.sdf", sdf)
    _, history = _ask(chat, History(), "Compare with <SMILES>CCO</SMILES>", [sdf])
    _, history = chat.edit(history, gr.EditData(None, {"index": 2, "value": "Which is <FASTA>MKV</FASTA>?",
                                                       "previous_value": "Compare"}))  # fmt: skip
    _respond(chat, history)
    sent = _sent_text(backend)
    assert sent.startswith("Which is <FASTA>MKV</FASTA>?\ncaffeine (caffeine.sdf, record 1) → <SMILES>")


def test_chat_api_streams_text_with_think_tags_and_says_how_it_ended():
    backend = FakeBackend(reasoning="r1 r2", content="c1 c2 c3")
    chat = _handlers(backend)
    args = (0.8, 1.0, 50, 0.0, 64, "", False, _request())
    outputs = list(chat.chat("q", [], True, *args))
    assert outputs[-1] == "<think>\nr1 r2\n</think>\n\nc1 c2 c3"
    assert list(chat.chat("q", [], False, *args))[-1] == "c1 c2 c3"
    cut = list(chat.chat("q", [], False, 0.8, 1.0, 50, 0.0, 2, "", False, _request()))[-1]
    assert cut == "c1 c2 \n\n(cut off at 2 tokens)"
    assert list(_handlers(FakeBackend(content="")).chat("q", [], False, *args))[-1] == "(the model returned no text)"
    with pytest.raises(gr.Error, match="temperature"):
        list(chat.chat("q", [], True, 9.0, 1.0, 50, 0.0, 64, "", False, _request()))
    with pytest.raises(gr.Error, match="out of memory"):
        list(_handlers(FakeBackend(content="a b c", fail_after=1)).chat("q", [], False, *args))


def test_export_and_import_through_the_handlers(tmp_path):
    chat = _handlers(FakeBackend(content="Ethanol is <SMILES>CCO</SMILES>."))
    _, history = _ask(chat, History(), "a & b")
    markdown, document = chat.export(history)
    chatbot, restored = chat.import_conversation(document)
    assert restored.turns[0].text == "a & b" and chatbot[0]["content"][-1]["text"] == "a & b"
    assert restored.turns[0].answer.settings == history.turns[0].answer.settings
    with pytest.warns(UserWarning, match="Nothing to export"):
        assert chat.export(History()) == gr.skip()
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.warns(UserWarning, match="Could not import bad.json: not valid JSON"):
        assert chat.import_conversation(str(tmp_path / "bad.json")) == (gr.skip(), gr.skip())


# ---------------------------------------------------------------- the byte-for-byte property

TRICKY = [
    "&amp;", "&lt;b&gt;", "&#x27;", "&nbsp;", "<b>", "</b>", "`", "```", "`a &amp; b`", "<SMILES>CCO</SMILES>",
    "\\", "\t", "\r\n", "\n\n", "    indented", "\x00", "\x07", "\x1b[31m", "\x7f", "\u202e", "\u200b", "é", "🧪",
    "*", "_", "[x](javascript:alert(1))", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "  ",
]  # fmt: skip
typed_text = (
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)), min_size=1, max_size=10)
    .map("".join)
    # Typed control tokens (<|im_end|>, <think>, …) are neutralised for the model on purpose (README, "Limits and
    # security"); every other character must arrive unchanged.
    .filter(lambda text: text.strip() and neutralize_control_tokens(text) == text)
)


@settings(max_examples=60, deadline=None)
@given(first=typed_text, edited=typed_text)
def test_typed_text_reaches_the_backend_byte_for_byte(first, edited):
    backend = FakeBackend(content="ok")
    chat = _handlers(backend)
    chatbot, history = _ask(chat, History(), first)
    assert _sent_text(backend) == first and history.turns[0].text == first
    assert chatbot[0]["content"][-1] == {"type": "text", "text": first}  # the edit box will show exactly this
    _, history = chat.retry(history, gr.RetryData(None, {"index": 0, "value": first}))
    _, history = _respond(chat, history)
    assert _sent_text(backend) == first
    _, history = chat.edit(history, gr.EditData(None, {"index": 0, "value": edited, "previous_value": first}))
    _respond(chat, history)
    assert _sent_text(backend) == edited
    list(chat.chat(first, [], False, 0.8, 1.0, 50, 0.0, 8, "", False, _request()))
    assert _sent_text(backend) == first
