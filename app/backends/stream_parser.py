"""Split raw Intern-S1 output text into reasoning, answer and tool-call deltas while it streams.

Intern-S1 writes ``<think>…</think>`` around its reasoning (the chat template usually opens the block in the
prompt, so the text then starts inside it) and calls tools in the InternLM action format::

    <|action_start|><|plugin|>
    {"name": "check_smiles", "parameters": {"smiles": "CCO"}}
    <|action_end|>

A marker may arrive split across chunks in any place (vLLM issue #57490 loses tool calls exactly then), so the
splitter keeps back only the longest tail of the buffer that could still grow into a marker; any chunking of the
same text gives the same split.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from app.backends.base import Delta


__all__ = [
    "THINK_OPEN",
    "THINK_CLOSE",
    "ACTION_START",
    "ACTION_END",
    "PLUGIN",
    "StreamSplitter",
    "parse_action",
    "split_text",
]

logger = logging.getLogger(__name__)

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
ACTION_START = "<|action_start|>"
ACTION_END = "<|action_end|>"
PLUGIN = "<|plugin|>"
# End-of-turn tokens some decoders leave in the text (skip_special_tokens=False); they are never shown.
_DROPPED = ("<|im_end|>", "<|endoftext|>")

_Mode = Literal["reasoning", "content", "action"]

# Which markers end or switch each mode.
_MARKERS: dict[str, tuple[str, ...]] = {
    # a stray "<think>" while already thinking (the prompt opened the block, the model wrote it again) is dropped
    "reasoning": (THINK_OPEN, THINK_CLOSE, ACTION_START, *_DROPPED),
    "content": (THINK_OPEN, ACTION_START, *_DROPPED),
    "action": (ACTION_END,),
}


def _partial_marker_tail(buffer: str, markers: tuple[str, ...]) -> int:
    """Length of the longest suffix of ``buffer`` that is a proper prefix of one of ``markers``."""
    longest = 0
    for marker in markers:
        for size in range(min(len(marker) - 1, len(buffer)), longest, -1):
            if buffer.endswith(marker[:size]):
                longest = size
                break
    return longest


def _first_marker(buffer: str, markers: tuple[str, ...]) -> tuple[int, str] | None:
    """The earliest complete marker in ``buffer`` as ``(position, marker)``."""
    best: tuple[int, str] | None = None
    for marker in markers:
        position = buffer.find(marker)
        if position != -1 and (best is None or position < best[0]):
            best = (position, marker)
    return best


def parse_action(body: str) -> dict[str, Any] | None:
    """Parse the inside of one action block into ``{"name": str, "parameters": dict}``.

    Accepts the ``<|plugin|>`` channel tag, surrounding whitespace, an ``arguments`` key instead of
    ``parameters`` (also as a JSON string, the OpenAI habit) and stray text around the JSON object.

    Returns:
        The call, or None when the body holds no usable call (the caller then shows it as plain text).
    """
    text = body.strip()
    if text.startswith(PLUGIN):
        text = text[len(PLUGIN) :].strip()
    call = _load_json_object(text)
    if call is None or not isinstance(call.get("name"), str) or not call["name"]:
        return None
    parameters = call.get("parameters", call.get("arguments", {}))
    if isinstance(parameters, str):
        parameters = _load_json_object(parameters) if parameters.strip() else {}
    if not isinstance(parameters, dict):
        return None
    return {"name": call["name"], "parameters": parameters}


def _load_json_object(text: str) -> dict[str, Any] | None:
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


class StreamSplitter:
    """Incremental splitter of raw model text into :class:`Delta` objects.

    Args:
        thinking_open: True when the prompt already opened ``<think>`` (Intern-S1 with thinking on), so the text
            starts as reasoning and only ``</think>`` switches to the answer.

    Example::

        splitter = StreamSplitter(thinking_open=True)
        for chunk in chunks:
            deltas = splitter.feed(chunk)
        deltas += splitter.finish()
    """

    def __init__(self, *, thinking_open: bool = False) -> None:
        self._mode: _Mode = "reasoning" if thinking_open else "content"
        self._buffer = ""
        # Whitespace right after a marker (the template's "\n") is layout, not text worth showing.
        self._at_segment_start = True
        self._finished = False
        self._thinking_closed = False

    @property
    def mode(self) -> str:
        """What the text being read now is: "reasoning", "content" or "action"."""
        return self._mode

    @property
    def thinking_closed(self) -> bool:
        """Whether a ``</think>`` has ended a reasoning block so far."""
        return self._thinking_closed

    def feed(self, text: str) -> list[Delta]:
        """Add a chunk of raw text; return the deltas that are now certain."""
        if self._finished:
            raise RuntimeError("StreamSplitter.feed() called after finish()")
        self._buffer += text
        out: list[Delta] = []
        while True:
            markers = _MARKERS[self._mode]
            found = _first_marker(self._buffer, markers)
            if found is None:
                break
            position, marker = found
            before, self._buffer = self._buffer[:position], self._buffer[position + len(marker) :]
            self._close_segment(before, out, closing=marker)
            self._switch(marker)
        if self._mode != "action":
            keep = _partial_marker_tail(self._buffer, _MARKERS[self._mode])
            ready = self._buffer[: len(self._buffer) - keep]
            self._buffer = self._buffer[len(self._buffer) - keep :]
            self._emit_text(ready, out)
        return _coalesce(out)

    def finish(self) -> list[Delta]:
        """Flush what is left at the end of the stream (an unclosed action block is parsed as it stands,
        because servers often stop on ``<|action_end|>`` and strip it)."""
        if self._finished:
            return []
        self._finished = True
        out: list[Delta] = []
        self._close_segment(self._buffer, out)
        self._buffer = ""
        return _coalesce(out)

    def _switch(self, marker: str) -> None:
        if marker == THINK_OPEN:
            self._mode = "reasoning"
        elif marker in (THINK_CLOSE, ACTION_END):
            self._thinking_closed = self._thinking_closed or marker == THINK_CLOSE
            self._mode = "content"
        elif marker == ACTION_START:
            self._mode = "action"
        else:  # a dropped end-of-turn token: stay in the same mode
            return
        self._at_segment_start = True

    def _close_segment(self, text: str, out: list[Delta], closing: str = "") -> None:
        if self._mode != "action":
            self._emit_text(text, out)
            return
        call = parse_action(text)
        if call is not None:
            out.append(Delta("tool_call", data=call))
        else:
            logger.warning("model wrote an action block that is not a valid tool call: %r", text[:200])
            self._mode = "content"  # shown as it was written, so nothing the model said is lost
            self._emit_text(ACTION_START + text + closing, out)

    def _emit_text(self, text: str, out: list[Delta]) -> None:
        if self._at_segment_start:
            text = text.lstrip()
            if not text:
                return
            self._at_segment_start = False
        if text:
            out.append(Delta(self._mode, text=text))  # type: ignore[arg-type]  # mode is reasoning/content here


def _coalesce(deltas: list[Delta]) -> list[Delta]:
    """Merge neighbouring text deltas of the same kind (fewer UI updates, same text)."""
    merged: list[Delta] = []
    for delta in deltas:
        if merged and delta.kind in ("reasoning", "content") and merged[-1].kind == delta.kind:
            merged[-1] = Delta(delta.kind, text=merged[-1].text + delta.text)
        else:
            merged.append(delta)
    return merged


def split_text(text: str, *, thinking_open: bool = False) -> list[Delta]:
    """Split a complete text at once (the same result as streaming it in any chunks)."""
    splitter = StreamSplitter(thinking_open=thinking_open)
    return _coalesce(splitter.feed(text) + splitter.finish())
