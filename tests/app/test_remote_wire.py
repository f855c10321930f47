"""The remote backend against recorded engine streams and scripted loopback servers (``sse_replay.py``).

What each dialect puts on the wire, the generic dialect's OpenAI-schema messages, the same split from every engine's
stream shape (vLLM, SGLang, lmdeploy, no parsers), answers that never close their thinking, how a stream's end is
told from a cut, retries before the first text, and the message for each kind of refusal.
"""

import base64
import io

import pytest
from PIL import Image
from remote_checks import assert_openai_schema, collect_answer, write_png
from serving import free_port
from sse_replay import ReplayServer

from app.backends.base import BackendError, SamplingParams
from app.backends.remote import OpenAICompatibleBackend, detect_dialect, to_openai_messages
from app.chat.tools import render_action


ENGINE_FIELDS = {"top_k", "min_p", "enable_thinking", "chat_template_kwargs", "skip_special_tokens",
                 "spaces_between_special_tokens"}  # fmt: skip


@pytest.mark.parametrize("owned_by", ["lmdeploy", "vllm", "sglang", "some-other-server"])
def test_request_fields_per_dialect_on_the_wire(owned_by, tmp_path):
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "hi"}, {"type": "image", "path": str(write_png(tmp_path))}],
        }
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
