"""Shared pieces of the reliability tests: one launch/teardown helper, instrumented backends, answer checks.

``launch_app(backend, limits)`` starts the real Blocks app on a free 127.0.0.1 port (the way the CLI does) and
closes it afterwards; each test module wraps it in one module-scoped fixture. The backends here record what
happened to every stream (when it started, when its generator ended, why), so tests can assert that a Stop or
a dropped client really freed the worker instead of trusting the UI.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams
from app.chat.history import without_end_marker  # noqa: F401  (re-exported for the reliability tests)
from app.config import AppConfig, Limits


# What a user must never see: Python internals instead of a message written for them.
_INTERNALS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|verbose error reporting|"
    r"\b(KeyError|AttributeError|IndexError|NameError|UnboundLocalError|AssertionError)\b"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    demo: Any
    backend: ChatBackend
    limits: Limits

    def client(self):
        """A new gradio_client session (each Client has its own session hash)."""
        from gradio_client import Client

        return Client(self.url, verbose=False)


@contextlib.contextmanager
def launch_app(
    backend: ChatBackend, limits: Limits | None = None, *, auth: tuple[tuple[str, str], ...] = ()
) -> Iterator[RunningApp]:
    """The real app on 127.0.0.1 over ``backend`` (as the CLI launches it); closed on exit."""
    from app.ui.blocks import build_demo, launch

    limits = limits or Limits()
    config = AppConfig(host="127.0.0.1", port=free_port(), limits=limits, auth=auth)
    demo = build_demo(backend, config)
    try:
        url = _launch(demo, config, launch)
        yield RunningApp(url=url, demo=demo, backend=backend, limits=limits)
    finally:
        demo.close()


def _launch(demo, config: AppConfig, launch) -> str:
    """Launch, retrying once on a fresh port when Gradio's start-up self-check times out on a saturated machine."""
    try:
        return launch(demo, config, prevent_thread_lock=True)[1]
    except ValueError as error:
        if "localhost is not accessible" not in str(error):
            raise
        demo.close()
        return launch(demo, dataclasses.replace(config, port=free_port()), prevent_thread_lock=True)[1]


def chat(
    client,
    message: str,
    files: list | None = None,
    *,
    max_new_tokens: int = 24,
    thinking: bool = False,
    temperature: float = 0.0,
    **overrides: Any,
) -> str:
    """One blocking /chat call with greedy defaults; returns the final answer text."""
    args = _chat_args(message, files, max_new_tokens, thinking, temperature, overrides)
    return client.predict(*args, api_name="/chat")


def submit_chat(
    client,
    message: str,
    files: list | None = None,
    *,
    max_new_tokens: int = 24,
    thinking: bool = False,
    temperature: float = 0.0,
    **overrides: Any,
):
    """A streaming /chat job (iterate it for the growing answer)."""
    args = _chat_args(message, files, max_new_tokens, thinking, temperature, overrides)
    return client.submit(*args, api_name="/chat")


def _chat_args(message, files, max_new_tokens, thinking, temperature, overrides) -> list[Any]:
    values = {"top_p": 1.0, "top_k": 50, "min_p": 0.0, "system_prompt": ""} | overrides
    return [
        message,
        files or [],
        thinking,
        temperature,
        values["top_p"],
        values["top_k"],
        values["min_p"],
        max_new_tokens,
        values["system_prompt"],
    ]


def assert_user_facing(message: str) -> None:
    """A message written for a person: present, short enough to read, and free of Python internals."""
    assert message and message.strip(), "empty error message"
    assert len(message) < 2000, f"error message too long for a user ({len(message)} chars)"
    leak = _INTERNALS.search(message)
    assert leak is None, f"internal detail {leak.group(0)!r} reached the user: {message[:300]!r}"


