"""What the remote backend reads: the openai SDK's chat-completion chunks, turned into :class:`Delta` objects.

Engines stream the same answer in different shapes (``../shared/docs/performance.md`` §1.2), all handled here:

* reasoning — ``delta.reasoning_content`` (lmdeploy, SGLang, transformers serve), ``delta.reasoning`` (vLLM since
  late 2025), both outside the SDK's types and so read from the delta's ``model_extra``; or, from a server without a
  reasoning parser, inline in the content up to ``</think>`` (split by :class:`StreamSplitter`);
* tool calls — ``delta.tool_calls`` fragments (name first, JSON arguments in pieces) when the server runs a tool
  parser, otherwise the raw ``<|action_start|>`` blocks in the content, split markers included (vLLM #57490); the
  final text is searched once more for a call whose opening marker a parser swallowed;
* usage and ``finish_reason`` — merged into one final ``usage`` delta, whichever chunk brought them.

Never hide an answer: when the text was read as inline reasoning (thinking on, no reasoning field) and no
``</think>`` ever came, no answer text and no tool call, the model did not think after all. The text is then sent
again as the answer, and the usage delta carries ``"thinking_unclosed": True`` so the UI can say so.

:class:`DoneWatchingTransport` tells a complete stream from a cut one: the SDK stops quietly both at ``data: [DONE]``
and at the end of a body, and a close-delimited body (HTTP/1.0, ``Connection: close`` proxies) that a dying server
cuts short ends without a transport error — only the missing ``[DONE]`` (or finish reason) gives it away.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2

from app.backends.base import BackendError, Delta
from app.backends.stream_parser import ACTION_END, PLUGIN, StreamSplitter, parse_action


__all__ = ["DoneWatchingTransport", "StreamState", "saw_done"]

_DONE_LINES = (b"data: [DONE]", b"data:[DONE]")
_WATCH_KEY = "intern_s1_sse_done"  # where the watch is kept in ``httpx2.Response.extensions``


class _DoneWatch(httpx2.SyncByteStream):
    """Passes the body through and notes whether a ``data: [DONE]`` line went by (JSON text cannot start a line)."""

    def __init__(self, inner: httpx2.SyncByteStream) -> None:
        self._inner, self.seen, self._tail = inner, False, b"\n"

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._inner:
            if not self.seen:
                window = self._tail + piece  # the previous piece's end: a line may be cut anywhere
                self.seen = any(b"\n" + line in window for line in _DONE_LINES)
                self._tail = window[-16:]
            yield piece

    def close(self) -> None:
        self._inner.close()


class DoneWatchingTransport(httpx2.BaseTransport):
    """An httpx2 transport that wraps every event-stream body in a ``[DONE]`` watch (see :func:`saw_done`)."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            watch = _DoneWatch(response.stream)
            response.stream = watch
            response.extensions = {**response.extensions, _WATCH_KEY: watch}
        return response

    def close(self) -> None:
        self._inner.close()


def saw_done(response: httpx2.Response) -> bool:
    """Whether the event stream of ``response`` (sent through :class:`DoneWatchingTransport`) reached ``[DONE]``."""
    watch = response.extensions.get(_WATCH_KEY)
    return bool(watch is not None and watch.seen)


class _ToolCallAccumulator:
    """Collects ``delta.tool_calls`` fragments by index (name first, JSON arguments streamed in pieces)."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, fragments: list[Any]) -> None:
        for position, fragment in enumerate(fragments):
            index = getattr(fragment, "index", None)
            call = self._calls.setdefault(position if index is None else index, {"name": "", "arguments": ""})
            function = getattr(fragment, "function", None)
            call["name"] += getattr(function, "name", None) or ""
            arguments = getattr(function, "arguments", None)
            if isinstance(arguments, dict):  # some servers send the object itself
                arguments = json.dumps(arguments)
            call["arguments"] += arguments or ""

    def calls(self) -> list[dict[str, Any]]:
        out = []
        for index in sorted(self._calls):
            call = self._calls[index]
            parsed = parse_action(json.dumps({"name": call["name"], "arguments": call["arguments"] or "{}"}))
            if parsed is None:
                raise BackendError(
                    f"the server sent a tool call that is not valid JSON: {call['name']!r} {call['arguments'][:200]!r}"
                )
            out.append(parsed)
        return out


def _recover_action_from_text(text: str) -> dict[str, Any] | None:
    """Find a call in the final text when the server's tool parser ate the opening marker (vLLM #57490)."""
    start = text.rfind(PLUGIN)
    if start == -1:
        return None
    end = text.find(ACTION_END, start)
    return parse_action(text[start : end if end != -1 else len(text)])


