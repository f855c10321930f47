"""Faults while answering, through the real launched app: the local model running out of memory mid-stream, and
the remote backend's server dying mid-stream or refusing requests (retry policy: with backoff, only before the
first chunk). Each fault must give the user a short message, and the app must keep serving.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest
import torch
from gradio_client.exceptions import AppError
from reliability_helpers import (
    Recorder,
    assert_user_facing,
    chat,
    free_port,
    launch_app,
    submit_chat,
    tiny_model_backend,
    without_end_marker,
)
from serving import ServerProcess

from app.backends.base import BackendInfo, ChatBackend, Delta
from app.backends.remote import OpenAICompatibleBackend
from app.config import Limits


pytestmark = pytest.mark.slow


def _answers(client, running, prompt: str, max_new_tokens: int = 8) -> str:
    """A normal request succeeds and returns exactly what the backend streamed for it."""
    answer = chat(client, prompt, max_new_tokens=max_new_tokens)
    record = next(record for record in reversed(running.backend.records) if record.prompt == prompt)
    assert record.how == "finished", record
    assert without_end_marker(answer) == record.text
    return answer


# ---------------------------------------------------------------- local model: out of memory mid-stream


@pytest.fixture(scope="module")
def local_app(tiny_checkpoint):
    backend = tiny_model_backend(tiny_checkpoint)
    with launch_app(backend) as app:
        yield app


@contextlib.contextmanager
def oom_after(model, steps: int) -> Iterator[list[int]]:
    """Make ``model``'s forward raise ``torch.OutOfMemoryError`` from its ``steps``-th call on (inside generate)."""
    calls = [0]
    original = model.forward

    @functools.wraps(original)  # generate() checks its kwargs against forward's signature
    def forward(*args, **kwargs):
        calls[0] += 1
        if calls[0] > steps:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (simulated)")
        return original(*args, **kwargs)

    model.forward = forward
    try:
        yield calls
    finally:
        del model.forward  # back to the class's forward


def test_out_of_memory_in_the_generate_worker_is_reported_and_the_app_keeps_serving(local_app):
    recorder: Recorder = local_app.backend
    model = recorder.inner.model
    client, bystander = local_app.client(), local_app.client()
    with oom_after(model, steps=4) as calls, pytest.raises(AppError) as raised:
        chat(client, "Tell me a long story.", max_new_tokens=64)
    assert calls[0] == 5, "the failure was not mid-stream"
    message = str(raised.value)
    assert_user_facing(message)
    assert "out of memory" in message.lower()
    assert recorder.records[-1].how == "error"
    assert recorder.wait_idle(5) is not None
    assert not any(thread.name == "intern-s1-generate" for thread in threading.enumerate()), "worker thread leaked"
    _answers(client, local_app, "Same session, after the failure.")
    _answers(bystander, local_app, "Another session, after the failure.")


def test_raw_exception_from_a_backend_mid_stream_becomes_a_clear_message(local_app):
    recorder: Recorder = local_app.backend
    recorder.fail_after = 2
    recorder.error_factory = lambda: torch.OutOfMemoryError("CUDA out of memory (simulated, raised by the backend)")
    try:
        with pytest.raises(AppError) as raised:
            chat(local_app.client(), "Fail half-way, please.", max_new_tokens=16)
    finally:
        recorder.fail_after = None
    assert_user_facing(str(raised.value))
    assert "out of memory" in str(raised.value).lower()


# ---------------------------------------------------------------- remote backend: the real `serve` process dies


@pytest.fixture
def serve_process():
    process = ServerProcess(free_port(), env={"SERVE_FAKE_DELAY": "0.02", "SERVE_FAKE_WORDS": "400"})
    process.start()
    yield process
    process.stop()


def test_remote_server_killed_mid_stream_is_reported_and_the_app_recovers(serve_process):
    backend = Recorder(OpenAICompatibleBackend(serve_process.url, max_retries=2, backoff_s=0.05, timeout=10))
    with launch_app(backend) as app:
        client = app.client()
        job = submit_chat(client, "Stream for a while.", max_new_tokens=1024)
        deadline = time.monotonic() + 30
        while not backend.records or backend.records[-1].chunks < 5:
            assert time.monotonic() < deadline, "the remote stream did not start"
            time.sleep(0.01)
        serve_process.kill()
        with pytest.raises(AppError) as raised:
            job.result(timeout=30)
        message = str(raised.value)
        assert_user_facing(message)
        assert "lost" in message and "incomplete" in message, message
        # the server is down: a new request is retried with backoff, then refused with a clear message
        started = time.monotonic()
        with pytest.raises(AppError) as refused:
            chat(client, "Anyone there?")
        assert time.monotonic() - started >= 0.05 + 0.1, "no backoff between retries"
        assert_user_facing(str(refused.value))
        assert "3 attempt" in str(refused.value), str(refused.value)
        serve_process.start()  # same port: the app recovers without a restart
        assert "text=Back again." in chat(client, "Back again.")


