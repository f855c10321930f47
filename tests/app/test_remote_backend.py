"""OpenAICompatibleBackend against our own ``serve`` subprocess on loopback (the echo backend and a tiny real model).

Discovery, thinking on and off, images as data URLs, tool calls, Stop, a server that is down, refuses or dies
mid-answer, and the chat UI's path over it. Recorded engine streams are in ``test_remote_wire.py``; the tests
against ``transformers serve`` in ``test_remote_transformers_serve.py``.
"""

import time

import pytest
from remote_checks import collect_answer, stop_after, write_png
from serving import ServerProcess, free_port

from app.backends.base import BackendError, SamplingParams
from app.backends.remote import OpenAICompatibleBackend


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    process = ServerProcess(free_port()).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def slow_server():
    process = ServerProcess(free_port(), env={"SERVE_FAKE_DELAY": "0.05", "SERVE_FAKE_WORDS": "200"}).start()
    yield process
    process.stop()


def test_discovers_model_and_dialect(server):
    backend = OpenAICompatibleBackend(server.url + "/v1")
    assert backend.info.model_id == "fake-model"
    assert backend.dialect == "lmdeploy"  # our server speaks the lmdeploy dialect
    assert backend.info.kind == "openai"


def test_text_with_thinking_on_and_off(server):
    backend = OpenAICompatibleBackend(server.url)
    on = collect_answer(backend, [{"role": "user", "content": "hello"}], SamplingParams(enable_thinking=True))
    assert on["reasoning"] == "Let me look at what arrived."
    assert "roles=user text=hello thinking=True" in on["content"]
    assert on["usage"][-1]["prompt_tokens"] == 7 and on["usage"][-1]["completion_tokens"] > 0
    off = collect_answer(
        backend, [{"role": "user", "content": "hello"}], SamplingParams(enable_thinking=False, max_new_tokens=33)
    )
    assert off["reasoning"] == ""
    assert "thinking=False max=33" in off["content"]


def test_image_travels_as_data_url(server, tmp_path):
    path = write_png(tmp_path)
    backend = OpenAICompatibleBackend(server.url)
    content = [{"type": "text", "text": "what is this?"}, {"type": "image", "path": str(path)}]
    answer = collect_answer(backend, [{"role": "user", "content": content}])
    assert f"image=.png:{path.stat().st_size}" in answer["content"]


def test_history_with_environment_turn_and_tool_call(server):
    backend = OpenAICompatibleBackend(server.url)
    messages = [
        {"role": "user", "content": "check it"},
        {"role": "assistant", "content": "", "reasoning_content": "I should call a tool"},
        {"role": "environment", "content": '{"valid": true}'},
        {"role": "user", "content": "CALL_TOOL again"},
    ]
    answer = collect_answer(backend, messages, tools=[{"name": "check_smiles", "parameters": {"type": "object"}}])
    assert "roles=user,assistant,environment,user" in answer["content"]
    assert answer["tool_call"] == [{"name": "check_smiles", "parameters": {"smiles": "CCO"}}]


def test_stop_ends_the_stream_quickly(slow_server):
    backend = OpenAICompatibleBackend(slow_server.url)
    started = time.monotonic()
    pieces, after_stop = stop_after(backend, [{"role": "user", "content": "long"}], SamplingParams(), pieces=3)
    assert pieces == 3 and after_stop < 1.0
    assert time.monotonic() - started < 5.0  # the whole answer would take > 10 s


def test_server_down_gives_clear_message():
    backend = OpenAICompatibleBackend(
        f"http://127.0.0.1:{free_port()}", served_model="m", max_retries=1, backoff_s=0.01
    )
    with pytest.raises(BackendError, match=r"not answering after 2 attempt\(s\).*cannot connect"):
        list(backend.stream_chat([{"role": "user", "content": "hi"}], SamplingParams()))


def test_rejected_request_shows_the_server_reason(server):
    backend = OpenAICompatibleBackend(server.url, served_model="no-such-model")
    with pytest.raises(
        BackendError, match=r"rejected the request \(HTTP 404: the model `no-such-model` does not exist"
    ):
        list(backend.stream_chat([{"role": "user", "content": "hi"}], SamplingParams()))
    backend = OpenAICompatibleBackend(server.url)
    remote = [{"type": "image", "url": "https://example.org/cat.png"}]
    with pytest.raises(BackendError, match="HTTP 400: this server does not fetch remote images"):
        list(backend.stream_chat([{"role": "user", "content": remote}], SamplingParams()))


