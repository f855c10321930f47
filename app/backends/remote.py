"""A chat backend that talks to an OpenAI-compatible server: lmdeploy, vLLM, SGLang or ``intern-s1-studio serve``.

The three engines differ in small ways (``../shared/docs/performance.md`` §1.2) and this module hides them:

* thinking switch — lmdeploy reads a top-level ``enable_thinking``; vLLM and SGLang read
  ``chat_template_kwargs.enable_thinking``;
* reasoning — ``delta.reasoning_content`` (lmdeploy, SGLang), ``delta.reasoning`` (vLLM since late 2025) or, when the
  server runs no reasoning parser, inline in the content up to ``</think>``;
* tool calls — ``delta.tool_calls`` when the server runs the InternLM tool parser, otherwise the raw
  ``<|action_start|>`` blocks in the content (split markers included, vLLM #57490); the final text is re-parsed too.

Requests are retried with exponential backoff only before the first chunk arrives (a retry later would repeat text).
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams
from app.backends.stream_parser import ACTION_END, PLUGIN, StreamSplitter, parse_action


__all__ = ["DIALECTS", "OpenAICompatibleBackend", "detect_dialect", "to_openai_messages"]

logger = logging.getLogger(__name__)

Dialect = Literal["auto", "lmdeploy", "vllm", "sglang"]
DIALECTS = ("auto", "lmdeploy", "vllm", "sglang")
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_ROLE_FOR_SERVER = {"environment": "tool"}  # Intern-S1's tool-result turn is the OpenAI "tool" role on the wire


def detect_dialect(owned_by: str | None) -> str:
    """Guess the engine from ``/v1/models`` ``owned_by`` ("lmdeploy", "vllm", "sglang"; ours speaks lmdeploy)."""
    owner = (owned_by or "").lower()
    for name in ("vllm", "sglang", "lmdeploy"):
        if name in owner:
            return name
    if "intern-s1-studio" in owner:
        return "lmdeploy"
    return "auto"


def _data_url(path: str, default_mime: str) -> str:
    file = Path(path)
    try:
        payload = file.read_bytes()
    except OSError as error:
        raise BackendError(f"could not read the attached file '{file.name}': {error.strerror or error}") from error
    mime = mimetypes.guess_type(file.name)[0] or default_mime
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def _media_url(item: dict[str, Any], kind: str) -> str:
    source = item.get("url") or item.get("path")
    if not isinstance(source, str) or not source:
        raise BackendError(f"a {kind} item has neither 'path' nor 'url'")
    if source.startswith(("data:", "http://", "https://")):
        return source
    return _data_url(source, "image/png" if kind == "image" else "video/mp4")


def _content_part(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "text":
        return {"type": "text", "text": str(item.get("text", ""))}
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": _media_url(item, "image")}}
    if kind == "video":
        # vLLM (PR #21671) and SGLang document this part type for Intern-S1; lmdeploy follows the same shape.
        return {"type": "video_url", "video_url": {"url": _media_url(item, "video")}}
    if kind in ("image_url", "video_url"):  # already in wire format
        return item
    raise BackendError(f"unsupported content item type {kind!r} (expected text, image or video)")


def to_openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert backend messages (paths, ``environment`` turns) into OpenAI chat messages (data URLs, ``tool``)."""
    converted = []
    for message in messages:
        role = message.get("role")
        if role not in ("system", "user", "assistant", "environment", "tool"):
            raise BackendError(f"unsupported message role {role!r}")
        content = message.get("content", "")
        out: dict[str, Any] = {"role": _ROLE_FOR_SERVER.get(role, role)}
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
        converted.append(out)
    return converted


def _error_text(response: httpx.Response) -> str:
    """The server's own explanation, whichever of the usual JSON shapes it uses."""
    try:
        body = json.loads(response.read() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, httpx.HTTPError):
        return response.reason_phrase or ""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)
        if body.get("message") or body.get("detail"):
            return str(body.get("message") or body.get("detail"))
        return str(error)
    return str(body)


