"""A chat backend that talks to an OpenAI-compatible server through the official ``openai`` SDK.

Servers: lmdeploy, vLLM, SGLang, ``intern-s1-studio serve``, ``transformers serve`` or any other that speaks the
chat-completions API. What is sent to which is in ``app/backends/remote_request.py`` (the ``generic`` dialect sends
only OpenAI schema fields); how their streams are read is in ``app/backends/remote_stream.py``.

The SDK does the HTTP work: ``chat.completions.create(stream=True)``, engine fields in ``extra_body``, its own
``max_retries`` (connection errors, timeouts, 408/409/429/5xx, with exponential backoff and ``Retry-After``) and
``timeout``, typed errors, ``Stream.close()`` to cancel. Its retries all happen before the response is returned, so
none can repeat text; this module adds one more kind, equally safe: a stream that closes or stalls before it has
produced any text is asked again (``max_retries`` times, ``backoff_s`` doubling). Once text went out, a failure is
reported as an incomplete answer, never retried. The SDK's typed errors become the short messages of
:class:`BackendError` (server down, request rejected with the server's own reason, answer cut off).

Stop: a watcher thread closes the SDK stream when ``cancel`` is set, so a blocked read ends within ~0.1 s. (A
Stop during the SDK's own backoff between connection attempts waits for that attempt, at most a few seconds.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

import httpx2
import openai

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams
from app.backends.cancel import when_cancelled
from app.backends.remote_request import DIALECTS, STUDIO_OWNER, chat_request, detect_dialect, to_openai_messages
from app.backends.remote_stream import DoneWatchingTransport, StreamState, saw_done


__all__ = ["DIALECTS", "OpenAICompatibleBackend", "detect_dialect", "to_openai_messages"]

logger = logging.getLogger(__name__)

Dialect = Literal["auto", "generic", "lmdeploy", "vllm", "sglang"]
_RETRIED_STATUS = {408, 409, 429}  # and every 5xx: the statuses the SDK retries (openai._base_client._should_retry)


class _NothingReceived(Exception):
    """The stream ended, broke or stalled before any text went out: safe to ask again."""


class OpenAICompatibleBackend(ChatBackend):
    """Stream chat completions from an OpenAI-compatible server.

    Args:
        base_url: server root, with or without ``/v1`` (e.g. ``http://127.0.0.1:23333``).
        api_key: bearer token; "EMPTY" when the server was started without one.
        served_model: model name on the server; None asks ``GET /v1/models`` and takes the first.
        dialect: "auto" (recognised from ``/v1/models`` ``owned_by``; anything unknown is "generic"), "generic"
            (OpenAI schema fields only), "lmdeploy", "vllm" or "sglang".
        timeout: seconds to wait for the next chunk (and for the first one).
        connect_timeout: seconds to wait for the TCP connection.
        max_retries: extra attempts before any text arrived (the SDK's ``max_retries``, and again for a stream that
            ends or stalls before its first text).
        backoff_s: first wait before asking again after such an empty stream; doubled each time.
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
        self.inline_reasoning = inline_reasoning
        self._served_model = served_model
        self._owner = ""
        self._client = openai.OpenAI(
            base_url=self.base_url + "/v1",
            api_key=api_key or "EMPTY",
            max_retries=max_retries,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            # The SDK would add the user's OpenAI organisation and project ids from the environment: not for
            # someone else's server.
            default_headers={"OpenAI-Organization": openai.Omit(), "OpenAI-Project": openai.Omit()},
            # A reverse proxy between us and the engine is fine; an environment proxy for loopback is not.
            http_client=openai.DefaultHttpxClient(
                transport=DoneWatchingTransport(httpx2.HTTPTransport()), trust_env=False
            ),
        )
        self.info = self._make_info(served_model or "(not discovered yet)")
        if served_model is None or dialect == "auto":
            try:
                self.discover()
            except BackendError as error:  # the UI can still start and say so; the next request tries again
                logger.warning("%s", error)

    def _make_info(self, model_id: str) -> BackendInfo:
        what = "OpenAI-compatible" if self.dialect in ("auto", "generic") else self.dialect
        return BackendInfo(kind="openai", model_id=model_id, description=f"remote {what} server at {self.base_url}")

    # -- discovery ---------------------------------------------------------------------------------------------

    def discover(self) -> str:
        """Ask ``GET /v1/models`` for the model id and engine; returns the model id used from now on.

        Raises:
            BackendError: the server is down, or lists no model while none was named with ``served_model``.
        """
        try:
            models = [model for model in self._client.models.list().data if getattr(model, "id", None)]
        except openai.APIStatusError as error:
            if error.status_code not in (404, 405):
                raise _user_error(error, self.base_url) from error
            if self._served_model is None:
                raise BackendError(
                    f"the server at {self.base_url} has no model list (GET /v1/models: HTTP {error.status_code}): "
                    "name the model with --served-model"
                ) from error
            models = []  # the named model is used as it is, in the generic dialect
        except openai.APIError as error:
            raise _user_error(error, self.base_url) from error
        except (ValueError, TypeError, AttributeError) as error:  # the SDK's parse of a body that is no model list
            raise BackendError(f"{self.base_url}/v1/models did not return a model list ({error})") from error
        if not models and self._served_model is None:
            raise BackendError(
                f"the server at {self.base_url} lists no model on GET /v1/models (transformers serve, for one, lists "
                "only models in its Hugging Face cache): name the model with --served-model"
            )
        named = [model for model in models if getattr(model, "id", None) == self._served_model]
        entry = (named or models or [None])[0]
        self._owner = str(getattr(entry, "owned_by", "") or "")
        if self.dialect == "auto":
            self.dialect = detect_dialect(self._owner)
        if self._served_model is None:
            self._served_model = str(entry.id)
        self.info = self._make_info(self._served_model)
        return self._served_model

    # -- requests ----------------------------------------------------------------------------------------------

    def build_request(
        self, messages: list[dict[str, Any]], params: SamplingParams, tools: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` in this server's dialect (``extra_body`` included)."""
        return chat_request(self._served_model or "", messages, params, tools, self.dialect)

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        if self._served_model is None or self.dialect == "auto":
            self.discover()
        request = self.build_request(messages, params, tools)
        for attempt in range(self.max_retries + 1):
            if cancel is not None and cancel.is_set():
                return
            stream = self._open(request)
            try:
                with when_cancelled(cancel, stream.close):
                    yield from self._read(stream, params, cancel)
                return
            except _NothingReceived as problem:
                # Nothing was shown yet, so asking again cannot repeat text.
                if attempt == self.max_retries:
                    raise BackendError(
                        f"the server at {self.base_url} accepted the request but sent no answer "
                        f"({problem}) after {attempt + 1} attempt(s)"
                    ) from problem
                logger.info("stream ended before its first text (%s); asking again", problem)
            finally:
                stream.close()
            if _wait(self.backoff_s * 2**attempt, cancel):
                return

    def _open(self, request: dict[str, Any]) -> openai.Stream:
        try:
            return self._client.chat.completions.create(**request)
        except openai.APIError as error:
            raise _user_error(error, self.base_url, self._client.timeout) from error

    def _read(self, stream: openai.Stream, params: SamplingParams, cancel: threading.Event | None) -> Iterator[Delta]:
        inline = self.inline_reasoning
        if inline is None:
            inline = STUDIO_OWNER not in self._owner.lower()
        state = StreamState(thinking=params.enable_thinking and inline)
        chunks = shown = 0
        try:
            for chunk in stream:
                if cancel is not None and cancel.is_set():
                    return
                chunks += 1
                for delta in state.on_chunk(chunk):
                    shown += 1
                    yield delta
        except openai.APIConnectionError as error:  # APITimeoutError included
            if cancel is not None and cancel.is_set():
                return
            problem = _transport_problem(error, self._client.timeout)
            if shown == 0:
                raise _NothingReceived(problem) from error
            raise BackendError(
                f"the connection to {self.base_url} was lost after {chunks} chunk(s) ({problem}); the answer is "
                "incomplete — send the message again"
            ) from error
        except openai.APIError as error:  # an error event in the stream
            raise BackendError(f"the model server failed while answering: {_server_reason(error)}") from error
        except ValueError as error:  # a chunk that is not JSON
            raise BackendError(f"the server sent a malformed stream chunk ({error})") from error
        if cancel is not None and cancel.is_set():
            return
        if chunks == 0:
            raise _NothingReceived("the stream closed empty")
        if not saw_done(stream.response) and not state.saw_finish_reason:
            if shown == 0:
                raise _NothingReceived("the stream closed before its first text")
            raise BackendError(
                f"the connection to {self.base_url} was lost after {chunks} chunk(s) (the stream ended without "
                "[DONE] or a finish reason); the answer is incomplete — send the message again"
            )
        yield from state.finish()

    def close(self) -> None:
        self._client.close()


def _wait(seconds: float, cancel: threading.Event | None) -> bool:
    """Sleep ``seconds``; True if ``cancel`` was set meanwhile."""
    if cancel is not None:
        return cancel.wait(seconds)
    time.sleep(seconds)
    return False


def _attempts(error: openai.APIError) -> int:
    """How many times the SDK sent the request (it numbers its retries in a header of each one)."""
    request = getattr(error, "request", None)
    try:
        return int(request.headers.get("x-stainless-retry-count", "0")) + 1 if request is not None else 1
    except ValueError:
        return 1


def _server_reason(error: openai.APIError) -> str:
    """The server's own explanation, whichever of the usual JSON shapes (or plain text) it used."""
    body = error.body
    if isinstance(body, dict):
        return str(body.get("message") or body.get("detail") or body)
    if isinstance(body, str) and body.strip():
        return body.strip()
    response = getattr(error, "response", None)
    return error.message if response is None else (response.reason_phrase or error.message)


def _transport_problem(error: openai.APIConnectionError, timeout: Any) -> str:
    if isinstance(error, openai.APITimeoutError):
        read = getattr(timeout, "read", None)
        return f"no data for {read or 0:g} s"
    cause = error.__cause__
    return f"{type(cause).__name__}: {cause}" if cause is not None else error.message


def _user_error(error: openai.APIError, base_url: str, timeout: Any = None) -> BackendError:
    """Our short message for a failed request, from the SDK's typed error (``timeout``: the client's limits)."""
    attempts = _attempts(error)
    down = f"the model server at {base_url} is not answering after {attempts} attempt(s)"
    hint = "Is it running? (see README: serving recipes)"
    if isinstance(error, openai.APITimeoutError):
        limits = (
            f" (connect {timeout.connect:g} s, then {timeout.read:g} s for the answer to start)" if timeout else ""
        )
        return BackendError(f"{down}: no answer in time{limits}. {hint}")
    if isinstance(error, openai.APIConnectionError):
        return BackendError(f"{down}: cannot connect ({_transport_problem(error, None)}). {hint}")
    if isinstance(error, openai.APIStatusError):
        status = f"HTTP {error.status_code}: {_server_reason(error)}"
        if error.status_code in _RETRIED_STATUS or error.status_code >= 500:
            return BackendError(f"{down}: {status}. {hint}")
        return BackendError(f"the server at {base_url} rejected the request ({status})")
    return BackendError(f"the request to {base_url} failed: {error.message}")
