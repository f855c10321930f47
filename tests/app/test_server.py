"""The OpenAI-compatible server over a FakeBackend, in process on loopback (lmdeploy dialect, validation, cancel)."""

import base64
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from serving import free_port

from app.backends.base import BackendError, Delta, SamplingParams
from app.backends.fake import FakeBackend
from app.serving.server import RequestError, create_app, parse_chat_request


PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


class InProcessServer:
    def __init__(self, backend):
        self.backend = backend
        self.port = free_port()
        config = uvicorn.Config(create_app(backend), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def _script(messages, params):
    deltas = []
    if params.enable_thinking:
        deltas += [Delta("reasoning", "Thinking "), Delta("reasoning", "hard.")]
    deltas += [Delta("content", "The answer "), Delta("content", "is H2O.")]
    if "tool" in str(messages[-1]["content"]):
        deltas.append(Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "O"}}))
    deltas.append(Delta("usage", data={"prompt_tokens": 5, "completion_tokens": 4}))
    return deltas


@pytest.fixture(scope="module")
def served():
    with InProcessServer(FakeBackend(script=_script)) as server:
        yield server


def _events(response) -> list:
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            payload = line[6:]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def test_health_and_models(served):
    assert httpx.get(served.url + "/health").json() == {"status": "ok", "model": "fake-model", "backend": "fake"}
    models = httpx.get(served.url + "/v1/models").json()
    assert models["data"][0]["id"] == "fake-model" and models["data"][0]["owned_by"] == "intern-s1-studio"


def test_streaming_in_lmdeploy_dialect(served):
    body = {"model": "fake-model", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "water?"}]}  # fmt: skip
    with httpx.stream("POST", served.url + "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    assert events[-1] == "[DONE]"
    deltas = [e["choices"][0]["delta"] for e in events[:-1] if e["choices"]]
    assert deltas[0] == {"role": "assistant", "reasoning_content": "Thinking "}
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Thinking hard."
    assert "".join(d.get("content", "") for d in deltas) == "The answer is H2O."
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"] == [] and events[-2]["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 4,
        "total_tokens": 9,
    }


def test_thinking_switch_in_both_spellings(served):
    for extra in ({"enable_thinking": False}, {"chat_template_kwargs": {"enable_thinking": False}}):
        body = {"messages": [{"role": "user", "content": "water?"}], **extra}
        message = httpx.post(served.url + "/v1/chat/completions", json=body).json()["choices"][0]["message"]
        assert "reasoning_content" not in message and message["content"] == "The answer is H2O."


def test_non_streaming_tool_call(served):
    body = {
        "messages": [{"role": "user", "content": "use a tool"}],
        "tools": [{"type": "function", "function": {"name": "check_smiles"}}],
    }
    answer = httpx.post(served.url + "/v1/chat/completions", json=body).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "check_smiles", "arguments": '{"smiles": "O"}'}
    assert served.backend.calls[-1].tools == [{"name": "check_smiles"}]


def test_openai_sdk_reads_our_stream(served):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=served.url + "/v1", api_key="EMPTY")
    stream = client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "use a tool"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    content, calls, usage = "", [], None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content += choice.delta.content or ""
            calls += choice.delta.tool_calls or []
    assert content == "The answer is H2O."
    assert calls[0].function.name == "check_smiles"
    assert usage.total_tokens == 9


