"""Callbacks driven with the scripted FakeBackend (tier a: no server, no browser)."""

import threading
import time
from collections import deque

import gradio as gr
import pytest
from studio_media import ASPIRIN, make_image

from app import callbacks
from app.backends.base import BackendInfo, Delta, SamplingParams
from app.backends.fake import FakeBackend
from app.chat.attachments import THINKING_TITLE
from app.config import Limits


LIMITS = Limits()


def _ctx(backend, limits=LIMITS):
    return callbacks.ChatContext(backend=backend, limits=limits, sessions=callbacks.SessionRegistry(1))


def _user(text):
    return [{"role": "user", "content": text}]


def _last(iterator):
    return deque(iterator, maxlen=1)[0]


def test_respond_streams_thinking_then_answer_then_molecule_cards():
    backend = FakeBackend(reasoning="Aspirin has an ester.", content=f"Aspirin is <SMILES>{ASPIRIN}</SMILES>.")
    updates = list(callbacks.respond(_ctx(backend), _user("aspirin?"), "", SamplingParams(), "s1"))
    final = updates[-1]
    thinking, answer, card = final[1], final[2], final[3]
    assert thinking["metadata"]["title"] == THINKING_TITLE and thinking["metadata"]["status"] == "done"
    assert thinking["metadata"]["duration"] >= 0
    assert thinking["content"] == "Aspirin has an ester."
    assert answer["content"] == f"Aspirin is &lt;SMILES&gt;{ASPIRIN}&lt;/SMILES&gt;."
    assert isinstance(card["content"], gr.HTML) and "C9H8O4" in card["content"].value
    # The answer grows monotonically while streaming.
    texts = [u[-1]["content"] for u in updates[:-1] if len(u) > 1 and isinstance(u[-1]["content"], str)]
    assert all(a in b or len(a) <= len(b) for a, b in zip(texts, texts[1:]))


def test_thinking_switch_is_passed_to_the_backend():
    backend = FakeBackend(reasoning="secret thoughts", content="answer")
    final = _last(callbacks.respond(_ctx(backend), _user("q"), "", SamplingParams(enable_thinking=False), "s"))
    assert backend.calls[-1].params.enable_thinking is False
    assert [m["content"] for m in final[1:]] == ["answer"]


def test_system_prompt_and_history_reach_the_backend():
    backend = FakeBackend(content="ok")
    history = [*_user("first"), {"role": "assistant", "content": "reply"}, *_user("second")]
    _last(callbacks.respond(_ctx(backend), history, "You are terse.", SamplingParams(), "s"))
    sent = backend.calls[-1].messages
    assert sent[0] == {"role": "system", "content": "You are terse."}
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


def test_stop_cancels_the_backend_within_a_second():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.05)
    ctx = _ctx(backend)
    stream = callbacks.respond(ctx, _user("long"), "", SamplingParams(), "s")
    next(stream)
    stopper = threading.Timer(0.2, callbacks.stop, args=(ctx, "s"))
    started = time.monotonic()
    stopper.start()
    final = _last(stream)
    assert time.monotonic() - started < 1.5
    assert backend.calls[-1].cancelled and not backend.calls[-1].finished
    assert final[-1]["metadata"]["title"].endswith("stopped")
    assert ctx.sessions.active("s") == 0


def test_closing_the_generator_cancels_the_backend():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.01)
    ctx = _ctx(backend)
    stream = callbacks.respond(ctx, _user("long"), "", SamplingParams(), "s")
    next(stream)
    next(stream)
    stream.close()  # what Gradio does when the user presses Stop or leaves
    assert ctx.sessions.active("s") == 0


def test_second_request_in_the_same_session_is_refused_while_one_runs():
    ctx = _ctx(FakeBackend(content="a b c", delay_s=0.05))
    first = callbacks.respond(ctx, _user("one"), "", SamplingParams(), "s")
    next(first)
    second = _last(callbacks.respond(ctx, _user("two"), "", SamplingParams(), "s"))
    assert "still being generated" in second[-1]["content"]
    other_session = _last(callbacks.respond(ctx, _user("two"), "", SamplingParams(), "other"))
    assert other_session[-1]["content"] == "a b c"
    first.close()


