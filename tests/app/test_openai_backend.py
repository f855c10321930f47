"""OpenAICompatibleBackend against a real ``serve`` subprocess on loopback, plus request building per dialect."""

import base64
import io
import threading
import time

import pytest
from PIL import Image
from serving import ServerProcess, free_port
from sse_replay import ReplayServer

from app.backends.base import BackendError, SamplingParams
from app.backends.remote import OpenAICompatibleBackend, detect_dialect, to_openai_messages


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


def _collect(backend, messages, params=SamplingParams(), **kwargs):
    out = {"reasoning": "", "content": "", "tool_call": [], "usage": []}
    for delta in backend.stream_chat(messages, params, **kwargs):
        if delta.kind in ("reasoning", "content"):
            out[delta.kind] += delta.text
        else:
            out[delta.kind].append(delta.data)
    return out


def _png(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (32, 16), "red").save(path)
    return path


def test_discovers_model_and_dialect(server):
    backend = OpenAICompatibleBackend(server.url + "/v1")
    assert backend.info.model_id == "fake-model"
    assert backend.dialect == "lmdeploy"  # our server speaks the lmdeploy dialect
    assert backend.info.kind == "openai"


def test_text_with_thinking_on_and_off(server):
    backend = OpenAICompatibleBackend(server.url)
    on = _collect(backend, [{"role": "user", "content": "hello"}], SamplingParams(enable_thinking=True))
    assert on["reasoning"] == "Let me look at what arrived."
    assert "roles=user text=hello thinking=True" in on["content"]
    assert on["usage"][-1]["prompt_tokens"] == 7 and on["usage"][-1]["completion_tokens"] > 0
    off = _collect(
        backend, [{"role": "user", "content": "hello"}], SamplingParams(enable_thinking=False, max_new_tokens=33)
    )
    assert off["reasoning"] == ""
    assert "thinking=False max=33" in off["content"]


def test_image_travels_as_data_url(server, tmp_path):
    path = _png(tmp_path)
    backend = OpenAICompatibleBackend(server.url)
    content = [{"type": "text", "text": "what is this?"}, {"type": "image", "path": str(path)}]
    answer = _collect(backend, [{"role": "user", "content": content}])
    assert f"image=.png:{path.stat().st_size}" in answer["content"]


def test_history_with_environment_turn_and_tool_call(server):
    backend = OpenAICompatibleBackend(server.url)
    messages = [
        {"role": "user", "content": "check it"},
        {"role": "assistant", "content": "", "reasoning_content": "I should call a tool"},
        {"role": "environment", "content": '{"valid": true}'},
        {"role": "user", "content": "CALL_TOOL again"},
    ]
    answer = _collect(backend, messages, tools=[{"name": "check_smiles", "parameters": {"type": "object"}}])
    assert "roles=user,assistant,environment,user" in answer["content"]
    assert answer["tool_call"] == [{"name": "check_smiles", "parameters": {"smiles": "CCO"}}]


def test_stop_ends_the_stream_quickly(slow_server):
    backend = OpenAICompatibleBackend(slow_server.url)
    cancel = threading.Event()
    pieces = 0
    started = time.monotonic()
    for delta in backend.stream_chat([{"role": "user", "content": "long"}], SamplingParams(), cancel=cancel):
        pieces += delta.kind == "content"
        if pieces == 3:
            cancel.set()
            stopped_at = time.monotonic()
    assert pieces == 3
    assert time.monotonic() - stopped_at < 1.0
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
        answer = _collect(backend, [{"role": "user", "content": "again"}], SamplingParams(enable_thinking=False))
        assert "text=again" in answer["content"]
    finally:
        process.stop()


def test_request_body_per_dialect(tmp_path):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image", "path": str(_png(tmp_path))}]}
    ]
    params = SamplingParams(enable_thinking=False)
    bodies = {}
    for dialect in ("lmdeploy", "vllm", "sglang"):
        backend = OpenAICompatibleBackend("http://127.0.0.1:9", served_model="m", dialect=dialect)
        bodies[dialect] = backend.build_request(messages, params, tools=[{"name": "f", "parameters": {}}])
    assert bodies["lmdeploy"]["enable_thinking"] is False and "chat_template_kwargs" not in bodies["lmdeploy"]
    for dialect in ("vllm", "sglang"):
        assert bodies[dialect]["chat_template_kwargs"] == {"enable_thinking": False}
        assert "enable_thinking" not in bodies[dialect]
    body = bodies["vllm"]
    assert body["stream_options"] == {"include_usage": True}
    assert body["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    assert body["skip_special_tokens"] is False
    url = body["messages"][0]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (32, 16)


def test_message_conversion_errors_are_clear(tmp_path):
    with pytest.raises(BackendError, match="could not read the attached file 'missing.png'"):
        to_openai_messages([{"role": "user", "content": [{"type": "image", "path": str(tmp_path / "missing.png")}]}])
    with pytest.raises(BackendError, match="unsupported message role 'robot'"):
        to_openai_messages([{"role": "robot", "content": "x"}])
    video = to_openai_messages([{"role": "user", "content": [{"type": "video", "url": "data:video/mp4;base64,AAAA"}]}])
    assert video[0]["content"][0] == {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}}


def test_constructor_validates_arguments():
    with pytest.raises(ValueError, match="dialect must be one of"):
        OpenAICompatibleBackend("http://127.0.0.1:9", served_model="m", dialect="ollama")
    with pytest.raises(ValueError, match="must start with http"):
        OpenAICompatibleBackend("127.0.0.1:9", served_model="m")