def test_image_data_url_reaches_backend_as_temp_file_then_is_removed(served):
    seen = {}

    def script(messages, params):
        path = Path(messages[0]["content"][1]["path"])
        seen["path"], seen["bytes"] = path, path.read_bytes()
        return [Delta("content", "ok")]

    served.backend.script = script
    try:
        content = [
            {"type": "text", "text": "what?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
        ]
        answer = httpx.post(
            served.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": content}]}
        ).json()
    finally:
        served.backend.script = _script
    assert answer["choices"][0]["message"]["content"] == "ok"
    assert seen["bytes"] == base64.b64decode(PNG_1PX) and seen["path"].suffix == ".png"
    assert not seen["path"].exists()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"messages": []}, 400, "'messages' must be a non-empty list"),
        ({"messages": [{"role": "robot", "content": "x"}]}, 400, "unsupported role 'robot'"),
        (
            {"messages": [{"role": "user", "content": "x"}], "temperature": "hot"},
            400,
            "'temperature' must be a number",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
            400,
            "'max_tokens' must be an integer between 1",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "enable_thinking": "yes"},
            400,
            "'enable_thinking' must be true or false",
        ),
        ({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}, 404, "the model `gpt-4` does not exist"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}
                ]
            },
            400,
            "does not fetch remote images",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}],
                    }
                ]
            },
            400,
            "not valid base64",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:text/html;base64,AAAA"}}],
                    }
                ]
            },
            400,
            "expected image/",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "audio", "x": 1}]}]},
            400,
            "unsupported content part type 'audio'",
        ),
    ],
)
def test_bad_requests_get_clear_errors(served, body, status, message):
    response = httpx.post(served.url + "/v1/chat/completions", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


def test_invalid_json_body(served):
    response = httpx.post(served.url + "/v1/chat/completions", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


def test_backend_failure_mid_stream_is_an_sse_error_chunk():
    with InProcessServer(FakeBackend(content="one two three four", fail_after=2)) as server:
        body = {"stream": True, "messages": [{"role": "user", "content": "x"}]}
        with httpx.stream("POST", server.url + "/v1/chat/completions", json=body) as response:
            events = _events(response)
        assert events[-2]["error"]["message"] == "the fake model ran out of memory (simulated)"
        assert events[-1] == "[DONE]"
        # and the server keeps serving
        server.backend.fail_after = None
        assert httpx.post(server.url + "/v1/chat/completions", json={"messages": body["messages"]}).status_code == 200


def test_client_disconnect_cancels_generation():
    backend = FakeBackend(content="word " * 400, delay_s=0.02)
    with InProcessServer(backend) as server:
        body = {"stream": True, "messages": [{"role": "user", "content": "x"}]}
        with httpx.stream("POST", server.url + "/v1/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    break  # hang up after the first chunk
        deadline = time.monotonic() + 2.0
        while not backend.calls[-1].cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.calls[-1].cancelled and not backend.calls[-1].finished


def test_parse_chat_request_maps_roles_and_sampling():
    request = parse_chat_request(
        {"messages": [{"role": "tool", "content": "{}"}, {"role": "assistant", "content": "a", "reasoning": "r"}],
         "temperature": 0, "top_k": 5, "max_completion_tokens": 9},
        SamplingParams(),
    )  # fmt: skip
    assert [m["role"] for m in request.messages] == ["environment", "assistant"]
    assert request.messages[1]["reasoning_content"] == "r"
    assert request.params.greedy and request.params.top_k == 5 and request.params.max_new_tokens == 9
    with pytest.raises(RequestError, match="larger than the server limit"):
        parse_chat_request(
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 4000}}]}]},
            SamplingParams(), max_media_bytes=1000,
        )  # fmt: skip


def test_backend_error_type_is_reported_not_traceback():
    class Broken(FakeBackend):
        def stream_chat(self, *args, **kwargs):
            raise BackendError("GPU fell off the bus")
            yield  # pragma: no cover

    with InProcessServer(Broken()) as server:
        response = httpx.post(
            server.url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]}
        )
    assert response.status_code == 500 and response.json()["error"]["message"] == "GPU fell off the bus"


class _Counting(FakeBackend):
    """Records how many answers stream at the same time."""

    def __init__(self, together: int, **kwargs):
        super().__init__(**kwargs)
        self.lock, self.now, self.most = threading.Lock(), 0, 0
        # every answer waits until `together` answers are running: deterministic overlap, or a broken barrier
        self.barrier = threading.Barrier(together, timeout=10)

    def stream_chat(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.barrier.wait()
        try:
            yield from super().stream_chat(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("limit", [1, 3])
def test_generation_slots_bound_concurrent_answers(limit):
    backend = _Counting(together=limit, content="a b c d e f g h", delay_s=0.01)
    server = InProcessServer(backend)
    server.server.config.app = create_app(backend, max_concurrent=limit)
    with server:
        body = {"messages": [{"role": "user", "content": "x"}]}
        results = []
        threads = [threading.Thread(target=lambda: results.append(httpx.post(server.url + "/v1/chat/completions", json=body, timeout=30)))
                   for _ in range(3)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [r.status_code for r in results] == [200, 200, 200]
    assert backend.most == limit
    with pytest.raises(ValueError, match="max_concurrent must be at least 1"):
        create_app(backend, max_concurrent=0)