# ---------------------------------------------------------------- remote backend: retry policy, exactly


class _FlakyServer:
    """An OpenAI-style SSE server on loopback: answers 503 ``refusals`` times, then streams, and can drop
    the connection after a few chunks. Counts every chat request."""

    def __init__(self, refusals: int = 0, drop_after: int | None = None, chunked: bool = True) -> None:
        self.refusals, self.drop_after, self.chunked, self.requests = refusals, drop_after, chunked, 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server naming
                server._send_json(self, {"data": [{"id": "flaky", "owned_by": "lmdeploy"}]})

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests += 1
                if server.requests <= server.refusals:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                server._stream(self)

            def log_message(self, *args):
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @staticmethod
    def _send_json(handler, payload) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _stream(self, handler) -> None:
        """SSE over chunked HTTP/1.1 (as lmdeploy/vLLM send it), or close-delimited HTTP/1.0 when ``chunked`` is off."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        if self.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()

        def send(data: bytes) -> None:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
            handler.wfile.flush()

        for index, word in enumerate(["one ", "two ", "three ", "four ", "five"]):
            if self.drop_after is not None and index >= self.drop_after:
                handler.connection.shutdown(2)  # the server dies: no [DONE], no end of the chunked body
                handler.close_connection = True
                return
            send(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': word}}]})}\n\n".encode())
        send(b"data: [DONE]\n\n")
        if self.chunked:
            handler.wfile.write(b"0\r\n\r\n")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.mark.parametrize("refusals, succeeds", [(2, True), (3, False)], ids=["recovers-on-3rd-try", "gives-up"])
def test_remote_retries_before_the_first_chunk_with_backoff(refusals, succeeds):
    server = _FlakyServer(refusals=refusals)
    backend = Recorder(OpenAICompatibleBackend(server.url, max_retries=2, backoff_s=0.05, timeout=10))
    try:
        with launch_app(backend, Limits()) as app:
            client = app.client()
            server.requests = 0
            if succeeds:
                assert chat(client, "Hello?") == "one two three four five"
            else:
                with pytest.raises(AppError) as raised:
                    chat(client, "Hello?")
                assert_user_facing(str(raised.value))
                assert "503" in str(raised.value)
            assert server.requests == 3  # one try + max_retries
    finally:
        server.close()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked-body-cut", "close-delimited-without-done"])
def test_remote_stream_dropped_after_first_chunk_is_reported_not_retried(chunked):
    server = _FlakyServer(drop_after=2, chunked=chunked)
    backend = Recorder(OpenAICompatibleBackend(server.url, max_retries=2, backoff_s=0.05, timeout=10))
    try:
        with launch_app(backend, Limits()) as app:
            server.requests = 0
            with pytest.raises(AppError) as raised:
                chat(app.client(), "Hello?")
            assert_user_facing(str(raised.value))
            assert "after 2 chunk" in str(raised.value)
            assert server.requests == 1, "a retry after the first chunk would repeat text"
            server.drop_after = None
            assert chat(app.client(), "Again?") == "one two three four five"
    finally:
        server.close()


# ---------------------------------------------------------------- a backend that goes silent


class _SilentBackend(ChatBackend):
    """Never produces a token (a hung engine) until cancelled."""

    info = BackendInfo(kind="silent", model_id="silent")

    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        if cancel is not None:
            cancel.wait(60)
        if False:  # a generator that yields nothing
            yield Delta("content", "")


def test_request_timeout_ends_a_silent_generation():
    backend = Recorder(_SilentBackend())
    with launch_app(backend, Limits(request_timeout_s=1.0)) as app:
        started = time.monotonic()
        job = submit_chat(app.client(), "Say something.")
        try:
            job.result(timeout=8)
        except AppError as error:
            assert_user_facing(str(error))
        finally:
            job.cancel()
        assert time.monotonic() - started < 6, "the request was not timed out"
        assert backend.records[-1].how in ("cancel", "closed")