@pytest.mark.parametrize(
    ("owned_by", "dialect"),
    [
        ("vllm", "vllm"),
        ("sglang", "sglang"),
        ("lmdeploy", "lmdeploy"),
        ("intern-s1-studio", "lmdeploy"),
        ("openai", "auto"),
    ],
)
def test_detect_dialect(owned_by, dialect):
    assert detect_dialect(owned_by) == dialect


# -- dialect replays ---------------------------------------------------------------------------------------------

EXPECTED_SPLIT = {
    "reasoning": "The user asks about ethanol. I should validate the SMILES first.",
    "content": "Let me validate it.",
    "tool_call": [{"name": "check_smiles", "parameters": {"smiles": "CCO"}}],
}


@pytest.mark.parametrize(
    ("sse_file", "owned_by", "has_usage"),
    [
        ("vllm_reasoning.txt", "vllm", True),
        ("sglang.txt", "sglang", True),
        ("lmdeploy.txt", "lmdeploy", True),
        ("inline_no_parser.txt", "vllm", True),
        ("vllm_tool_parser_missed.txt", "vllm", False),
    ],
)
@pytest.mark.parametrize("piece_bytes", [0, 7])
def test_dialect_replays_give_the_same_split(sse_file, owned_by, has_usage, piece_bytes):
    with ReplayServer(sse_file, owned_by, piece_bytes=piece_bytes) as replay:
        backend = OpenAICompatibleBackend(replay.url)
        assert backend.dialect == owned_by
        answer = _collect(
            backend, [{"role": "user", "content": "Is CCO valid?"}], tools=[{"name": "check_smiles", "parameters": {}}]
        )
    assert answer["reasoning"].strip() == EXPECTED_SPLIT["reasoning"]
    assert answer["content"].strip() == EXPECTED_SPLIT["content"]
    assert answer["tool_call"] == EXPECTED_SPLIT["tool_call"]
    assert bool(answer["usage"] and answer["usage"][-1].get("total_tokens") == 450) == has_usage
    sent = replay.requests[-1]
    thinking = sent.get("enable_thinking", sent.get("chat_template_kwargs", {}).get("enable_thinking"))
    assert thinking is True


def test_error_chunk_mid_stream_becomes_backend_error(tmp_path, monkeypatch):
    import sse_replay

    (tmp_path / "err.txt").write_text(
        'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: {"error": {"message": "CUDA out of memory", "code": 500}}\n\n'
    )
    monkeypatch.setattr(sse_replay, "SSE_DIR", tmp_path)
    with ReplayServer("err.txt", "vllm") as replay:
        backend = OpenAICompatibleBackend(replay.url)
        with pytest.raises(BackendError, match="failed while answering: CUDA out of memory"):
            _collect(backend, [{"role": "user", "content": "hi"}])


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
    off = _collect(
        backend,
        [{"role": "user", "content": "What is water?"}],
        SamplingParams(enable_thinking=False, max_new_tokens=6, temperature=0),
    )
    assert off["content"] and off["usage"][-1]["completion_tokens"] == 6
    assert off["usage"][-1]["finish_reason"] == "length"
    again = _collect(
        backend,
        [{"role": "user", "content": "What is water?"}],
        SamplingParams(enable_thinking=False, max_new_tokens=6, temperature=0),
    )
    assert again["content"] == off["content"]  # greedy: the same text through the whole stack
    image = [{"type": "image", "path": str(_png(tmp_path))}, {"type": "text", "text": "Describe."}]
    seen = _collect(backend, [{"role": "user", "content": image}], SamplingParams(max_new_tokens=4, temperature=0))
    assert seen["usage"][-1]["prompt_tokens"] > off["usage"][-1]["prompt_tokens"] + 200  # the image tokens arrived


def test_tiny_checkpoint_stop_mid_answer(tiny_server):
    backend = OpenAICompatibleBackend(tiny_server.url)
    cancel = threading.Event()
    pieces = 0
    for delta in backend.stream_chat(
        [{"role": "user", "content": "Tell me a long story."}],
        SamplingParams(enable_thinking=False, max_new_tokens=400),
        cancel=cancel,
    ):
        pieces += delta.kind in ("content", "reasoning")
        if pieces == 2:
            cancel.set()
    assert pieces == 2
    # the server is still fine for the next request
    assert _collect(
        backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False, max_new_tokens=3)
    )["usage"]


def test_empty_stream_before_first_chunk_is_retried():
    with ReplayServer("lmdeploy.txt", "lmdeploy", drop_first=1) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=2, backoff_s=0.01)
        answer = _collect(backend, [{"role": "user", "content": "hi"}])
        assert answer["content"] == "Let me validate it." and len(replay.requests) == 2
    with ReplayServer("lmdeploy.txt", "lmdeploy", drop_first=5) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=1, backoff_s=0.01)
        with pytest.raises(BackendError, match=r"sent no answer \(the stream closed empty\) after 2 attempt\(s\)"):
            _collect(backend, [{"role": "user", "content": "hi"}])


def test_silent_server_times_out_with_a_clear_message():
    with ReplayServer("lmdeploy.txt", "lmdeploy", stall_s=2.0) as replay:
        backend = OpenAICompatibleBackend(replay.url, timeout=0.3, max_retries=0)
        with pytest.raises(BackendError, match=r"sent no answer \(no data for 0.3 s\)"):
            _collect(backend, [{"role": "user", "content": "hi"}])


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
        next(updates)  # the answer has started streaming
        process.kill()
        final = list(updates)[-1]
        assert final.end.state == "failed" and "was lost after" in final.end.reason
        assert engine.sessions.active("session-1") == 0  # the session is free again
        process = ServerProcess(port).start()
        final = list(engine.answer(messages, params, "session-1"))[-1]
        assert "text=hello" in final.content and final.end.state == "answered"
    finally:
        process.stop()
