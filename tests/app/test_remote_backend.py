"""OpenAICompatibleBackend against our own ``serve`` subprocess and recorded engine streams on loopback.

What each dialect puts on the wire, the generic dialect's OpenAI-schema messages, dialect replays (vLLM, SGLang,
lmdeploy, no parsers), retries before the first text, errors, Stop. The tests against ``transformers serve`` are in
``test_remote_transformers_serve.py``.
"""

import base64
import io
import time

import pytest
from PIL import Image
from remote_checks import assert_openai_schema, collect_answer, stop_after
from serving import ServerProcess, free_port
from sse_replay import ReplayServer

from app.backends.base import BackendError, SamplingParams
from app.backends.remote import OpenAICompatibleBackend, detect_dialect, to_openai_messages
from app.chat.tools import render_action


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
    path = _png(tmp_path)
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


ENGINE_FIELDS = {"top_k", "min_p", "enable_thinking", "chat_template_kwargs", "skip_special_tokens",
                 "spaces_between_special_tokens"}  # fmt: skip


@pytest.mark.parametrize("owned_by", ["lmdeploy", "vllm", "sglang", "some-other-server"])
def test_request_fields_per_dialect_on_the_wire(owned_by, tmp_path):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image", "path": str(_png(tmp_path))}]}
    ]
    params = SamplingParams(enable_thinking=False, top_k=7, min_p=0.05)
    with ReplayServer("lmdeploy.txt", owned_by) as replay:
        backend = OpenAICompatibleBackend(replay.url)
        collect_answer(backend, messages, params, tools=[{"name": "f", "parameters": {}}])
    (body,) = replay.requests
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["tools"] == [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    url = body["messages"][0]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (32, 16)
    if owned_by == "some-other-server":
        assert backend.dialect == "generic"
        assert_openai_schema(body)
        assert not ENGINE_FIELDS & set(body)
        return
    assert (body["top_k"], body["min_p"], body["skip_special_tokens"]) == (7, 0.05, False)
    if owned_by == "lmdeploy":
        assert body["enable_thinking"] is False and "chat_template_kwargs" not in body
    else:
        assert body["chat_template_kwargs"] == {"enable_thinking": False} and "enable_thinking" not in body


def test_engine_fields_for_tools_only_with_tools():
    with ReplayServer("lmdeploy.txt", "vllm") as replay:
        collect_answer(OpenAICompatibleBackend(replay.url), [{"role": "user", "content": "hi"}])
    assert "skip_special_tokens" not in replay.requests[0] and "tools" not in replay.requests[0]


def test_generic_messages_follow_the_openai_schema():
    first = {"name": "check_smiles", "parameters": {"smiles": "CCO"}}
    second = {"name": "check_sequence", "parameters": {"sequence": "ACGT"}}
    typed = "a &amp; <b>`x`</b>\x07 \u00e9"  # reaches the model byte for byte
    messages = [
        {"role": "user", "content": typed},
        {"role": "assistant", "content": "Let me check." + render_action(first), "reasoning_content": "plan"},
        {"role": "environment", "name": "check_smiles", "content": '{"valid": true}'},
        {"role": "assistant", "content": render_action(second)},
        {"role": "environment", "name": "check_sequence", "content": '{"kind": "dna"}'},
        {"role": "assistant", "content": "Both fine. <|action_start|><|plugin|>\nnot json\n<|action_end|>"},
    ]
    converted = to_openai_messages(messages, schema_only=True)
    assert_openai_schema({"model": "m", "messages": converted})
    assert converted[0] == {"role": "user", "content": typed}
    call_1, call_2 = converted[1]["tool_calls"][0], converted[3]["tool_calls"][0]
    assert converted[1]["content"] == "Let me check." and "reasoning_content" not in converted[1]
    assert call_1["function"] == {"name": "check_smiles", "arguments": '{"smiles": "CCO"}'}
    assert converted[2] == {"role": "tool", "content": '{"valid": true}', "tool_call_id": call_1["id"]}
    assert converted[4]["tool_call_id"] == call_2["id"] != call_1["id"]
    assert converted[5] == {"role": "assistant", "content": messages[5]["content"]}  # not a call: kept as written
    # the engines get Intern-S1's own form back
    native = to_openai_messages(messages)
    assert native[1]["content"] == messages[1]["content"] and native[1]["reasoning_content"] == "plan"
    assert native[2] == {"role": "tool", "content": '{"valid": true}', "name": "check_smiles"}


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
        ("openai", "generic"),
        ("", "generic"),
        (None, "generic"),
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
        answer = collect_answer(
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
            collect_answer(backend, [{"role": "user", "content": "hi"}])


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
    image = [{"type": "image", "path": str(_png(tmp_path))}, {"type": "text", "text": "Describe."}]
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


def test_empty_stream_before_first_chunk_is_retried():
    with ReplayServer("lmdeploy.txt", "lmdeploy", drop_first=1) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=2, backoff_s=0.01)
        answer = collect_answer(backend, [{"role": "user", "content": "hi"}])
        assert answer["content"] == "Let me validate it." and len(replay.requests) == 2
    with ReplayServer("lmdeploy.txt", "lmdeploy", drop_first=5) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=1, backoff_s=0.01)
        with pytest.raises(BackendError, match=r"sent no answer \(the stream closed empty\) after 2 attempt\(s\)"):
            collect_answer(backend, [{"role": "user", "content": "hi"}])


