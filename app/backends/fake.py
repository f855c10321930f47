"""A scriptable backend for tests and UI work: answers come from a script, not a model.

Each chunk counts as one token: an answer longer than ``params.max_new_tokens`` chunks is cut there and its final
usage delta says ``finish_reason: "length"`` (otherwise "stop", or "tool_calls" after a tool call), as a real
backend's does.

Example::

    backend = FakeBackend(reasoning="Water is H2O.", content="The formula is H2O.", delay_s=0.01)
    for delta in backend.stream_chat([{"role": "user", "content": "water?"}], SamplingParams()):
        ...

``script`` may also be a callable ``(messages, params) -> list[Delta]`` to answer per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams


Script = Callable[[list[dict[str, Any]], SamplingParams], list[Delta]]


def split_words(text: str) -> list[str]:
    """Split into chunks that keep their trailing spaces, so joining them gives ``text`` back."""
    chunks: list[str] = []
    for word in text.split(" "):
        chunks.append(word + " ")
    if chunks:
        chunks[-1] = chunks[-1][:-1]
    return [chunk for chunk in chunks if chunk]


@dataclass
class FakeCall:
    messages: list[dict[str, Any]]
    params: SamplingParams
    tools: list[dict[str, Any]] | None
    cancel: threading.Event | None = None
    cancelled: bool = False  # the stream saw ``cancel`` set and stopped
    finished: bool = False

    @property
    def cancel_requested(self) -> bool:
        """True once the caller set the cancel event (what a real backend's worker thread watches)."""
        return self.cancel is not None and self.cancel.is_set()


@dataclass
class FakeBackend(ChatBackend):
    """Streams a fixed reasoning + answer word by word, honouring ``cancel`` between chunks.

    Args:
        content: the answer text.
        reasoning: thinking text, streamed first when ``params.enable_thinking`` is true.
        delay_s: pause before each chunk (lets tests press Stop mid-stream).
        script: per-request answer, overriding ``content``/``reasoning``.
        fail_after: raise :class:`BackendError` after this many chunks (fault tests).
    """

    content: str = "This is a scripted answer."
    reasoning: str = ""
    delay_s: float = 0.0
    script: Script | None = None
    fail_after: int | None = None
    info: BackendInfo = field(
        default_factory=lambda: BackendInfo(kind="fake", model_id="fake-model", description="scripted test backend")
    )
    calls: list[FakeCall] = field(default_factory=list)

    def _deltas(self, messages: list[dict[str, Any]], params: SamplingParams) -> list[Delta]:
        if self.script is not None:
            return self.script(messages, params)
        deltas = []
        if params.enable_thinking and self.reasoning:
            deltas += [Delta("reasoning", chunk) for chunk in split_words(self.reasoning)]
        deltas += [Delta("content", chunk) for chunk in split_words(self.content)]
        return deltas

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        call = FakeCall(messages=messages, params=params, tools=tools, cancel=cancel)
        self.calls.append(call)
        produced = 0  # chunks streamed, each counted as one token (a script's own usage delta is not one)
        usage: dict[str, Any] = {}  # a script's own usage delta: its counts and finish reason win
        called_tool = False
        for delta in self._deltas(messages, params):
            if delta.kind == "usage":
                usage.update(delta.data or {})
                continue
            if produced >= params.max_new_tokens:
                break
            if self.fail_after is not None and produced >= self.fail_after:
                raise BackendError("the fake model ran out of memory (simulated)")
            # Wait in small steps so a cancel lands within one step, as a real backend must.
            if cancel is not None and cancel.wait(self.delay_s):
                call.cancelled = True
                return
            if cancel is None and self.delay_s:
                time.sleep(self.delay_s)
            produced += 1
            called_tool = called_tool or delta.kind == "tool_call"
            yield delta
        # Like a real model, an answer that used the whole budget counts as cut off: it cannot know what came next.
        finish = "tool_calls" if called_tool else "length" if produced >= params.max_new_tokens else "stop"
        yield Delta("usage", data={"completion_tokens": produced, "finish_reason": finish, **usage})
        call.finished = True
