"""What the remote backend sends: OpenAI chat messages, and per engine only the extra fields it is known to accept.

**generic** (any server not recognised from ``GET /v1/models``) sends only fields of the OpenAI chat-completions
schema (``openai.types.chat.CompletionCreateParams``): ``model``, ``messages``, ``stream``, ``stream_options``,
``max_tokens``, ``temperature``, ``top_p`` and ``tools``. Its messages are schema messages too: no
``reasoning_content`` on assistant turns, a tool call the model made as ``tool_calls`` with an id, and the tool's
result as a ``tool`` message carrying that ``tool_call_id``. One exception, taken only when the user attached a
video: it travels as a ``video_url`` part (the schema has no video part; vLLM, SGLang and ``transformers serve`` read
this one), and a server that refuses it says so in its own words.

Engine fields, each sent only to the engines documented to accept it (``../shared/docs/performance.md`` §1.2):

==========================================  ========  ====  ======  ===========================================
field                                       lmdeploy  vLLM  SGLang  source
==========================================  ========  ====  ======  ===========================================
``enable_thinking`` (top level)             yes                     Intern-S1 README / lmdeploy guide,
                                                                    ``extra_body={"enable_thinking": False}``
``chat_template_kwargs.enable_thinking``              yes   yes     vLLM Intern-S1 recipe and reasoning-outputs
                                                                    docs; SGLang ``separate_reasoning`` docs
``top_k``, ``min_p``                        yes       yes   yes     lmdeploy ``ChatCompletionRequest``; vLLM
                                                                    "Extra Parameters for Chat API"; SGLang
                                                                    ``SamplingParams``
``skip_special_tokens=false``,              yes       yes   yes     lmdeploy ``intern-s1`` tool parser (sets
``spaces_between_special_tokens=false``                             both); vLLM / SGLang ``SamplingParams``
(tool requests only: the action markers
are special tokens)
==========================================  ========  ====  ======  ===========================================

``intern-s1-studio serve`` (``owned_by`` "intern-s1-studio") accepts the lmdeploy set and is sent it.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path
from typing import Any

from app.backends.base import BackendError, SamplingParams
from app.backends.stream_parser import ACTION_START, split_text


__all__ = ["DIALECTS", "ENGINE_DIALECTS", "chat_request", "detect_dialect", "to_openai_messages"]

DIALECTS = ("auto", "generic", "lmdeploy", "vllm", "sglang")
# How each engine takes the thinking switch; the keys are also the engines that get the extra sampling fields.
_THINKING_SWITCH = {"lmdeploy": "enable_thinking", "vllm": "chat_template_kwargs", "sglang": "chat_template_kwargs"}
ENGINE_DIALECTS = tuple(_THINKING_SWITCH)
STUDIO_OWNER = "intern-s1-studio"  # ``owned_by`` of our own ``serve``
_ROLES = ("system", "user", "assistant", "environment", "tool")
# What a schema message may carry besides role and content, per role (OpenAI ``ChatCompletionMessageParam``).
_SCHEMA_KEYS = {"system": ("name",), "user": ("name",), "assistant": ("name", "tool_calls"), "tool": ("tool_call_id",)}


def detect_dialect(owned_by: str | None) -> str:
    """The dialect for a server whose ``/v1/models`` says ``owned_by``: an engine's name, or "generic"."""
    owner = (owned_by or "").lower()
    for name in ("vllm", "sglang", "lmdeploy"):
        if name in owner:
            return name
    if STUDIO_OWNER in owner:
        return "lmdeploy"
    return "generic"


def chat_request(
    model: str,
    messages: list[dict[str, Any]],
    params: SamplingParams,
    tools: list[dict[str, Any]] | None,
    dialect: str,
) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create``: schema fields, engine fields in ``extra_body``.

    Args:
        model: the served model name.
        messages: backend messages (paths, ``environment`` turns); converted here.
        params: sampling settings; only those the dialect can carry are sent.
        tools: tool descriptions (bare JSON-schema functions or OpenAI tools), or None.
        dialect: a concrete dialect ("generic", "lmdeploy", "vllm", "sglang"); "auto" is treated as "generic".
    """
    engine = dialect in _THINKING_SWITCH
    request: dict[str, Any] = {
        "model": model,
        "messages": to_openai_messages(messages, schema_only=not engine),
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if tools:
        request["tools"] = [_as_openai_tool(tool) for tool in tools]
    if engine:
        request["extra_body"] = _engine_fields(dialect, params, with_tools=bool(tools))
    return request


def _engine_fields(dialect: str, params: SamplingParams, *, with_tools: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"top_k": params.top_k, "min_p": params.min_p}
    if _THINKING_SWITCH[dialect] == "enable_thinking":
        fields["enable_thinking"] = params.enable_thinking
    else:
        fields["chat_template_kwargs"] = {"enable_thinking": params.enable_thinking}
    if with_tools:
        # Keep the action markers in the text, so a server without a tool parser still shows us the call.
        fields["skip_special_tokens"] = False
        fields["spaces_between_special_tokens"] = False
    return fields


def _as_openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Tools may be given as bare JSON-schema function descriptions or already wrapped as OpenAI tools."""
    if tool.get("type") == "function" and "function" in tool:
        return tool
    return {"type": "function", "function": tool}


