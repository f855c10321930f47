"""Serve any :class:`~app.backends.base.ChatBackend` as an OpenAI-compatible HTTP endpoint (lmdeploy dialect).

``intern-s1-studio serve --port 23333`` exposes the local model so other tools (and this project's own remote
backend, in tests) can talk to it like to lmdeploy:

* ``POST /v1/chat/completions`` — streaming (SSE, ``delta.reasoning_content``, ``delta.tool_calls``,
  ``stream_options.include_usage``) and non-streaming; ``enable_thinking`` top-level or in ``chat_template_kwargs``;
  images and videos as ``data:`` URLs (written to private temp files for the backend, removed afterwards);
* ``GET /v1/models`` and ``GET /health``.

Remote ``http(s)://`` media URLs are refused: the server never fetches from the network on a client's behalf.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import mimetypes
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.backends.base import BackendError, ChatBackend, Delta, SamplingParams
from app.config import Limits


__all__ = ["ChatRequest", "RequestError", "create_app", "parse_chat_request", "serve"]

logger = logging.getLogger(__name__)

OWNER = "intern-s1-studio"
_ROLES = {
    "system": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "environment",
    "environment": "environment",
}


class RequestError(ValueError):
    """A request the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ChatRequest:
    """A validated ``/v1/chat/completions`` request in backend terms."""

    messages: list[dict[str, Any]]
    params: SamplingParams
    tools: list[dict[str, Any]] | None = None
    stream: bool = False
    include_usage: bool = False
    temp_dir: tempfile.TemporaryDirectory | None = None
    media_files: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        if self.temp_dir is not None:
            self.temp_dir.cleanup()
            self.temp_dir = None


# -- request parsing -----------------------------------------------------------------------------------------------


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(f"'{key}' must be a number, got {value!r}")
    if not low <= value <= high:
        raise RequestError(f"'{key}' must be between {low:g} and {high:g}, got {value!r}")
    return value


def _enable_thinking(body: dict[str, Any], default: bool) -> bool:
    kwargs = body.get("chat_template_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise RequestError("'chat_template_kwargs' must be an object")
    value = body.get("enable_thinking", kwargs.get("enable_thinking", default))
    if not isinstance(value, bool):
        raise RequestError(f"'enable_thinking' must be true or false, got {value!r}")
    return value


def _sampling(body: dict[str, Any], defaults: SamplingParams, max_tokens_cap: int) -> SamplingParams:
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is None:
        max_tokens = min(defaults.max_new_tokens, max_tokens_cap)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= max_tokens_cap:
        raise RequestError(f"'max_tokens' must be an integer between 1 and {max_tokens_cap}, got {max_tokens!r}")
    return SamplingParams(
        temperature=_number(body, "temperature", defaults.temperature, 0.0, 2.0),
        top_p=_number(body, "top_p", defaults.top_p, 0.0, 1.0),
        top_k=int(_number(body, "top_k", defaults.top_k, -1, 1_000_000)),
        min_p=_number(body, "min_p", defaults.min_p, 0.0, 1.0),
        max_new_tokens=max_tokens,
        enable_thinking=_enable_thinking(body, defaults.enable_thinking),
    )


def _save_data_url(url: str, kind: str, request: ChatRequest, max_media_bytes: int) -> str:
    if url.startswith(("http://", "https://")):
        raise RequestError(f"this server does not fetch remote {kind}s; send the {kind} as a data: URL")
    if not url.startswith("data:") or "," not in url:
        raise RequestError(f"{kind} url must be a data: URL (data:<mime>;base64,<payload>)")
    header, payload = url[5:].split(",", 1)
    mime, _, encoding = header.partition(";")
    if encoding != "base64":
        raise RequestError(f"{kind} data URL must be base64-encoded")
    if not mime.startswith(f"{kind}/"):
        raise RequestError(f"{kind} data URL has MIME type {mime!r}, expected {kind}/…")
    if len(payload) * 3 // 4 > max_media_bytes:
        raise RequestError(f"{kind} is larger than the server limit of {max_media_bytes // (1024 * 1024)} MB", 413)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RequestError(f"{kind} data URL is not valid base64") from error
    if request.temp_dir is None:
        request.temp_dir = tempfile.TemporaryDirectory(prefix="intern-s1-serve-")
    suffix = mimetypes.guess_extension(mime) or (".png" if kind == "image" else ".mp4")
    path = Path(request.temp_dir.name) / f"{kind}-{len(request.media_files)}{suffix}"
    path.write_bytes(data)
    request.media_files.append(str(path))
    return str(path)


def _content_item(part: Any, request: ChatRequest, max_media_bytes: int) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise RequestError(f"content parts must be objects, got {type(part).__name__}")
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise RequestError("a text part needs a string 'text'")
        return {"type": "text", "text": part["text"]}
    if kind in ("image_url", "video_url"):
        media = kind.removesuffix("_url")
        holder = part.get(kind)
        url = holder.get("url") if isinstance(holder, dict) else holder
        if not isinstance(url, str):
            raise RequestError(f"a {kind} part needs '{kind}': {{'url': …}}")
        return {"type": media, "path": _save_data_url(url, media, request, max_media_bytes)}
    raise RequestError(f"unsupported content part type {kind!r} (text, image_url, video_url)")


def _message(raw: Any, request: ChatRequest, max_media_bytes: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RequestError("each message must be an object with 'role' and 'content'")
    role = _ROLES.get(raw.get("role"))
    if role is None:
        raise RequestError(f"unsupported role {raw.get('role')!r}; use system, user, assistant or tool")
    content = raw.get("content")
    if content is None:
        content = ""
    if isinstance(content, list):
        content = [_content_item(part, request, max_media_bytes) for part in content]
    elif not isinstance(content, str):
        raise RequestError("message 'content' must be a string or a list of parts")
    message: dict[str, Any] = {"role": role, "content": content}
    reasoning = raw.get("reasoning_content") or raw.get("reasoning")
    if role == "assistant" and isinstance(reasoning, str) and reasoning:
        message["reasoning_content"] = reasoning
    return message


def parse_chat_request(
    body: Any, defaults: SamplingParams, *, max_tokens_cap: int = 32768, max_media_bytes: int = 20 * 1024 * 1024
) -> ChatRequest:
    """Validate an OpenAI chat-completions body and convert it to backend messages and sampling.

    Raises:
        RequestError: with a message naming the offending field.
    """
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list")
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)):
        raise RequestError("'tools' must be a list of objects")
    stream_options = body.get("stream_options") or {}
    request = ChatRequest(
        messages=[],
        params=_sampling(body, defaults, max_tokens_cap),
        tools=[t.get("function", t) if t.get("type") == "function" else t for t in tools] if tools else None,
        stream=bool(body.get("stream", False)),
        include_usage=bool(isinstance(stream_options, dict) and stream_options.get("include_usage")),
    )
    try:
        request.messages = [_message(raw, request, max_media_bytes) for raw in messages]
    except Exception:
        request.cleanup()
        raise
    return request