class _Cancelled(Exception):
    """Stop was pressed while waiting to retry."""


class _NothingReceived(Exception):
    """The stream ended (or broke) before its first chunk — safe to ask again."""


def _transport_problem(error: httpx.HTTPError, read_timeout: float | None) -> str:
    if isinstance(error, httpx.ReadTimeout):
        return f"no data for {read_timeout or 0:g} s"
    return type(error).__name__


class _CancelWatcher:
    """Closes the HTTP response when ``cancel`` is set, so a blocked read ends within ~0.1 s."""

    def __init__(self, cancel: threading.Event | None, response: httpx.Response) -> None:
        self._cancel, self._response = cancel, response
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if cancel is not None:
            self._thread = threading.Thread(target=self._watch, name="openai-cancel-watch", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set():
            if self._cancel is not None and self._cancel.wait(0.05):
                self._response.close()
                return

    def stop(self) -> None:
        self._done.set()


class _ToolCallAccumulator:
    """Collects ``delta.tool_calls`` fragments by index (name first, JSON arguments streamed in pieces)."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, fragments: list[dict[str, Any]]) -> None:
        for position, fragment in enumerate(fragments):
            index = fragment.get("index", position)
            call = self._calls.setdefault(index, {"name": "", "arguments": ""})
            function = fragment.get("function") or {}
            call["name"] += function.get("name") or ""
            arguments = function.get("arguments")
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


class OpenAICompatibleBackend(ChatBackend):
    """Stream chat completions from an OpenAI-compatible server.

    Args:
        base_url: server root, with or without ``/v1`` (e.g. ``http://127.0.0.1:23333``).
        api_key: bearer token; "EMPTY" when the server was started without one.
        served_model: model name on the server; None asks ``GET /v1/models`` and takes the first.
        dialect: "auto" (detected from ``/v1/models`` ``owned_by``), "lmdeploy", "vllm" or "sglang".
        timeout: seconds to wait for the next chunk (and for the first one).
        connect_timeout: seconds to wait for the TCP connection.
        max_retries: extra attempts before the first chunk, on connection errors and 408/429/5xx.
        backoff_s: first retry delay; doubled each attempt.
        inline_reasoning: whether, with thinking on, content that arrives before any reasoning field starts inside
            ``<think>`` (a server without a reasoning parser). None decides per server: False for
            ``intern-s1-studio serve`` (it always splits reasoning), otherwise True.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str = "EMPTY",
        served_model: str | None = None,
        dialect: Dialect = "auto",
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        inline_reasoning: bool | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, got {dialect!r}")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if max_retries < 0 or timeout <= 0 or connect_timeout <= 0:
            raise ValueError("max_retries must be ≥ 0 and timeouts > 0")
        root = base_url.rstrip("/")
        self.base_url = root[: -len("/v1")] if root.endswith("/v1") else root
        self.dialect: str = dialect
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._served_model = served_model
        self.inline_reasoning = inline_reasoning
        self._owner = ""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            # a reverse proxy between us and the engine is fine; an env proxy for loopback is not
            trust_env=False,
        )
        self.info = self._make_info(served_model or "(not discovered yet)")
        if served_model is None or dialect == "auto":
            try:
                self.discover()
            except BackendError as error:  # the UI can still start and say so; the next request tries again
                logger.warning("%s", error)

    def _make_info(self, model_id: str) -> BackendInfo:
        return BackendInfo(
            kind="openai",
            model_id=model_id,
            description=f"remote {self.dialect if self.dialect != 'auto' else 'OpenAI-compatible'} server at {self.base_url}",
        )

    # -- discovery ---------------------------------------------------------------------------------------------

    def discover(self) -> str:
        """Ask ``GET /v1/models`` for the model id and engine; returns the model id used from now on."""
        response = self._request_with_retries("GET", "/v1/models", None, None)
        try:
            response.read()
            models = response.json().get("data") or []
        except (json.JSONDecodeError, AttributeError, httpx.HTTPError) as error:
            raise BackendError(f"{self.base_url}/v1/models did not return a model list") from error
        finally:
            response.close()
        if not models:
            raise BackendError(f"the server at {self.base_url} serves no model")
        first = models[0]
        self._owner = str(first.get("owned_by") or "")
        if self.dialect == "auto":
            self.dialect = detect_dialect(first.get("owned_by"))
        if self._served_model is None:
            self._served_model = str(first.get("id"))
        self.info = self._make_info(self._served_model)
        return self._served_model

    # -- requests ----------------------------------------------------------------------------------------------

    def build_request(
        self, messages: list[dict[str, Any]], params: SamplingParams, tools: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The JSON body for ``/v1/chat/completions`` in this server's dialect."""
        body: dict[str, Any] = {
            "model": self._served_model,
            "messages": to_openai_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": params.top_k,
            "min_p": params.min_p,
        }
        if self.dialect in ("lmdeploy", "auto"):
            body["enable_thinking"] = params.enable_thinking
        if self.dialect in ("vllm", "sglang", "auto"):
            body["chat_template_kwargs"] = {"enable_thinking": params.enable_thinking}
        if tools:
            body["tools"] = [_as_openai_tool(tool) for tool in tools]
            # The action markers are special tokens: keep them in the text so a missing tool parser can be covered.
            body["skip_special_tokens"] = False
            body["spaces_between_special_tokens"] = False
        return body

    def _request_with_retries(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: threading.Event | None
    ) -> httpx.Response:
        """Send and return the open response (status 2xx), retrying transient failures with backoff."""
        url = self.base_url + path
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                logger.info("retrying %s (%s)", url, last_problem)
                if self._wait_backoff(attempt, cancel):
                    raise _Cancelled
            try:
                request = self._client.build_request(method, url, json=body)
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException:
                last_problem = f"no answer within {self._client.timeout.connect or 0:g} s"
                continue
            except httpx.TransportError as error:
                last_problem = f"cannot connect ({type(error).__name__}: {error})"
                continue
            if response.status_code < 400:
                return response
            detail = _error_text(response)
            response.close()
            last_problem = f"HTTP {response.status_code}: {detail}"
            if response.status_code not in _RETRY_STATUS:
                raise BackendError(f"the server at {self.base_url} rejected the request ({last_problem})")
        attempts = self.max_retries + 1
        raise BackendError(
            f"the model server at {self.base_url} is not answering after {attempts} attempt(s): {last_problem}. "
            "Is it running? (see README: serving recipes)"
        )

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        if self._served_model is None:
            self.discover()
        body = self.build_request(messages, params, tools)
        for attempt in range(self.max_retries + 1):
            try:
                response = self._request_with_retries("POST", "/v1/chat/completions", body, cancel)
            except _Cancelled:
                return
            watcher = _CancelWatcher(cancel, response)
            try:
                yield from self._read_stream(response, params, cancel)
                return
            except _NothingReceived as problem:
                # Nothing was shown yet, so asking again cannot repeat text.
                if attempt == self.max_retries:
                    raise BackendError(
                        f"the server at {self.base_url} accepted the request but sent no answer "
                        f"({problem}) after {attempt + 1} attempt(s)"
                    ) from problem
                logger.info("stream ended before its first chunk (%s); retrying", problem)
            finally:
                watcher.stop()
                response.close()
            if self._wait_backoff(attempt + 1, cancel):
                return

    def _wait_backoff(self, attempt: int, cancel: threading.Event | None) -> bool:
        """Sleep before retry number ``attempt``; True if ``cancel`` was set meanwhile."""
        delay = self.backoff_s * 2 ** (attempt - 1)
        if cancel is not None:
            return cancel.wait(delay)
        time.sleep(delay)
        return False

    def _read_stream(
        self, response: httpx.Response, params: SamplingParams, cancel: threading.Event | None
    ) -> Iterator[Delta]:
        inline = self.inline_reasoning
        if inline is None:
            inline = "intern-s1-studio" not in self._owner.lower()
        state = _StreamState(thinking=params.enable_thinking and inline)
        chunks = 0
        done = False
        try:
            for line in response.iter_lines():
                if cancel is not None and cancel.is_set():
                    return
                payload = _sse_payload(line)
                if payload is None:
                    continue
                if payload == "[DONE]":
                    done = True
                    break
                chunks += 1
                yield from state.on_chunk(_decode_chunk(payload))
        except httpx.HTTPError as error:
            if cancel is not None and cancel.is_set():
                return
            if chunks == 0:
                raise _NothingReceived(_transport_problem(error, self._client.timeout.read)) from error
            raise BackendError(
                f"the connection to {self.base_url} was lost after {chunks} chunk(s) "
                f"({_transport_problem(error, self._client.timeout.read)}); the answer is incomplete — "
                "send the message again"
            ) from error
        if cancel is not None and cancel.is_set():
            return
        if chunks == 0:
            raise _NothingReceived("the stream closed empty")
        if not done and not state.saw_finish_reason:
            # A close-delimited body (HTTP/1.0, `Connection: close` proxies) that stops early raises no transport
            # error: only the missing [DONE] / finish_reason tells a cut answer from a complete one.
            raise BackendError(
                f"the connection to {self.base_url} was lost after {chunks} chunk(s) (the stream ended without "
                "[DONE] or a finish reason); the answer is incomplete — send the message again"
            )
        yield from state.finish()

    def close(self) -> None:
        self._client.close()


def _as_openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Tools may be given as bare JSON-schema function descriptions or already wrapped as OpenAI tools."""
    if tool.get("type") == "function" and "function" in tool:
        return tool
    return {"type": "function", "function": tool}


def _sse_payload(line: str) -> str | None:
    """The data of one SSE line, or None for comments, event names, keep-alives and blank lines."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


def _decode_chunk(payload: str) -> dict[str, Any]:
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError as error:
        raise BackendError(f"the server sent a malformed stream chunk: {payload[:200]!r}") from error
    if not isinstance(chunk, dict):
        raise BackendError(f"the server sent a malformed stream chunk: {payload[:200]!r}")
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise BackendError(f"the model server failed while answering: {message}")
    return chunk


class _StreamState:
    """Turns chunks of any dialect into deltas: reasoning fields, content (split inline), tool calls, usage."""

    def __init__(self, *, thinking: bool) -> None:
        self._thinking = thinking
        self._splitter: StreamSplitter | None = None  # chosen when the first content arrives
        self._saw_reasoning_field = False
        self._tool_fragments = _ToolCallAccumulator()
        self._inline_calls: list[dict[str, Any]] = []
        self._content_text: list[str] = []
        self._usage: dict[str, Any] | None = None

    @property
    def saw_finish_reason(self) -> bool:
        return bool(self._usage and self._usage.get("finish_reason"))

    def on_chunk(self, chunk: dict[str, Any]) -> Iterator[Delta]:
        if chunk.get("usage"):
            self._usage = {**(self._usage or {}), **chunk["usage"]}  # the finish reason may have come first
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            reasoning = delta.get("reasoning") or delta.get("reasoning_content")
            if reasoning:
                self._saw_reasoning_field = True
                yield Delta("reasoning", text=reasoning)
            if delta.get("tool_calls"):
                self._tool_fragments.add(delta["tool_calls"])
            if delta.get("content"):
                yield from self._on_content(delta["content"])
            if choice.get("finish_reason") and self._usage is None:
                self._usage = {}
            if choice.get("finish_reason"):
                self._usage["finish_reason"] = choice["finish_reason"]

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
            else:
                yield delta

    def finish(self) -> Iterator[Delta]:
        if self._splitter is not None:
            yield from self._route(self._splitter.finish())
        calls = self._tool_fragments.calls() or self._inline_calls
        if not calls:
            recovered = _recover_action_from_text("".join(self._content_text))
            calls = [recovered] if recovered else []
        for call in calls:
            yield Delta("tool_call", data=call)
        if self._usage is not None:
            yield Delta("usage", data=self._usage)