def test_silent_server_times_out_with_a_clear_message():
    with ReplayServer("lmdeploy.txt", "lmdeploy", stall_s=2.0) as replay:
        backend = OpenAICompatibleBackend(replay.url, timeout=0.3, max_retries=0)
        with pytest.raises(BackendError, match=r"sent no answer \(no data for 0.3 s\)"):
            collect_answer(backend, [{"role": "user", "content": "hi"}])


def test_chat_callback_shows_the_error_and_recovers_after_the_server_dies():
    """The UI path (callbacks.respond) over the remote backend: server killed mid-answer, then back."""
    from app.callbacks import ERROR_TITLE, ChatContext, SessionRegistry, respond
    from app.config import Limits

    port = free_port()
    process = ServerProcess(port, env={"SERVE_FAKE_DELAY": "0.05", "SERVE_FAKE_WORDS": "200"}).start()
    ctx = ChatContext(OpenAICompatibleBackend(process.url, backoff_s=0.2), Limits(), SessionRegistry(1))
    history = [{"role": "user", "content": "hello"}]
    params = SamplingParams(enable_thinking=False)
    try:
        updates = respond(ctx, history, "", params, "session-1")
        next(updates)  # the answer has started streaming
        process.kill()
        final = list(updates)[-1]
        error = final[-1]
        assert error["metadata"]["title"] == ERROR_TITLE and "was lost after" in error["content"]
        assert ctx.sessions.active("session-1") == 0  # the session is free again
        process = ServerProcess(port).start()
        final = list(respond(ctx, history, "", params, "session-1"))[-1]
        assert "text=hello" in final[-1]["content"] and not final[-1].get("metadata")
    finally:
        process.stop()


# -- answers a generic server gives, and how its stream ends --------------------------------------------------------


@pytest.mark.parametrize("piece_bytes", [0, 7])
@pytest.mark.parametrize("owned_by", ["some-other-server", "vllm"])
def test_an_answer_that_never_closes_thinking_is_shown_as_the_answer(owned_by, piece_bytes):
    with ReplayServer("plain_answer.txt", owned_by, piece_bytes=piece_bytes) as replay:
        backend = OpenAICompatibleBackend(replay.url)
        on = collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=True))
        off = collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
    assert on["content"] == "Water is wet." and on["reasoning"] == "Water is wet."
    assert on["usage"][-1] == {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14,
                               "finish_reason": "stop", "thinking_unclosed": True}  # fmt: skip
    assert (off["content"], off["reasoning"]) == ("Water is wet.", "")
    assert "thinking_unclosed" not in off["usage"][-1]


@pytest.mark.parametrize("piece_bytes", [0, 5])
def test_done_without_a_finish_reason_is_a_complete_answer(piece_bytes):
    with ReplayServer("done_without_finish_reason.txt", "lmdeploy", piece_bytes=piece_bytes) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=0)
        answer = collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
    assert answer["content"] == "one two three" and answer["usage"] == []


def test_a_body_cut_before_done_is_reported_not_repeated():
    with ReplayServer("done_without_finish_reason.txt", "lmdeploy", cut_before=b"data: [DONE]") as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=2, backoff_s=0.01)
        with pytest.raises(BackendError, match=r"lost after 3 chunk\(s\) \(the stream ended without \[DONE\]"):
            collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
    assert len(replay.requests) == 1  # text had been shown: asking again would repeat it
    with ReplayServer("done_without_finish_reason.txt", "lmdeploy", cut_before=b"data: {") as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=1, backoff_s=0.01)
        with pytest.raises(BackendError, match=r"sent no answer \(the stream closed empty\) after 2 attempt\(s\)"):
            collect_answer(backend, [{"role": "user", "content": "hi"}])
    assert len(replay.requests) == 2  # nothing shown yet: asked again