# -- response building ---------------------------------------------------------------------------------------------


@dataclass
class _Answer:
    """What the backend produced so far, in OpenAI terms."""

    request_id: str
    model: str
    created: int = field(default_factory=lambda: int(time.time()))
    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    text_deltas: int = 0

    def tool_call_entry(self, call: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "index": len(self.tool_calls),
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": call.get("name", ""), "arguments": json.dumps(call.get("parameters", {}))},
        }
        self.tool_calls.append(entry)
        return entry

    def add(self, delta: Delta) -> dict[str, Any] | None:
        """Record ``delta``; return the OpenAI ``delta`` object to stream for it (None for usage)."""
        if delta.kind == "reasoning":
            self.reasoning += delta.text
            self.text_deltas += 1
            return {"reasoning_content": delta.text}
        if delta.kind == "content":
            self.content += delta.text
            self.text_deltas += 1
            return {"content": delta.text}
        if delta.kind == "tool_call":
            return {"tool_calls": [self.tool_call_entry(delta.data or {})]}
        self.usage.update(delta.data or {})
        return None

    def finish_reason(self, max_tokens: int) -> str:
        if self.tool_calls:
            return "tool_calls"
        reported = self.usage.get("finish_reason")
        if reported in ("stop", "length"):
            return reported
        return "length" if self.usage_numbers()["completion_tokens"] >= max_tokens else "stop"

    def usage_numbers(self) -> dict[str, int]:
        # Backends that do not count tokens get the number of streamed pieces as the completion count.
        completion = int(self.usage.get("completion_tokens", self.usage.get("completion_chunks", self.text_deltas)))
        prompt = int(self.usage.get("prompt_tokens", 0))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self.request_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }

    def completion(self, max_tokens: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [{k: v for k, v in call.items() if k != "index"} for call in self.tool_calls]
        return {
            "id": self.request_id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason(max_tokens)}
            ],
            "usage": self.usage_numbers(),
        }


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def _error_body(message: str, status: int, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"object": "error", "error": {"message": message, "type": kind, "code": status}}


def _user_message(error: Exception) -> str:
    if isinstance(error, BackendError):
        return str(error)
    logger.exception("backend failed", exc_info=error)
    return f"internal error in the model backend ({type(error).__name__})"


# -- the app -------------------------------------------------------------------------------------------------------


