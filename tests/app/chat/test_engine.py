"""The streaming engine driven with the scripted FakeBackend (no server, no browser): every turn ends in one state."""

import threading
import time
from collections import deque

import pytest
from studio_media import ASPIRIN

from app.backends.base import BackendError, Delta, SamplingParams
from app.backends.fake import FakeBackend
from app.chat.attachments import InputError
from app.chat.engine import ChatEngine, make_params
from app.chat.history import Answer, Found, ToolStep
from app.chat.sessions import SessionRegistry
from app.config import Limits


LIMITS = Limits()


def _engine(backend, limits=LIMITS):
    return ChatEngine(backend, limits, SessionRegistry(1))


def _user(text):
    return [{"role": "user", "content": [{"type": "text", "text": text}]}]


def _last(iterator):
    return deque(iterator, maxlen=1)[0]


def _final(backend, params=SamplingParams(), limits=LIMITS, **options) -> Answer:
    return _last(_engine(backend, limits).answer(_user("q"), params, "s", **options))


def test_streams_thinking_then_answer_and_finds_the_science():
    backend = FakeBackend(
        reasoning="Aspirin has an ester.", content=f"Aspirin is <SMILES>{ASPIRIN}</SMILES>.", delay_s=0.01
    )
    snapshots = []
    for answer in _engine(backend).answer(_user("aspirin?"), SamplingParams(), "s1"):
        snapshots.append((answer.reasoning, answer.content, answer.end))
    final = answer
    assert final.reasoning == "Aspirin has an ester." and final.content == f"Aspirin is <SMILES>{ASPIRIN}</SMILES>."
    assert final.thinking_seconds is not None and final.thinking_seconds > 0
    assert final.end.state == "answered" and final.end.marker == ""
    assert final.found == [Found("smiles", ASPIRIN)]
    assert final.usage == {"completion_tokens": 7, "finish_reason": "stop"}  # 4 thinking + 3 answer chunks
    # The answer grows: each snapshot extends the previous one; only the last is ended.
    texts = [reasoning + content for reasoning, content, _ in snapshots]
    assert len(texts) > 2 and all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert [end is None for _, _, end in snapshots[:-2]] == [True] * (len(snapshots) - 2)


def test_updates_are_throttled():
    backend = FakeBackend(content=" ".join(["w"] * 400))  # no delay: 400 deltas in a few milliseconds
    updates = list(_engine(backend).answer(_user("q"), SamplingParams(), "s"))
    assert len(updates) < 20


def test_thinking_switch_is_passed_to_the_backend():
    backend = FakeBackend(reasoning="secret thoughts", content="answer")
    final = _final(backend, SamplingParams(enable_thinking=False))
    assert backend.calls[-1].params.enable_thinking is False
    assert (final.reasoning, final.content, final.thinking_seconds) == ("", "answer", None)


def test_empty_answer_ends_empty_with_its_marker():
    final = _final(FakeBackend(content="", reasoning="I thought but said nothing."))
    assert final.end.state == "empty" and final.text_with_marker().endswith("(the model returned no text)")
    assert _final(FakeBackend(content="   \n")).end.state == "empty"


def test_new_token_limit_ends_cut_off_with_the_count():
    final = _final(FakeBackend(content="one two three four five six"), SamplingParams(max_new_tokens=4))
    assert final.content == "one two three four "
    assert final.end.state == "cut_off" and final.end.tokens == 4
    assert final.text_with_marker() == "one two three four \n\n(cut off at 4 tokens)"


def test_stop_cancels_the_backend_within_a_second_and_ends_stopped():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.05)
    engine = _engine(backend)
    stream = engine.answer(_user("long"), SamplingParams(), "s")
    next(stream)
    stopper = threading.Timer(0.2, engine.stop, args=("s",))
    started = time.monotonic()
    stopper.start()
    final = _last(stream)
    assert time.monotonic() - started < 1.5
    assert backend.calls[-1].cancelled and not backend.calls[-1].finished
    assert final.end.state == "stopped" and final.text_with_marker().endswith("(stopped)")
    assert engine.sessions.active("s") == 0


def test_closing_the_stream_frees_the_session_and_ends_the_answer_stopped():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.01)
    engine = _engine(backend)
    answer = Answer()
    stream = engine.answer(_user("long"), SamplingParams(), "s", answer=answer)
    next(stream)
    next(stream)
    stream.close()  # what Gradio does when the user presses Stop or leaves
    assert engine.sessions.active("s") == 0
    assert answer.end.state == "stopped" and backend.calls[-1].cancel_requested