def test_server_killed_mid_stream_then_recovers():
    port = free_port()
    env = {"SERVE_FAKE_DELAY": "0.05", "SERVE_FAKE_WORDS": "200"}
    process = ServerProcess(port, env=env).start()
    backend = OpenAICompatibleBackend(process.url, max_retries=2, backoff_s=0.2)
    try:
        stream = backend.stream_chat([{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
        assert next(stream).kind == "content"
        process.kill()
        with pytest.raises(BackendError, match=r"connection to .* was lost after \d+ chunk\(s\)"):
            list(stream)
        process = ServerProcess(port).start()  # the same address comes back
        answer = collect_answer(backend, [{"role": "user", "content": "again"}], SamplingParams(enable_thinking=False))
        assert "text=again" in answer["content"]
    finally:
        process.stop()


# -- the real local backend behind `serve`, on a tiny checkpoint --------------------------------------------------


@pytest.fixture(scope="module")
def tiny_server(tiny_checkpoint):
    args = ["--backend", "local", "--model", str(tiny_checkpoint), "--device", "cpu"]
    process = ServerProcess(free_port(), args=args, env={"OMP_NUM_THREADS": "1"}).start(timeout=180)
    yield process
    process.stop()


def test_tiny_checkpoint_served_over_loopback(tiny_server, tmp_path):
    backend = OpenAICompatibleBackend(tiny_server.url)
    assert backend.info.model_id == backend.discover()
    off = collect_answer(
        backend,
        [{"role": "user", "content": "What is water?"}],
        SamplingParams(enable_thinking=False, max_new_tokens=6, temperature=0),
    )
    assert off["content"] and off["usage"][-1]["completion_tokens"] == 6
    assert off["usage"][-1]["finish_reason"] == "length"
    again = collect_answer(
        backend,
        [{"role": "user", "content": "What is water?"}],
        SamplingParams(enable_thinking=False, max_new_tokens=6, temperature=0),
    )
    assert again["content"] == off["content"]  # greedy: the same text through the whole stack
    image = [{"type": "image", "path": str(write_png(tmp_path))}, {"type": "text", "text": "Describe."}]
    seen = collect_answer(
        backend, [{"role": "user", "content": image}], SamplingParams(max_new_tokens=4, temperature=0)
    )
    assert seen["usage"][-1]["prompt_tokens"] > off["usage"][-1]["prompt_tokens"] + 200  # the image tokens arrived


def test_tiny_checkpoint_stop_mid_answer(tiny_server):
    backend = OpenAICompatibleBackend(tiny_server.url)
    story = [{"role": "user", "content": "Tell me a long story."}]
    params = SamplingParams(enable_thinking=False, max_new_tokens=400)
    pieces, after_stop = stop_after(backend, story, params, pieces=2, kinds=("content", "reasoning"))
    assert pieces == 2 and after_stop < 1.0
    # the server is still fine for the next request
    assert collect_answer(
        backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False, max_new_tokens=3)
    )["usage"]


def test_chat_engine_shows_the_error_and_recovers_after_the_server_dies():
    """The chat engine (UI and /chat path) over the remote backend: server killed mid-answer, then back."""
    from app.chat.engine import ChatEngine
    from app.config import Limits

    port = free_port()
    process = ServerProcess(port, env={"SERVE_FAKE_DELAY": "0.05", "SERVE_FAKE_WORDS": "200"}).start()
    engine = ChatEngine(OpenAICompatibleBackend(process.url, backoff_s=0.2), Limits())
    messages = [{"role": "user", "content": "hello"}]
    params = SamplingParams(enable_thinking=False)
    try:
        updates = engine.answer(messages, params, "session-1")
        while not next(updates).content:  # the engine's first update (and heartbeats) come before the answer streams
            pass
        process.kill()
        final = list(updates)[-1]
        assert final.end.state == "failed" and "was lost after" in final.end.reason
        assert engine.sessions.active("session-1") == 0  # the session is free again
        process = ServerProcess(port).start()
        final = list(engine.answer(messages, params, "session-1"))[-1]
        assert "text=hello" in final.content and final.end.state == "answered"
    finally:
        process.stop()
