"""One answer as it streams from a backend, in OpenAI terms: chunk deltas, ``stop`` sequences, finish reason, usage.

``stop`` applies to the answer text (``content``), not to ``reasoning_content``: the text is cut just before the
first stop sequence to complete, even when the sequence arrives split across deltas (the last ``len(longest stop) - 1``
characters are held back until they cannot start one), and the caller then cancels generation.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from app.backends.base import Delta
from app.serving.protocol import (
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    ChunkDelta,
    ChunkToolCall,
    FunctionCall,
    ResponseMessage,
    ToolCall,
    Usage,
)


__all__ = ["Answer", "StopMatcher"]


class StopMatcher:
    """Cuts streamed text before the first of ``stops``, whatever the chunking."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(stop for stop in stops if stop)
        self._hold = max((len(stop) for stop in self.stops), default=1) - 1
        self._buffer = ""
        self.matched = False

    def feed(self, text: str) -> str:
        """The part of ``text`` (with what was held back) that is safe to send now."""
        if self.matched:
            return ""
        self._buffer += text
        # The stop sequence that *completes* first wins (as when checking after every token), so the cut does not
        # depend on how the text was chunked.
        found = [(index + len(stop), index) for stop in self.stops if (index := self._buffer.find(stop)) != -1]
        if found:
            self.matched = True
            out, self._buffer = self._buffer[: min(found)[1]], ""
            return out
        cut = len(self._buffer) - self._hold
        if cut <= 0:
            return ""
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return out

    def flush(self) -> str:
        """What is held back (nothing after a match); matching goes on for text fed later."""
        out, self._buffer = ("" if self.matched else self._buffer), ""
        return out


class Answer:
    """Accumulates one answer and renders it as chunks or as a whole completion."""

    def __init__(self, model: str, stops: tuple[str, ...], max_tokens: int) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.model = model
        self.created = int(time.time())
        self.max_tokens = max_tokens
        self.content = ""
        self.reasoning = ""
        self.tool_calls: list[ToolCall] = []
        self.usage_data: dict[str, Any] = {}
        self._stop = StopMatcher(stops)
        self._text_pieces = 0
        self._role_sent = False

    @property
    def stopped(self) -> bool:
        """A stop sequence was found: the caller should cancel generation."""
        return self._stop.matched

    def feed(self, delta: Delta) -> ChunkDelta | None:
        """Record ``delta``; return what to stream for it (None when there is nothing to send yet)."""
        if delta.kind == "usage":
            self.usage_data.update(delta.data or {})
            return None
        if self.stopped:
            return None  # generation is being cancelled; nothing after the stop sequence is part of the answer
        if delta.kind == "reasoning":
            self.reasoning += delta.text
            self._text_pieces += 1
            return self._delta(reasoning_content=delta.text)
        if delta.kind == "content":
            self._text_pieces += 1
            return self._content(self._stop.feed(delta.text))
        # No stop sequence can span a tool call: release the held-back text with it, in order.
        held = self._stop.flush()
        self.content += held
        return self._delta(content=held or None, tool_calls=[self._add_tool_call(delta.data or {})])

    def flush(self) -> ChunkDelta | None:
        """The held-back tail of the answer text once generation has ended."""
        return self._content(self._stop.flush())

    def _content(self, text: str) -> ChunkDelta | None:
        if not text:
            return None
        self.content += text
        return self._delta(content=text)

    def _delta(self, **fields: Any) -> ChunkDelta:
        if not self._role_sent:
            self._role_sent = True
            fields["role"] = "assistant"
        return ChunkDelta(**fields)

    def _add_tool_call(self, call: dict[str, Any]) -> ChunkToolCall:
        arguments = json.dumps(call.get("parameters", {}), ensure_ascii=False)
        function = FunctionCall(name=str(call.get("name", "")) or "unknown", arguments=arguments)
        entry = ToolCall(id=f"call_{uuid.uuid4().hex[:24]}", function=function)
        self.tool_calls.append(entry)
        return ChunkToolCall(index=len(self.tool_calls) - 1, id=entry.id, function=function)

    def finish_reason(self) -> str:
        if self.stopped:
            return "stop"
        if self.tool_calls:
            return "tool_calls"
        reported = self.usage_data.get("finish_reason")
        if reported in ("stop", "length", "tool_calls"):
            return reported
        return "length" if self.usage().completion_tokens >= self.max_tokens else "stop"

    def usage(self) -> Usage:
        # A backend that counts no tokens reports its streamed pieces; failing that, we count them here.
        data = self.usage_data
        completion = int(data.get("completion_tokens", data.get("completion_chunks", self._text_pieces)))
        prompt = int(data.get("prompt_tokens", 0))
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    def chunk(self, delta: ChunkDelta, finish_reason: str | None = None) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish_reason)
        return ChatCompletionChunk(id=self.id, created=self.created, model=self.model, choices=[choice])

    def usage_chunk(self) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=self.id, created=self.created, model=self.model, choices=[],
                                   usage=self.usage())  # fmt: skip

    def completion(self) -> ChatCompletion:
        message = ResponseMessage(content=self.content or None, reasoning_content=self.reasoning or None,
                                  tool_calls=self.tool_calls or None)  # fmt: skip
        choice = Choice(message=message, finish_reason=self.finish_reason())
        return ChatCompletion(id=self.id, created=self.created, model=self.model, choices=[choice],
                              usage=self.usage())  # fmt: skip
