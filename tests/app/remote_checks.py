"""Shared checks of the remote backend tests: collect an answer by kind, and hold a request body to the OpenAI schema.

The schema is the installed ``openai`` SDK's own: the fields of ``CompletionCreateParams`` and of each message and
content-part ``TypedDict`` — nothing hand-listed here.
"""

import threading
import time
from typing import Any

from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionContentPartImageParam,
    ChatCompletionContentPartTextParam,
    ChatCompletionMessageToolCallParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionToolMessageParam,
    ChatCompletionToolParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming
from PIL import Image

from app.backends.base import SamplingParams


__all__ = ["OPENAI_REQUEST_FIELDS", "assert_openai_schema", "collect_answer", "stop_after", "write_png"]


def _fields(typed_dict: Any) -> frozenset[str]:
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


OPENAI_REQUEST_FIELDS = _fields(CompletionCreateParamsStreaming)
_MESSAGE_FIELDS = {
    "system": _fields(ChatCompletionSystemMessageParam),
    "user": _fields(ChatCompletionUserMessageParam),
    "assistant": _fields(ChatCompletionAssistantMessageParam),
    "tool": _fields(ChatCompletionToolMessageParam),
}
_PART_FIELDS = {
    "text": _fields(ChatCompletionContentPartTextParam),
    "image_url": _fields(ChatCompletionContentPartImageParam),
}


def write_png(directory) -> Any:
    """A 32 x 16 red PNG in ``directory``; returns its path."""
    path = directory / "red.png"
    Image.new("RGB", (32, 16), "red").save(path)
    return path


def collect_answer(backend, messages, params=SamplingParams(), **kwargs) -> dict[str, Any]:
    """Run ``backend.stream_chat`` to the end: reasoning and answer text, tool calls, usage records."""
    out: dict[str, Any] = {"reasoning": "", "content": "", "tool_call": [], "usage": []}
    for delta in backend.stream_chat(messages, params, **kwargs):
        if delta.kind in ("reasoning", "content"):
            out[delta.kind] += delta.text
        else:
            out[delta.kind].append(delta.data)
    return out


def stop_after(backend, messages, params, pieces: int, kinds=("content",)) -> tuple[int, float]:
    """Stream, press Stop once ``pieces`` deltas of ``kinds`` arrived; return how many came and the seconds from
    Stop to the end of the stream."""
    cancel = threading.Event()
    seen, stopped_at = 0, None
    for delta in backend.stream_chat(messages, params, cancel=cancel):
        seen += delta.kind in kinds
        if seen == pieces and stopped_at is None:
            cancel.set()
            stopped_at = time.monotonic()
    return seen, time.monotonic() - (stopped_at or time.monotonic())


def _outside(keys, allowed, where: str) -> list[str]:
    return [f"{where}.{key}" for key in sorted(set(keys) - allowed)]


def assert_openai_schema(body: dict[str, Any]) -> None:
    """Fail, naming every offending field, if ``body`` holds anything the OpenAI chat-completions schema lacks."""
    problems = _outside(body, OPENAI_REQUEST_FIELDS, "request")
    for index, message in enumerate(body.get("messages", [])):
        role = message.get("role")
        where = f"messages[{index}]"
        if role not in _MESSAGE_FIELDS:
            problems.append(f"{where}.role={role!r}")
            continue
        problems += _outside(message, _MESSAGE_FIELDS[role], where)
        for call in message.get("tool_calls") or []:
            problems += _outside(call, _fields(ChatCompletionMessageToolCallParam), f"{where}.tool_calls")
        if isinstance(message.get("content"), list):
            for part in message["content"]:
                allowed = _PART_FIELDS.get(part.get("type"))
                problems += [f"{where}.content.type={part.get('type')!r}"] if allowed is None else []
                problems += _outside(part, allowed or frozenset(part), f"{where}.content")
    for tool in body.get("tools") or []:
        problems += _outside(tool, _fields(ChatCompletionToolParam), "tools")
    assert not problems, f"fields outside the OpenAI schema: {problems}"
