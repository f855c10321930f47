"""A validated OpenAI request → what a :class:`~app.backends.base.ChatBackend` takes (messages, sampling, tools).

Order matters for bounded work: the fields this server cannot honour are refused first, then every count and
length limit is checked on the parsed request, and only then is any media decoded (:mod:`app.serving.media`).

Conversions, as the app's own chat does them:

* roles: ``system``/``developer`` → system, ``tool`` → Intern-S1's ``environment`` turn (with the tool's name,
  resolved from ``tool_call_id``);
* assistant ``tool_calls`` → the InternLM action block appended to the turn's text (``app.chat.tools.render_action``,
  exactly what the tool loop stores), ``reasoning_content`` / ``reasoning`` → ``reasoning_content``;
* typed control tokens (``<|im_end|>``, ``<IMG_CONTEXT>``…) in user, system and tool text are neutralised
  (``app.chat.attachments.neutralize_control_tokens``); assistant turns are the model's own words and pass as sent,
  so action blocks already in them keep working.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.backends.base import SamplingParams
from app.chat.attachments import neutralize_control_tokens
from app.chat.tools import render_action
from app.config import Limits
from app.serving.errors import APIError
from app.serving.media import MediaStore
from app.serving.protocol import (
    AssistantMessage,
    ChatCompletionRequest,
    ImagePart,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)


__all__ = ["MAX_STOP_SEQUENCES", "MAX_TOOLS", "BackendRequest", "to_backend_request"]

MAX_STOP_SEQUENCES = 4  # as OpenAI
MAX_STOP_CHARS = 256
MAX_TOOLS = 128  # as OpenAI


@dataclass
class BackendRequest:
    """One request in backend terms, with the media files it owns (removed by ``media.close()``)."""

    messages: list[dict[str, Any]]
    params: SamplingParams
    tools: list[dict[str, Any]] | None
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool
    media: MediaStore = field(repr=False)


# -- fields that would change the answer in ways this server cannot honour -----------------------------------------

_Rule = tuple[str, Callable[[Any], bool], str]
_UNSUPPORTED: list[_Rule] = [
    ("n", lambda v: v in (None, 1), "n must be 1: this server returns one choice per request (send n requests)"),
    ("logprobs", lambda v: not v, "logprobs are not available from this server; leave 'logprobs' unset or false"),
    ("top_logprobs", lambda v: not v, "top_logprobs are not available from this server"),
    ("response_format", lambda v: v is None or v.type == "text",
     "response_format other than 'text' is not supported (no constrained decoding); ask for JSON in the prompt"),
    ("frequency_penalty", lambda v: not v, "frequency_penalty is not supported; leave it unset or 0"),
    ("presence_penalty", lambda v: not v, "presence_penalty is not supported; leave it unset or 0"),
    ("logit_bias", lambda v: not v, "logit_bias is not supported"),
    ("reasoning_effort", lambda v: v is None, "reasoning_effort is not supported; use enable_thinking true/false"),
    ("verbosity", lambda v: v is None, "verbosity is not supported"),
    ("modalities", lambda v: v is None or v == ["text"], "only the 'text' output modality is supported"),
    ("audio", lambda v: v is None, "audio output is not supported"),
    ("prediction", lambda v: v is None, "predicted outputs are not supported"),
    ("web_search_options", lambda v: v is None, "web search is not available on this server"),
    ("moderation", lambda v: v is None, "moderation is not available on this server"),
    ("functions", lambda v: v is None, "'functions' is deprecated and not supported; use 'tools'"),
    ("function_call", lambda v: v is None, "'function_call' is deprecated and not supported; use 'tool_choice'"),
    ("tool_choice", lambda v: v in (None, "auto", "none"),
     "tool_choice can be 'auto' or 'none': this server cannot force a tool call"),
]  # fmt: skip


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    for name, acceptable, message in _UNSUPPORTED:
        if not acceptable(getattr(request, name)):
            raise APIError(message, param=name, code="unsupported_parameter")


# -- limits, checked on the parsed request before any media is decoded ---------------------------------------------


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def _check_limits(request: ChatCompletionRequest, limits: Limits) -> None:
    count = len(request.messages)
    if count > limits.max_messages_per_request:
        raise APIError(f"the request has {count:,} messages; the limit is {limits.max_messages_per_request:,} "
                       "(max_messages_per_request)", param="messages", code="too_many_messages")  # fmt: skip
    for index, message in enumerate(request.messages):
        where = f"messages[{index}]"
        chars = len(_text_of(message.content))
        if chars > limits.max_text_chars:
            raise APIError(f"{where} has {chars:,} characters of text; the limit is {limits.max_text_chars:,} "
                           "(max_text_chars)", param=f"{where}.content", code="text_too_long")  # fmt: skip
        if isinstance(message, UserMessage) and isinstance(message.content, list):
            _check_media_counts(message.content, where, limits)
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stops) > MAX_STOP_SEQUENCES:
        raise APIError(f"at most {MAX_STOP_SEQUENCES} stop sequences, got {len(stops)}", param="stop")
    if any(not stop or len(stop) > MAX_STOP_CHARS for stop in stops):
        raise APIError(f"each stop sequence must have 1 to {MAX_STOP_CHARS} characters", param="stop")
    if request.tools and len(request.tools) > MAX_TOOLS:
        raise APIError(f"at most {MAX_TOOLS} tools, got {len(request.tools)}", param="tools")


def _check_media_counts(parts: list[Any], where: str, limits: Limits) -> None:
    images = sum(isinstance(part, ImagePart) for part in parts)
    videos = len(parts) - images - sum(isinstance(part, TextPart) for part in parts)
    if images > limits.max_images_per_message:
        raise APIError(f"{where} has {images} images; at most {limits.max_images_per_message} per message "
                       "(max_images_per_message)", param=f"{where}.content", code="too_many_images")  # fmt: skip
    if videos > limits.max_videos_per_message:
        raise APIError(f"{where} has {videos} videos; at most {limits.max_videos_per_message} per message "
                       "(max_videos_per_message)", param=f"{where}.content", code="too_many_videos")  # fmt: skip


# -- sampling ------------------------------------------------------------------------------------------------------


def _max_new_tokens(request: ChatCompletionRequest, defaults: SamplingParams, limits: Limits) -> int:
    given = {name: getattr(request, name) for name in ("max_completion_tokens", "max_tokens")}
    values = {value for value in given.values() if value is not None}
    if len(values) > 1:
        raise APIError("max_tokens and max_completion_tokens disagree; send one of them", param="max_tokens")
    if not values:
        return min(defaults.max_new_tokens, limits.max_new_tokens_cap)
    value = values.pop()
    if value > limits.max_new_tokens_cap:
        name = "max_completion_tokens" if given["max_completion_tokens"] is not None else "max_tokens"
        raise APIError(f"{name} is {value:,}; this server allows at most {limits.max_new_tokens_cap:,} new tokens "
                       "(max_new_tokens_cap)", param=name, code="max_tokens_too_large")  # fmt: skip
    return value


def _enable_thinking(request: ChatCompletionRequest, default: bool) -> bool:
    nested = request.chat_template_kwargs.enable_thinking if request.chat_template_kwargs else None
    if None not in (request.enable_thinking, nested) and request.enable_thinking != nested:
        raise APIError("enable_thinking and chat_template_kwargs.enable_thinking disagree", param="enable_thinking")
    for value in (request.enable_thinking, nested):
        if value is not None:
            return value
    return default


def _sampling(request: ChatCompletionRequest, defaults: SamplingParams, limits: Limits) -> SamplingParams:
    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    top_k = pick(request.top_k, defaults.top_k)
    return SamplingParams(
        temperature=pick(request.temperature, defaults.temperature),
        top_p=pick(request.top_p, defaults.top_p),
        top_k=max(top_k, 0),  # vLLM's convention: -1 (or 0) means "no top-k"; 0 is the backends' "off"
        min_p=pick(request.min_p, defaults.min_p),
        max_new_tokens=_max_new_tokens(request, defaults, limits),
        enable_thinking=_enable_thinking(request, defaults.enable_thinking),
        seed=request.seed,
    )


# -- messages ------------------------------------------------------------------------------------------------------


def _user_content(message: UserMessage, where: str, media: MediaStore) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return neutralize_control_tokens(message.content)
    items: list[dict[str, Any]] = []
    for index, part in enumerate(message.content):
        place = f"{where}.content[{index}]"
        if isinstance(part, TextPart):
            items.append({"type": "text", "text": neutralize_control_tokens(part.text)})
        elif isinstance(part, ImagePart):
            items.append({"type": "image", "path": media.save(part.image_url.url, "image", place)})
        else:
            items.append({"type": "video", "path": media.save(part.video_url.url, "video", place)})
    return items


def _arguments(raw: str, where: str) -> dict[str, Any]:
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        raise APIError(f"{where}.function.arguments is not valid JSON ({error.msg})", param=where) from error
    if not isinstance(arguments, dict):
        raise APIError(f"{where}.function.arguments must be a JSON object", param=where)
    return arguments


def _assistant(message: AssistantMessage, where: str, calls: dict[str, str]) -> dict[str, Any]:
    text = _text_of(message.content)
    for index, call in enumerate(message.tool_calls or []):
        calls[call.id] = call.function.name
        parameters = _arguments(call.function.arguments, f"{where}.tool_calls[{index}]")
        text += render_action({"name": call.function.name, "parameters": parameters})
    turn: dict[str, Any] = {"role": "assistant", "content": text}
    reasoning = message.reasoning_content or message.reasoning
    if reasoning:
        turn["reasoning_content"] = reasoning
    return turn


def _tool_result(message: ToolMessage, where: str, calls: dict[str, str]) -> dict[str, Any]:
    turn: dict[str, Any] = {"role": "environment", "content": neutralize_control_tokens(_text_of(message.content))}
    name = message.name
    if message.tool_call_id is not None:
        if message.tool_call_id not in calls:
            raise APIError(f"{where}.tool_call_id {message.tool_call_id!r} answers no tool call of an earlier "
                           "assistant message", param=f"{where}.tool_call_id")  # fmt: skip
        name = calls[message.tool_call_id]
        turn["tool_call_id"] = message.tool_call_id
    if name:
        turn["name"] = name
    return turn


def _messages(request: ChatCompletionRequest, media: MediaStore) -> list[dict[str, Any]]:
    calls: dict[str, str] = {}  # tool_call_id → function name, from the assistant turns seen so far
    converted = []
    for index, message in enumerate(request.messages):
        where = f"messages[{index}]"
        if isinstance(message, SystemMessage):
            converted.append({"role": "system", "content": neutralize_control_tokens(_text_of(message.content))})
        elif isinstance(message, UserMessage):
            converted.append({"role": "user", "content": _user_content(message, where, media)})
        elif isinstance(message, AssistantMessage):
            converted.append(_assistant(message, where, calls))
        else:
            converted.append(_tool_result(message, where, calls))
    return converted


def to_backend_request(request: ChatCompletionRequest, defaults: SamplingParams, limits: Limits) -> BackendRequest:
    """Check ``request`` against this server's abilities and ``limits``, then convert it (decoding its media).

    Raises:
        APIError: naming the field and the rule; nothing is left on disk when it is raised.
    """
    _refuse_unsupported(request)
    _check_limits(request, limits)
    params = _sampling(request, defaults, limits)
    stops = (request.stop,) if isinstance(request.stop, str) else tuple(request.stop or ())
    tools = None
    if request.tools and request.tool_choice != "none":
        tools = [tool.function.model_dump(exclude_none=True) for tool in request.tools]
    media = MediaStore(limits)
    try:
        messages = _messages(request, media)
    except BaseException:
        media.close()
        raise
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    return BackendRequest(messages, params, tools, stops, request.stream, include_usage, media)