def test_backend_error_becomes_a_notice_and_the_next_turn_works():
    backend = FakeBackend(content="one two three four", fail_after=2)
    ctx = _ctx(backend)
    final = _last(callbacks.respond(ctx, _user("q"), "", SamplingParams(), "s"))
    assert final[-1]["metadata"]["title"] == callbacks.ERROR_TITLE
    assert "out of memory" in final[-1]["content"]
    backend.fail_after = None
    assert _last(callbacks.respond(ctx, _user("q"), "", SamplingParams(), "s"))[-1]["content"] == "one two three four"


def test_request_timeout_stops_generation():
    backend = FakeBackend(content=" ".join(["w"] * 100), delay_s=0.02)
    final = _last(callbacks.respond(_ctx(backend, Limits(request_timeout_s=0.1)), _user("q"), "", SamplingParams(), "s"))
    assert final[-1]["metadata"]["title"].endswith("timed out")


def test_prompt_budget_is_checked():
    final = _last(callbacks.respond(_ctx(FakeBackend(), Limits(max_prompt_tokens=10)), _user("x" * 100), "",
                                    SamplingParams(), "s"))
    assert "prompt budget" in final[-1]["content"]


def test_model_text_reaches_the_chat_escaped():
    backend = FakeBackend(content='<img src=x onerror="alert(1)"> <script>alert(2)</script>')
    final = _last(callbacks.respond(_ctx(backend), _user("q"), "", SamplingParams(), "s"))
    assert "<" not in final[-1]["content"]


def test_make_params_validates_api_values():
    params = callbacks.make_params(True, 0.7, 1.0, 50, 0.0, 256, LIMITS)
    assert params == SamplingParams(temperature=0.7, top_p=1.0, top_k=50, min_p=0.0, max_new_tokens=256)
    for bad in [(True, -1, 1, 50, 0, 10), (True, 0.7, 0, 50, 0, 10), (True, 0.7, 1, 2.5, 0, 10),
                (True, 0.7, 1, 50, 2, 10), (True, 0.7, 1, 50, 0, LIMITS.max_new_tokens_cap + 1)]:
        with pytest.raises(callbacks.InputError):
            callbacks.make_params(*bad, LIMITS)


def test_add_user_turn_validates_and_notes_budgets(tmp_path):
    image = str(make_image(tmp_path / "a.png"))
    history, box = callbacks.add_user_turn({"text": "look <b>", "files": [image]}, [], LIMITS)
    assert history == [{"role": "user", "content": [{"path": image}, "look &lt;b&gt;"]}]
    assert box.interactive is False
    with pytest.raises(gr.Error, match="empty"):
        callbacks.add_user_turn({"text": "", "files": []}, [], LIMITS)


def test_retry_and_edit_rewrite_history():
    history = [*_user("a"), {"role": "assistant", "content": "x"}, *_user("b"), {"role": "assistant", "content": "y"}]
    assert callbacks.history_before(history, 3) == history[:3]
    assert callbacks.history_before(history, 1) == history[:1]
    edited = callbacks.edit_history(history, 0, "A!")
    assert edited == [{"role": "user", "content": ["A!"]}]
    with pytest.raises(gr.Error):
        callbacks.edit_history(history, 1, "not mine")


def test_chat_api_yields_growing_text_with_think_tags():
    backend = FakeBackend(reasoning="r1 r2", content="c1 c2 c3")
    outputs = list(callbacks.chat_api(_ctx(backend), "q", [], True, (0.8, 1.0, 50, 0.0, 64), "", "s"))
    assert outputs[-1] == "<think>\nr1 r2\n</think>\n\nc1 c2 c3"
    assert all(outputs[i] <= outputs[i + 1] or outputs[i + 1].startswith(outputs[i][:5]) for i in range(len(outputs) - 1))
    plain = list(callbacks.chat_api(_ctx(backend), "q", [], False, (0.8, 1.0, 50, 0.0, 64), "", "s"))
    assert plain[-1] == "c1 c2 c3"
    with pytest.raises(gr.Error, match="temperature"):
        list(callbacks.chat_api(_ctx(backend), "q", [], True, (9.0, 1.0, 50, 0.0, 64), "", "s"))