def _run_backend(
    backend: ChatBackend, request: ChatRequest, cancel: threading.Event, slots: threading.BoundedSemaphore
) -> Iterator[Delta]:
    """Wait for a free generation slot (or the client leaving), then stream the backend's answer."""
    while not slots.acquire(timeout=0.1):
        if cancel.is_set():
            return
    try:
        yield from backend.stream_chat(request.messages, request.params, tools=request.tools, cancel=cancel)
    finally:
        slots.release()


def create_app(
    backend: ChatBackend,
    *,
    max_tokens_cap: int = 32768,
    max_media_bytes: int = 20 * 1024 * 1024,
    max_concurrent: int = 4,
) -> Any:
    """Build the Starlette application serving ``backend`` (no thread or socket is opened here).

    At most ``max_concurrent`` answers are generated at once; later requests wait their turn (a client that
    hangs up while waiting leaves the queue).
    """
    if max_concurrent < 1:
        raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
    slots = threading.BoundedSemaphore(max_concurrent)
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    model_id = backend.info.model_id
    defaults = backend.info.default_sampling

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": model_id, "backend": backend.info.kind})

    async def models(_: Request) -> JSONResponse:
        card = {"id": model_id, "object": "model", "created": 0, "owned_by": OWNER, "root": model_id}
        return JSONResponse({"object": "list", "data": [card]})

    async def chat_completions(http_request: Request) -> JSONResponse | StreamingResponse:
        try:
            body = json.loads(await http_request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse(_error_body("the request body is not valid JSON", 400), status_code=400)
        requested_model = body.get("model") if isinstance(body, dict) else None
        if requested_model not in (None, "", model_id):
            message = f"the model `{requested_model}` does not exist; this server serves `{model_id}`"
            return JSONResponse(_error_body(message, 404, "NotFoundError"), status_code=404)
        try:
            request = await run_in_threadpool(
                parse_chat_request, body, defaults, max_tokens_cap=max_tokens_cap, max_media_bytes=max_media_bytes
            )
        except RequestError as error:
            return JSONResponse(_error_body(str(error), error.status), status_code=error.status)
        answer = _Answer(request_id=f"chatcmpl-{uuid.uuid4().hex}", model=model_id)
        if request.stream:
            return StreamingResponse(_stream(request, answer), media_type="text/event-stream")
        try:
            await run_in_threadpool(_collect, request, answer)
        except Exception as error:  # noqa: BLE001 - every failure becomes a JSON error for the client
            return JSONResponse(_error_body(_user_message(error), 500, "server_error"), status_code=500)
        finally:
            request.cleanup()
        return JSONResponse(answer.completion(request.params.max_new_tokens))

    def _collect(request: ChatRequest, answer: _Answer) -> None:
        for delta in _run_backend(backend, request, threading.Event(), slots):
            answer.add(delta)

    async def _stream(request: ChatRequest, answer: _Answer) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()

        def produce() -> None:
            try:
                for delta in _run_backend(backend, request, cancel, slots):
                    loop.call_soon_threadsafe(queue.put_nowait, ("delta", delta))
                loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
            except Exception as error:  # noqa: BLE001 - forwarded to the client as an SSE error chunk
                loop.call_soon_threadsafe(queue.put_nowait, ("error", error))
            finally:
                request.cleanup()

        worker = threading.Thread(target=produce, name="serve-generate", daemon=True)
        worker.start()
        first = True
        try:
            while True:
                kind, item = await queue.get()
                if kind == "error":
                    yield _sse(_error_body(_user_message(item), 500, "server_error"))
                    break
                if kind == "end":
                    finish = answer.finish_reason(request.params.max_new_tokens)
                    yield _sse(answer.chunk({}, finish_reason=finish))
                    if request.include_usage:
                        yield _sse({**answer.chunk({}), "choices": [], "usage": answer.usage_numbers()})
                    break
                delta = answer.add(item)
                if delta is None:
                    continue
                if first:
                    delta = {"role": "assistant", **delta}
                    first = False
                yield _sse(answer.chunk(delta))
            yield _sse("[DONE]")
        finally:
            cancel.set()  # the client went away or we are done: stop generating now

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def serve(backend: ChatBackend, limits: Limits, *, host: str = "127.0.0.1", port: int = 23333,
          log_level: str = "warning") -> None:
    """Serve ``backend`` until interrupted (blocking), within ``limits`` (the same ones the UI enforces)."""
    import uvicorn

    logger.info("serving %s at http://%s:%d/v1", backend.info.model_id, host, port)
    app = create_app(backend, max_tokens_cap=limits.max_new_tokens_cap, max_media_bytes=limits.max_file_size_bytes,
                     max_concurrent=limits.concurrency_limit)  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level=log_level)
