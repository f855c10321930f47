"""Guards in front of the app: deadlines for slow senders (``Limits.request_read_timeout_s`` for the headers, and
again for the body) and the declared body size.

uvicorn bounds idle keep-alive connections but not a request that is still arriving: a client that sends half its
headers, or half its body, and then nothing, would hold its connection for ever. Two guards close that:

* :func:`header_deadline_protocol` — uvicorn's h11 protocol with a timer armed while h11 waits for a request's
  headers; when it fires before they are complete, the connection is closed (there is no request to answer yet).
* :class:`BodyGuardMiddleware` — ASGI middleware; a body that has not fully arrived within the deadline gets a
  408 in OpenAI's error shape, sent with ``Connection: close`` (it also refuses a body declared too large, unread).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from starlette.datastructures import Headers
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.serving.errors import APIError, error_response


__all__ = ["BodyGuardMiddleware", "header_deadline_protocol"]


def header_deadline_protocol(seconds: float) -> type[H11Protocol]:
    """A uvicorn HTTP protocol class (``uvicorn.Config(http=...)``) that drops clients slower than ``seconds``."""

    class HeaderDeadlineProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._watch_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_watching()
            super().connection_lost(exc)

        def _watch_headers(self) -> None:
            # h11's IDLE means "no complete request line and headers yet" (also between keep-alive requests, where
            # uvicorn's own keep-alive timer covers a silent client; ours covers one that started sending).
            if self.conn.their_state is not h11.IDLE:
                self._stop_watching()
            elif self._header_timer is None:
                self._header_timer = self.loop.call_later(seconds, self._headers_overdue)

        def _stop_watching(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_overdue(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol


class BodyGuardMiddleware:
    """Refuse a body declared larger than ``max_bytes`` unread (413), and one not fully arrived ``seconds`` after
    its headers (408). A body without a declared length is counted by the route's own limit (FastAPI
    ``max_body_size``) as it streams in; this guard answers the declared case itself so the reply keeps OpenAI's
    error shape (Starlette's limiter would answer it in plain text)."""

    def __init__(self, app: Any, *, max_bytes: int, too_large: str, seconds: float) -> None:
        self.app, self.max_bytes, self.too_large, self.seconds = app, max_bytes, too_large, seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(APIError(self.too_large, 413, code="request_too_large"))(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False

        async def receive_by_deadline() -> dict[str, Any]:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise APIError(f"the request body did not arrive within {self.seconds:g} s "
                               "(request_read_timeout_s)", 408, code="request_timeout") from None  # fmt: skip
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_by_deadline, send)