def test_a_second_answer_in_the_same_session_is_refused_while_one_runs():
    engine = _engine(FakeBackend(content="a b c", delay_s=0.05))
    first = engine.answer(_user("one"), SamplingParams(), "s")
    next(first)
    with pytest.raises(InputError, match="still being generated"):
        next(engine.answer(_user("two"), SamplingParams(), "s"))
    assert _last(engine.answer(_user("two"), SamplingParams(), "other")).content == "a b c"
    first.close()


def test_backend_error_ends_failed_with_its_reason_and_the_next_turn_works():
    backend = FakeBackend(content="one two three four", fail_after=2)
    engine = _engine(backend)
    final = _last(engine.answer(_user("q"), SamplingParams(), "s"))
    assert final.end.state == "failed" and "out of memory" in final.end.reason
    assert final.content == "one two "  # the partial answer is kept
    backend.fail_after = None
    assert _last(engine.answer(_user("q"), SamplingParams(), "s")).content == "one two three four"


class _ExplodingBackend(FakeBackend):
    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        yield Delta("content", "partial ")
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")


class _SilentBackend(FakeBackend):
    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        cancel.wait(30)  # hangs before its first token until cancelled
        return
        yield


def test_unexpected_backend_exception_keeps_the_partial_answer_and_says_why():
    final = _final(_ExplodingBackend())
    assert final.content == "partial " and final.end.state == "failed"
    assert "ran out of memory" in final.end.reason and "Traceback" not in final.end.reason


def test_request_timeout_ends_timed_out():
    backend = FakeBackend(content=" ".join(["w"] * 100), delay_s=0.02)
    final = _final(backend, limits=Limits(request_timeout_s=0.1))
    assert final.end.state == "timed_out" and final.text_with_marker().endswith("(generation timed out)")


def test_a_silent_backend_is_timed_out_by_the_watchdog():
    started = time.monotonic()
    final = _final(_SilentBackend(), limits=Limits(request_timeout_s=0.3))
    assert time.monotonic() - started < 5
    assert final.end.state == "timed_out" and final.text_with_marker() == "(generation timed out)"


def test_prompt_budget_is_checked_before_streaming():
    backend = FakeBackend()
    with pytest.raises(InputError, match="prompt budget"):
        next(_engine(backend, Limits(max_prompt_tokens=10)).answer(_user("x" * 100), SamplingParams(), "s"))
    assert backend.calls == []


def test_make_params_validates_api_values():
    params = make_params(True, 0.7, 1.0, 50, 0.0, 256, LIMITS)
    assert params == SamplingParams(temperature=0.7, top_p=1.0, top_k=50, min_p=0.0, max_new_tokens=256)
    bad_values = [
        ((True, -1, 1, 50, 0, 10), "temperature"),
        ((True, 0.7, 0, 50, 0, 10), "top_p"),
        ((True, 0.7, 1, 2.5, 0, 10), "top_k"),
        ((True, 0.7, 1, 50, 2, 10), "min_p"),
        ((True, 0.7, 1, 50, 0, LIMITS.max_new_tokens_cap + 1), "max_new_tokens"),
        ((True, 0.7, 1, 50, 0, 10.5), "max_new_tokens"),
        # wrong types name the parameter and what arrived, instead of failing inside a comparison
        ((True, "abc", 1, 50, 0, 10), r"temperature must be a number, got 'abc' \(str\)"),
        ((True, 0.7, None, 50, 0, 10), r"top_p must be a number, got None \(NoneType\)"),
        ((True, 0.7, 1, [5], 0, 10), r"top_k must be a number, got \[5\] \(list\)"),
        ((True, 0.7, 1, 50, True, 10), r"min_p must be a number, got True \(bool\)"),
        ((True, 0.7, 1, 50, 0, "10"), r"max_new_tokens must be a number, got '10' \(str\)"),
        (("yes", 0.7, 1, 50, 0, 10), r"thinking must be true or false, got 'yes' \(str\)"),
    ]
    for bad, name in bad_values:
        with pytest.raises(InputError, match=name):
            make_params(*bad, LIMITS)


def test_tool_calls_run_and_become_steps_of_the_answer():
    def script(messages, params):
        if messages[-1]["role"] == "environment":
            return [Delta("content", "Ethanol checks out: <SMILES>CCO</SMILES>.")]
        return [
            Delta("reasoning", "I should validate it."),
            Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "OCC"}}),
        ]

    backend = FakeBackend(script=script)
    final = _final(backend, use_tools=True)
    assert [step.name for step in final.steps] == ["check_smiles"] and isinstance(final.steps[0], ToolStep)
    assert final.steps[0].result["canonical_smiles"] == "CCO" and final.steps[0].result["ok"] is True
    assert backend.calls[0].tools and backend.calls[1].messages[-1]["role"] == "environment"
    assert final.content == "Ethanol checks out: <SMILES>CCO</SMILES>." and final.end.state == "answered"