def rss_bytes(*, trim: bool = False) -> int:
    """Resident set size of this process (Linux /proc; the app runs in-process).

    ``trim`` first collects garbage and asks glibc to hand freed heap pages back to the OS (``malloc_trim``), so the
    figure counts live memory rather than free blocks the allocator keeps cached per thread.
    """
    if trim:
        import ctypes
        import gc

        gc.collect()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open(f"/proc/{os.getpid()}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- instrumented backends


@dataclass
class StreamRecord:
    """What happened to one ``stream_chat`` call."""

    prompt: str
    started: float
    ended: float | None = None
    how: str = "running"  # "finished", "cancel" (event seen), "closed" (generator closed by the caller), "error"
    chunks: int = 0
    text: str = ""


def seconds_until_ended(record: StreamRecord, since: float, timeout: float, poll_s: float = 0.005) -> float:
    """Seconds from ``since`` (a Stop, a cancel, a hang-up) until the backend stream of ``record`` ended."""
    while record.ended is None and time.monotonic() - since < timeout:
        time.sleep(poll_s)
    assert record.ended is not None, f"the backend was still generating {timeout} s after the stop"
    return record.ended - since


def last_user_text(messages: list[dict[str, Any]]) -> str:
    content = messages[-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(item.get("text", "") for item in content if item.get("type") == "text")


@dataclass
class EchoBackend(ChatBackend):
    """Answers ``"echo: <last user text>"`` word by word, waiting ``delay_s`` on ``cancel`` before each word."""

    delay_s: float = 0.0
    repeat: int = 1  # the echo is repeated this many times (long streams for Stop/disconnect tests)
    info: BackendInfo = field(default_factory=lambda: BackendInfo(kind="probe", model_id="probe-echo"))

    def stream_chat(self, messages, params: SamplingParams, *, tools=None, cancel=None) -> Iterator[Delta]:
        words = expected_echo(last_user_text(messages), self.repeat).split(" ")
        for index, word in enumerate(words):
            if cancel is not None and cancel.wait(self.delay_s):
                return
            yield Delta("content", word if index == len(words) - 1 else word + " ")


class Recorder(ChatBackend):
    """Wraps any backend and records every stream's life; can also inject a failure mid-stream.

    Args:
        inner: the backend that produces the answer.
        fail_after: raise ``error_factory()`` after this many deltas (fault tests).
        error_factory: what to raise; default a :class:`BackendError`.
        barrier: when set, every stream waits on it before its first delta (proves N streams run at once).
    """

    def __init__(self, inner: ChatBackend) -> None:
        self.inner = inner
        self.info = inner.info
        self.fail_after: int | None = None
        self.error_factory: Callable[[], BaseException] = lambda: BackendError("simulated failure")
        self.barrier: threading.Barrier | None = None
        self.records: list[StreamRecord] = []
        self.max_active = 0
        self._active = 0
        self._lock = threading.Lock()

    def stream_chat(self, messages, params: SamplingParams, *, tools=None, cancel=None) -> Iterator[Delta]:
        record = StreamRecord(prompt=last_user_text(messages), started=time.monotonic())
        with self._lock:
            self.records.append(record)
            self._active += 1
            self.max_active = max(self.max_active, self._active)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            stream = self.inner.stream_chat(messages, params, tools=tools, cancel=cancel)
            with contextlib.closing(stream):  # closing us closes the inner stream at once (frees its worker)
                yield from self._relay(stream, record)
            record.how = "cancel" if cancel is not None and cancel.is_set() else "finished"
        except GeneratorExit:
            record.how = "closed"
            raise
        except BaseException:
            record.how = "error"
            raise
        finally:
            record.ended = time.monotonic()
            with self._lock:
                self._active -= 1

    def _relay(self, stream: Iterator[Delta], record: StreamRecord) -> Iterator[Delta]:
        for delta in stream:
            if self.fail_after is not None and record.chunks >= self.fail_after:
                raise self.error_factory()
            if delta.kind in ("content", "reasoning"):
                record.chunks += 1
                record.text += delta.text
            yield delta

    def close(self) -> None:
        self.inner.close()

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def wait_idle(self, timeout: float) -> float | None:
        """Seconds until no stream is running, or None if still busy after ``timeout``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.active == 0:
                return time.monotonic() - start
            time.sleep(0.005)
        return None


def probe_backend(delay_s: float = 0.0) -> Recorder:
    """The echo backend, recorded (``backend.inner.repeat`` makes its answers longer)."""
    return Recorder(EchoBackend(delay_s=delay_s))


def tiny_model_backend(checkpoint, limits: Limits | None = None) -> Recorder:
    """The real local backend over a tiny Intern-S1 checkpoint (CPU, fp32), recorded."""
    from app.backends.local import TransformersBackend
    from app.config import ModelOptions

    options = ModelOptions(model=str(checkpoint), device="cpu", dtype="float32")
    return Recorder(TransformersBackend(options, limits=limits or Limits()))


def expected_echo(text: str, repeat: int = 1) -> str:
    return "echo: " + " ".join([text] * repeat)


# ---------------------------------------------------------------- plain-HTTP access (no gradio_client)


def raw_chat_request(
    url: str, message: str, files: list[dict[str, Any]] | None = None, **by_label: Any
) -> tuple[int, list[Any]]:
    """(fn_index, data) for a /chat call over plain HTTP: every input at its UI default, overridden by label.

    gradio_client would upload local files itself, so tests that must send a path the server never received (or
    that drop the connection by hand) build the request from the app's own config instead.
    """
    import httpx

    config = httpx.get(url + "config", timeout=10).json()
    fn_index, dependency = next(
        (index, dep) for index, dep in enumerate(config["dependencies"]) if dep.get("api_name") == "chat"
    )
    components = {component["id"]: component.get("props", {}) for component in config["components"]}
    values = {"message": message, "files": files or [], "thinking": False, "temperature": 0.0} | by_label
    data = []
    for component_id in dependency["inputs"]:
        props = components[component_id]
        data.append(values.get(props.get("label"), props.get("value")))
    return fn_index, data