class StreamState:
    """Turns the chunks of one answer, in any engine's shape, into deltas.

    Args:
        thinking: with thinking on, content that arrives before any reasoning field starts inside ``<think>``
            (the prompt opened it and the server runs no reasoning parser).
    """

    def __init__(self, *, thinking: bool) -> None:
        self._thinking = thinking
        self._splitter: StreamSplitter | None = None  # chosen when the first content arrives
        self._saw_reasoning_field = False
        self._tool_fragments = _ToolCallAccumulator()
        self._inline_calls: list[dict[str, Any]] = []
        self._content_text: list[str] = []  # raw content, for the final re-parse
        self._inline_reasoning: list[str] = []
        self._answered = False  # any answer text went out
        self._usage: dict[str, Any] | None = None

    @property
    def saw_finish_reason(self) -> bool:
        return bool(self._usage and self._usage.get("finish_reason"))

    def on_chunk(self, chunk: Any) -> Iterator[Delta]:
        """The deltas one ``ChatCompletionChunk`` brings (possibly none: text held back at a marker's start)."""
        if getattr(chunk, "usage", None):
            self._merge_usage(chunk.usage.to_dict())  # the finish reason may have come first
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None:
                yield from self._on_delta(delta)
            if choice.finish_reason:
                self._merge_usage({"finish_reason": choice.finish_reason})

    def _on_delta(self, delta: Any) -> Iterator[Delta]:
        extra = delta.model_extra or {}
        reasoning = extra.get("reasoning") or extra.get("reasoning_content")
        if reasoning:
            self._saw_reasoning_field = True
            yield Delta("reasoning", text=reasoning)
        if delta.tool_calls:
            self._tool_fragments.add(delta.tool_calls)
        if delta.content:
            yield from self._on_content(delta.content)

    def _merge_usage(self, data: dict[str, Any]) -> None:
        self._usage = {**(self._usage or {}), **data}

    def _on_content(self, text: str) -> Iterator[Delta]:
        if self._splitter is None:
            # Thinking on and no reasoning field before the first content: the server runs no reasoning parser,
            # and the prompt opened <think>, so the text starts inside the reasoning.
            self._splitter = StreamSplitter(thinking_open=self._thinking and not self._saw_reasoning_field)
        self._content_text.append(text)
        yield from self._route(self._splitter.feed(text))

    def _route(self, deltas: list[Delta]) -> Iterator[Delta]:
        for delta in deltas:
            if delta.kind == "tool_call":
                self._inline_calls.append(delta.data or {})
                continue
            if delta.kind == "reasoning":
                self._inline_reasoning.append(delta.text)
            elif delta.kind == "content":
                self._answered = True
            yield delta

    def finish(self) -> Iterator[Delta]:
        """The deltas the end of the stream settles: held-back text, tool calls, the answer fallback, usage."""
        if self._splitter is not None:
            yield from self._route(self._splitter.finish())
        calls = self._tool_fragments.calls() or self._inline_calls
        if not calls:
            recovered = _recover_action_from_text("".join(self._content_text))
            calls = [recovered] if recovered else []
        for call in calls:
            yield Delta("tool_call", data=call)
        if self._thinking_never_closed(calls):
            yield Delta("content", text="".join(self._inline_reasoning))
            self._merge_usage({"thinking_unclosed": True})
        if self._usage is not None:
            yield Delta("usage", data=self._usage)

    def _thinking_never_closed(self, calls: list[dict[str, Any]]) -> bool:
        splitter = self._splitter
        unclosed = splitter is not None and not splitter.thinking_closed
        return unclosed and bool(self._inline_reasoning) and not self._answered and not calls