def test_a_backend_error_message_is_the_failure_reason():
    class Refusing(FakeBackend):
        def stream_chat(self, messages, params, *, tools=None, cancel=None):
            raise BackendError("the server refused the request (HTTP 400: bad image)")
            yield

    final = _final(Refusing())
    assert final.end.reason == "the server refused the request (HTTP 400: bad image)"
    assert final.text_with_marker() == "(failed: the server refused the request (HTTP 400: bad image))"


class _SilentBackend(FakeBackend):
    """Says nothing for ``silence_s`` (a queue, a long prefill), watching its cancel event, then answers."""

    silence_s: float = 5.0

    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        if cancel is not None and cancel.wait(self.silence_s):
            self.calls.append(None)  # noted: it saw the cancel during the silence
            return
        yield from super().stream_chat(messages, params, tools=tools, cancel=cancel)


def test_the_first_update_comes_at_once_and_heartbeats_follow_while_the_backend_is_silent():
    backend = _SilentBackend(content="late")
    stream = _engine(backend).answer(_user("q"), SamplingParams(), "s")
    started = time.monotonic()
    first = next(stream)
    assert time.monotonic() - started < 0.1 and first.content == "" and first.end is None
    next(stream)  # a heartbeat: the backend has said nothing yet
    assert time.monotonic() - started < 1.0
    stream.close()


def test_closing_the_stream_while_the_backend_is_silent_stops_it_within_a_heartbeat():
    backend = _SilentBackend(content="late")
    answer = Answer()
    stream = _engine(backend).answer(_user("q"), SamplingParams(), "s", answer=answer)
    next(stream), next(stream)
    closed = time.monotonic()
    stream.close()  # Gradio closing the handler (job.cancel() before any token)
    while None not in backend.calls and time.monotonic() - closed < 2:
        time.sleep(0.005)
    print(f"\nsilent backend saw the cancel {time.monotonic() - closed:.3f} s after the close")
    assert None in backend.calls and time.monotonic() - closed < 1.0
    assert answer.end.state == "stopped"


def test_a_request_cancelled_before_it_starts_never_reaches_the_backend():
    backend = FakeBackend(content="never")
    engine = _engine(backend)
    assert engine.cancel_request("event-1") is False  # not started yet: remembered
    final = _last(engine.answer(_user("q"), SamplingParams(), "s", request="event-1"))
    assert final.end.state == "stopped" and backend.calls == []
    assert _last(engine.answer(_user("q"), SamplingParams(), "s", request="event-2")).end.state == "answered"


def test_cancel_request_stops_the_running_answer_it_names():
    backend = FakeBackend(content=" ".join(["word"] * 500), delay_s=0.02)
    engine = ChatEngine(backend, LIMITS, SessionRegistry(2))
    mine = engine.answer(_user("q"), SamplingParams(), "s", request="mine")
    other = engine.answer(_user("q"), SamplingParams(), "s", request="other")
    next(mine), next(mine), next(other), next(other)
    assert engine.cancel_request("mine") is True
    assert _last(mine).end.state == "stopped"
    other.close()


def _thinking_only(text: str, **usage) -> FakeBackend:
    """A model that thinks and never writes answer text; ``usage`` is what its backend reports at the end."""
    return FakeBackend(script=lambda messages, params: [
        *(Delta("reasoning", word + " ") for word in text.split()),
        *([Delta("usage", data=usage)] if usage else []),
    ])  # fmt: skip


def test_thinking_that_never_closed_becomes_the_answer():
    final = _final(_thinking_only("I think it is water", thinking_unclosed=True))
    assert (final.content, final.reasoning, final.thinking_seconds) == ("I think it is water ", "", None)
    assert final.end.state == "answered" and final.thinking_unclosed


def test_a_remote_backend_that_already_sent_the_reply_again_as_text_is_not_doubled():
    backend = FakeBackend(script=lambda messages, params: [
        Delta("reasoning", "it is water"), Delta("content", "it is water"), Delta("usage", data={"thinking_unclosed": True}),
    ])  # fmt: skip
    final = _final(backend)
    assert (final.content, final.reasoning, final.end.state) == ("it is water", "", "answered")


def test_thinking_that_closed_without_an_answer_stays_thinking_and_ends_empty():
    final = _final(_thinking_only("just thinking"))
    assert (final.content, final.reasoning.strip(), final.end.state) == ("", "just thinking", "empty")
    assert final.thinking_seconds is not None