# -- messages ------------------------------------------------------------------------------------------------------


def to_openai_messages(messages: list[dict[str, Any]], *, schema_only: bool = False) -> list[dict[str, Any]]:
    """Convert backend messages (paths, ``environment`` turns) into OpenAI chat messages (data URLs, ``tool``).

    Args:
        messages: the conversation in the backend format (``app/backends/base.py``).
        schema_only: keep to the OpenAI message schema (the generic dialect): tool calls written in an assistant
            turn's text become ``tool_calls``, results answer them by ``tool_call_id``, ``reasoning_content`` is
            left out. Otherwise turns keep Intern-S1's own form, which the engines' Intern-S1 templates read.

    Raises:
        BackendError: an unknown role, a content that is neither text nor a list of items, an unreadable file.
    """
    converted = [_convert(message) for message in messages]
    return _to_schema(converted) if schema_only else converted


def _convert(message: dict[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    if role not in _ROLES:
        raise BackendError(f"unsupported message role {role!r}")
    content = message.get("content", "")
    out: dict[str, Any] = {"role": "tool" if role == "environment" else role}  # Intern-S1's tool-result turn
    if isinstance(content, str):
        out["content"] = content
    elif isinstance(content, list):
        out["content"] = [_content_part(item) for item in content]
    else:
        raise BackendError(f"message content must be a string or a list of items, got {type(content).__name__}")
    if role == "assistant" and message.get("reasoning_content"):
        out["reasoning_content"] = message["reasoning_content"]
    for key in ("tool_calls", "tool_call_id", "name"):
        if key in message:
            out[key] = message[key]
    return out


def _to_schema(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite converted messages into the OpenAI schema: calls with ids, results that name the call they answer."""
    out = []
    open_call_ids: list[str] = []  # calls of the last assistant turn not answered yet, in order
    for message in messages:
        role = message["role"]
        if role == "assistant" and "tool_calls" not in message and _has_action(message["content"]):
            message = _action_to_tool_call(message, first_index=sum(len(m.get("tool_calls") or []) for m in out))
        if role == "assistant":
            open_call_ids = [call.get("id", "") for call in message.get("tool_calls") or []]
        if role == "tool" and "tool_call_id" not in message:
            message = {**message, "tool_call_id": open_call_ids.pop(0) if open_call_ids else f"call_{len(out)}"}
        out.append({key: message[key] for key in ("role", "content", *_SCHEMA_KEYS[role]) if key in message})
    return out


def _has_action(content: Any) -> bool:
    return isinstance(content, str) and ACTION_START in content


def _action_to_tool_call(message: dict[str, Any], first_index: int) -> dict[str, Any]:
    """An assistant turn whose text holds an InternLM action block, as text plus an OpenAI tool call."""
    text, calls = [], []
    for delta in split_text(message["content"]):
        if delta.kind == "content":
            text.append(delta.text)
        elif delta.kind == "tool_call" and delta.data:
            arguments = json.dumps(delta.data["parameters"], ensure_ascii=False)
            function = {"name": delta.data["name"], "arguments": arguments}
            calls.append({"id": f"call_{first_index + len(calls)}", "type": "function", "function": function})
    if not calls:  # not a valid call after all: the text goes as it was written
        return message
    return {**message, "content": "".join(text), "tool_calls": calls}


# -- content parts -------------------------------------------------------------------------------------------------


def _content_part(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "text":
        return {"type": "text", "text": str(item.get("text", ""))}
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": _media_url(item, "image")}}
    if kind == "video":
        # vLLM (PR #21671), SGLang and transformers serve read this part type; lmdeploy follows the same shape.
        return {"type": "video_url", "video_url": {"url": _media_url(item, "video")}}
    if kind in ("image_url", "video_url"):  # already in wire format
        return item
    raise BackendError(f"unsupported content item type {kind!r} (expected text, image or video)")


def _media_url(item: dict[str, Any], kind: str) -> str:
    source = item.get("url") or item.get("path")
    if not isinstance(source, str) or not source:
        raise BackendError(f"a {kind} item has neither 'path' nor 'url'")
    if source.startswith(("data:", "http://", "https://")):
        return source
    return _data_url(source, "image/png" if kind == "image" else "video/mp4")


def _data_url(path: str, default_mime: str) -> str:
    file = Path(path)
    try:
        payload = file.read_bytes()
    except OSError as error:
        raise BackendError(f"could not read the attached file '{file.name}': {error.strerror or error}") from error
    mime = mimetypes.guess_type(file.name)[0] or default_mime
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"