def test_an_empty_model_list_names_served_model():
    with ReplayServer("plain_answer.txt", "vllm", list_models=False) as replay:
        backend = OpenAICompatibleBackend(replay.url)
        assert backend.info.model_id == "(not discovered yet)"
        with pytest.raises(BackendError, match=r"lists no model on GET /v1/models .* --served-model"):
            collect_answer(backend, [{"role": "user", "content": "hi"}])
        named = OpenAICompatibleBackend(replay.url, served_model="my-model")
        assert collect_answer(named, [{"role": "user", "content": "hi"}])["content"] == "Water is wet."
    assert named.dialect == "generic" and replay.requests[-1]["model"] == "my-model"


def test_auto_dialect_is_settled_once_the_server_answers():
    port = free_port()
    backend = OpenAICompatibleBackend(f"http://127.0.0.1:{port}", served_model="m", max_retries=0)
    assert backend.dialect == "auto"  # the server was down at start-up
    with ReplayServer("lmdeploy.txt", "vllm", port=port) as replay:
        collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
    assert backend.dialect == "vllm" and replay.requests[0]["chat_template_kwargs"] == {"enable_thinking": False}


@pytest.mark.parametrize(
    ("status", "body", "message", "requests"),
    [
        (401, b'{"error": {"message": "invalid api key", "type": "auth"}}', r"rejected the request \(HTTP 401: invalid api key\)", 1),
        (422, b'{"detail": "Unexpected fields in the request: {\'top_k\'}"}', r"rejected the request \(HTTP 422: Unexpected fields", 1),
        (400, b"plain words", r"rejected the request \(HTTP 400: plain words\)", 1),
        (429, b'{"message": "slow down"}', r"not answering after 2 attempt\(s\): HTTP 429: slow down", 2),
        (500, b"", r"not answering after 2 attempt\(s\): HTTP 500: Internal Server Error", 2),
    ],
)  # fmt: skip
def test_refusals_become_short_messages_with_the_servers_reason(status, body, message, requests):
    with ReplayServer("lmdeploy.txt", "lmdeploy", refuse_with=(status, body)) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=1)
        with pytest.raises(BackendError, match=message):
            collect_answer(backend, [{"role": "user", "content": "hi"}])
    assert len(replay.requests) == requests  # the SDK retries only what may succeed later


def test_a_malformed_chunk_is_named(tmp_path, monkeypatch):
    import sse_replay

    (tmp_path / "bad.txt").write_text('data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: {"choices": [\n\n')
    monkeypatch.setattr(sse_replay, "SSE_DIR", tmp_path)
    with ReplayServer("bad.txt", "vllm") as replay:
        backend = OpenAICompatibleBackend(replay.url)
        with pytest.raises(BackendError, match="the server sent a malformed stream chunk"):
            collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))


def test_a_server_that_never_starts_answering_times_out_clearly():
    with ReplayServer("lmdeploy.txt", "lmdeploy", stall_headers_s=1.5) as replay:
        backend = OpenAICompatibleBackend(replay.url, timeout=0.3, max_retries=0)
        with pytest.raises(
            BackendError, match=r"not answering after 1 attempt\(s\): no answer in time \(connect 5 s, "
        ):
            collect_answer(backend, [{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ((404, b'{"detail": "Not Found"}'), r"has no model list \(GET /v1/models: HTTP 404\): name the model with --served-model"),
        ((200, b"<html>a login page</html>"), r"/v1/models did not return a model list"),
        ((200, b'{"data": [{"object": "model"}]}'), r"lists no model on GET /v1/models"),
        ((401, b'{"error": {"message": "invalid api key"}}'), r"rejected the request \(HTTP 401: invalid api key\)"),
    ],
)  # fmt: skip
def test_model_discovery_problems_are_explained(reply, message):
    with ReplayServer("plain_answer.txt", "vllm", models_reply=reply) as replay:
        backend = OpenAICompatibleBackend(replay.url, max_retries=0)
        with pytest.raises(BackendError, match=message):
            collect_answer(backend, [{"role": "user", "content": "hi"}])


def test_a_server_without_a_model_list_works_once_the_model_is_named():
    with ReplayServer("plain_answer.txt", "vllm", models_reply=(404, b"")) as replay:
        backend = OpenAICompatibleBackend(replay.url, served_model="m", max_retries=0)
        answer = collect_answer(backend, [{"role": "user", "content": "hi"}], SamplingParams(enable_thinking=False))
    assert answer["content"] == "Water is wet." and backend.dialect == "generic"


def test_only_our_key_goes_to_the_server(monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-private")
    with ReplayServer("plain_answer.txt", "vllm") as replay:
        collect_answer(OpenAICompatibleBackend(replay.url, api_key="sk-local"), [{"role": "user", "content": "hi"}])
    (headers,) = replay.request_headers
    sent = {key.lower(): value for key, value in headers.items()}
    assert sent["authorization"] == "Bearer sk-local"
    assert "openai-organization" not in sent and "openai-project" not in sent
