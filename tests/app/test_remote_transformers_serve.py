"""The remote backend against a real peer nobody on this project wrote: ``transformers serve``, offline, on CPU.

The server runs tiny scripted checkpoints (``scripted_checkpoint.py``): "plain" (Llama, no reasoning parser on the
server) answers "Water is wet." and stops; "thinker" (Qwen3, whose ``<think>`` block the server splits into
``reasoning_content``) thinks "Let me think", then repeats "Water is wet." until ``max_tokens``. The server lists no
model (empty cache), checks request fields strictly (HTTP 422 for unknown ones) and sends no ``[DONE]``.
"""

import pytest
from remote_checks import assert_openai_schema, collect_answer, stop_after, write_png
from scripted_checkpoint import PLAIN_SCRIPT, THINKER_SCRIPT, build_scripted_lm
from serving import free_port
from transformers_serve import RecordingProxy, TransformersServe

from app.backends.base import BackendError, SamplingParams
from app.backends.remote import OpenAICompatibleBackend
from app.chat.tools import TOOL_SPECS, render_action


pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "Is water wet?"}]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripted-lms")
    return {
        "plain": str(build_scripted_lm(root / "plain", "llama", PLAIN_SCRIPT)),
        "thinker": str(build_scripted_lm(root / "thinker", "qwen3", THINKER_SCRIPT)),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = TransformersServe(free_port(), tmp_path_factory.mktemp("empty-hf-cache")).start()
    yield process
    process.stop()


def test_an_empty_model_list_asks_for_served_model(server):
    backend = OpenAICompatibleBackend(server.url + "/v1")  # discovery fails softly: the app can still start
    assert backend.info.model_id == "(not discovered yet)"
    with pytest.raises(BackendError, match=r"lists no model on GET /v1/models .*name the model with --served-model"):
        list(backend.stream_chat(QUESTION, SamplingParams()))


def test_thinking_model_streams_reasoning_then_answer(server, checkpoints):
    backend = OpenAICompatibleBackend(server.url, served_model=checkpoints["thinker"])
    assert backend.dialect == "generic"  # nothing in /v1/models names an engine
    on = collect_answer(backend, QUESTION, SamplingParams(max_new_tokens=12))
    assert on["reasoning"] == "Let me think"
    assert on["content"] == "Water is wet. Water is wet"
    assert on["usage"][-1]["finish_reason"] == "length" and on["usage"][-1]["completion_tokens"] == 12
    assert "thinking_unclosed" not in on["usage"][-1]
    # The generic dialect has no thinking switch to send: the server's own split still shows as reasoning.
    off = collect_answer(backend, QUESTION, SamplingParams(max_new_tokens=12, enable_thinking=False))
    assert off == on


def test_an_answer_without_thinking_is_never_hidden(server, checkpoints):
    backend = OpenAICompatibleBackend(server.url, served_model=checkpoints["plain"])
    on = collect_answer(backend, QUESTION, SamplingParams(enable_thinking=True))
    assert on["content"] == "Water is wet."  # no </think> ever came: what streamed is the answer
    assert on["reasoning"] == "Water is wet."  # (shown as tentative thinking while it streamed)
    assert on["usage"][-1]["thinking_unclosed"] is True and on["usage"][-1]["finish_reason"] == "stop"
    off = collect_answer(backend, QUESTION, SamplingParams(enable_thinking=False))
    assert (off["reasoning"], off["content"]) == ("", "Water is wet.")
    assert "thinking_unclosed" not in off["usage"][-1]


def test_generic_dialect_sends_only_openai_schema_fields(server, checkpoints, tmp_path):
    picture = write_png(tmp_path)
    call = {"name": "check_smiles", "parameters": {"smiles": "CCO"}}
    history = [
        {"role": "system", "content": "You are a chemist."},
        {"role": "user", "content": [{"type": "text", "text": "Check CCO."}, {"type": "image", "path": str(picture)}]},
        {"role": "assistant", "content": "Checking." + render_action(call), "reasoning_content": "Use the tool."},
        {"role": "environment", "name": "check_smiles", "content": '{"valid": true}'},
        {"role": "user", "content": "So?"},
    ]
    params = SamplingParams(top_k=5, min_p=0.1, enable_thinking=False)
    with RecordingProxy(server.url) as proxy:
        backend = OpenAICompatibleBackend(proxy.url, served_model=checkpoints["plain"])
        answer = collect_answer(backend, history, params, tools=TOOL_SPECS)
    assert answer["content"] == "Water is wet."  # the strict server took the request
    (body,) = proxy.bodies
    assert_openai_schema(body)
    assistant, result = body["messages"][2], body["messages"][3]
    assert assistant["content"] == "Checking."
    assert assistant["tool_calls"][0]["function"] == {"name": "check_smiles", "arguments": '{"smiles": "CCO"}'}
    assert result == {"role": "tool", "content": '{"valid": true}', "tool_call_id": assistant["tool_calls"][0]["id"]}
    assert body["messages"][1]["content"][0] == {"type": "text", "text": "Check CCO."}  # the user's text as typed


def test_an_engine_dialect_is_refused_with_the_servers_reason(server, checkpoints):
    backend = OpenAICompatibleBackend(server.url, served_model=checkpoints["plain"], dialect="vllm")
    with pytest.raises(
        BackendError, match=r"rejected the request \(HTTP 422: Unexpected fields in the request: .*top_k"
    ):
        list(backend.stream_chat(QUESTION, SamplingParams()))


def test_stop_mid_answer_ends_the_stream_quickly(server, checkpoints):
    backend = OpenAICompatibleBackend(server.url, served_model=checkpoints["thinker"])
    pieces, after_stop = stop_after(backend, QUESTION, SamplingParams(max_new_tokens=4000), pieces=3)
    assert pieces == 3 and after_stop < 1.0
    # the server is fine for the next request
    assert collect_answer(backend, QUESTION, SamplingParams(max_new_tokens=6))["content"] == "Water"


def test_server_killed_mid_answer_is_reported_then_recovers(server, checkpoints):
    backend = OpenAICompatibleBackend(server.url, served_model=checkpoints["thinker"], backoff_s=0.05)
    stream = backend.stream_chat(QUESTION, SamplingParams(max_new_tokens=4000))
    while next(stream).kind != "content":
        pass
    server.kill()
    try:
        with pytest.raises(BackendError, match=r"connection to .* was lost after \d+ chunk\(s\).*incomplete"):
            list(stream)
        with pytest.raises(BackendError, match=r"not answering after 3 attempt\(s\): cannot connect"):
            list(backend.stream_chat(QUESTION, SamplingParams()))
    finally:
        server.start()  # the same address comes back (and the module's server is up again for any later test)
    assert collect_answer(backend, QUESTION, SamplingParams(max_new_tokens=6))["content"] == "Water"