def test_science_panel_callbacks():
    status, picture, rows = callbacks.smiles_panel(ASPIRIN)
    assert status.startswith("**Valid") and "C9H8O4" in status and "data:image/svg+xml" in picture
    assert ["molecular weight", "180.16"] in rows
    status, picture, rows = callbacks.smiles_panel("C1CC(")
    assert status.startswith("**Invalid") and picture == "" and rows == []
    assert callbacks.check_smiles("C(C)(C)(C)(C)C")["ok"] is False
    assert callbacks.check_smiles("C(C)(C)(C)(C)C")["error"]
    box = callbacks.insert_molecule("OCC", {"text": "", "files": []})
    assert box["text"].endswith("<SMILES>CCO</SMILES>")
    with pytest.raises(gr.Error, match="not inserted"):
        callbacks.insert_molecule("C1CC(", None)
    rendered = callbacks.render_molecule(ASPIRIN)
    assert rendered["ok"] and rendered["svg"].lstrip().startswith(("<?xml", "<svg"))


def test_sequence_panel_callbacks():
    status, card = callbacks.sequence_panel(">p\nMKTAYIAKQRQISFVKSHFSRQ")
    assert status.startswith("**Valid") and "<table>" in card
    status, card = callbacks.sequence_panel("MKT*JJ")
    assert status.startswith("**Invalid") and card == ""
    assert callbacks.insert_sequence("mktayiakqr", None)["text"].endswith("MKTAYIAKQR")


def test_molecule_3d_returns_a_molblock():
    block = callbacks.molecule_3d("CCO")
    assert "V2000" in block or "V3000" in block
    with pytest.raises(gr.Error):
        callbacks.molecule_3d("not a smiles")


def test_fake_backend_can_be_scripted_per_request():
    backend = FakeBackend(script=lambda messages, params: [Delta("content", messages[-1]["content"][-1]["text"][::-1])])
    final = _last(callbacks.respond(_ctx(backend), _user("abc"), "", SamplingParams(), "s"))
    assert final[-1]["content"] == "cba"
    assert isinstance(backend.info, BackendInfo)


def test_molecules_in_chat_lists_answer_molecules_newest_first():
    history = [
        *_user("q"),
        {"role": "assistant", "content": "Ethanol is <SMILES>CCO</SMILES>."},
        {"role": "assistant", "content": "thinking about C1CC(", "metadata": {"title": THINKING_TITLE}},
        *_user("q2"),
        {"role": "assistant", "content": [{"type": "text", "text": f"Aspirin: &lt;SMILES&gt;{ASPIRIN}&lt;/SMILES&gt;"}]},
    ]
    dropdown = callbacks.molecules_in_chat(history)
    assert [choice[0] for choice in dropdown.choices] == [ASPIRIN, "CCO"]


def test_tool_calls_run_and_show_as_collapsible_steps():
    def script(messages, params):
        if messages[-1]["role"] == "environment":
            return [Delta("content", "Ethanol checks out: <SMILES>CCO</SMILES>.")]
        return [Delta("reasoning", "I should validate it."),
                Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "OCC"}})]

    backend = FakeBackend(script=script)
    final = _last(callbacks.respond(_ctx(backend), _user("check OCC"), "", SamplingParams(), "s", use_tools=True))
    step = next(m for m in final if "check_smiles" in (m.get("metadata") or {}).get("title", ""))
    assert '"canonical_smiles": "CCO"' in step["content"]
    assert backend.calls[0].tools and backend.calls[1].messages[-1]["role"] == "environment"
    assert any(m["content"] == "Ethanol checks out: &lt;SMILES&gt;CCO&lt;/SMILES&gt;." for m in final)


class _ExplodingBackend(FakeBackend):
    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        yield Delta("content", "partial ")
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")


class _SilentBackend(FakeBackend):
    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        cancel.wait(30)  # hangs before its first token until cancelled
        return
        yield


def test_unexpected_backend_exception_keeps_partial_answer_and_says_why():
    final = _last(callbacks.respond(_ctx(_ExplodingBackend()), _user("q"), "", SamplingParams(), "s"))
    assert final[-2]["content"] == "partial "
    assert "ran out of memory" in final[-1]["content"] and "Traceback" not in final[-1]["content"]
    with pytest.raises(gr.Error, match="ran out of memory"):
        list(callbacks.chat_api(_ctx(_ExplodingBackend()), "q", [], False, (0.8, 1.0, 50, 0.0, 8), "", "s"))


def test_silent_backend_is_timed_out():
    started = time.monotonic()
    final = _last(callbacks.respond(_ctx(_SilentBackend(), Limits(request_timeout_s=0.3)), _user("q"), "",
                                    SamplingParams(), "s"))
    assert time.monotonic() - started < 5
    assert final[-1]["metadata"]["title"].endswith("timed out")
