"""What the app's web server adds around Gradio: a Content-Security-Policy on every response, an upload quota.

* **Content-Security-Policy.** Whatever HTML reaches a message (model text is rendered inert by
  :mod:`app.ui.safe_html`; the user's own text goes through Gradio's sanitiser, which keeps ``<img src=http…>`` and
  Markdown images), the browser loads images, media, frames and objects only from this server (``data:`` and
  ``blob:`` for the app's own pictures) and posts forms only here: an answer, a typed message or an imported
  conversation cannot make the page fetch a remote URL, so nothing leaves the machine when a chat renders.
  Scripts and styles are left to Gradio (its page needs inline ones).
* **A client's cancel reaches the answer.** Gradio's ``/cancel`` closes a streaming handler only once its first
  update was sent, and refuses a cancel sent before the client knew the event's id; either way the answer ran to its
  end. The guard notes each ``/queue/join`` (session, endpoint, event id) and routes every ``/cancel`` through
  :class:`~app.ui.cancel_route.CancelRouter` to ``on_cancel`` (the engine's
  :meth:`~app.chat.engine.ChatEngine.cancel_request`) before Gradio handles the request as usual.
* **Messages stay in their bubble** (:data:`MESSAGE_CSS`, added to the page's CSS at launch).
* **Upload quota.** Gradio accepts any number of uploads and keeps them in its cache until ``delete_cache`` removes
  them (:data:`app.ui.blocks` sets it to the same window). Each client address may send at most
  ``max_uploads_per_client`` upload requests and ``max_upload_mb_per_client`` MB per window; more is answered 429
  (count) or 413 (bytes) before the body is read, or, for a body without a length, as soon as it crosses the limit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from app.config import Limits
from app.ui.cancel_route import CancelRouter


__all__ = ["CONTENT_SECURITY_POLICY", "MESSAGE_CSS", "PageGuard", "UploadQuota"]

logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "img-src 'self' data: blob:; media-src 'self' data: blob:; object-src 'none'; frame-src 'self'; "
    "form-action 'self'; base-uri 'self'"
)
# Every message is its own containing block and clips what it paints: an inline style in a message's HTML (Gradio's
# sanitiser keeps ``style``, e.g. a user's or an imported ``<a style="position:fixed;inset:0">``) cannot lay a link or
# fake dialog over the rest of the page.
MESSAGE_CSS = "#chat .message-content, #chat .thought-group { contain: paint; }"
_UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
_CANCEL_PATHS = ("/gradio_api/cancel", "/cancel")
_JOIN_PATHS = ("/gradio_api/queue/join", "/queue/join")
_MAX_TRACKED_BODY = 4 * 2**20  # a join (message text, file references) or a cancel; larger ones are not tracked


class UploadQuota:
    """Upload requests and bytes per client address over a sliding window (thread-safe).

    Args:
        max_requests: upload requests a client may make per window.
        max_bytes: bytes a client may upload per window.
        window_s: the window, equal to how long Gradio keeps uploads (so the quota bounds what a client stores).
    """

    def __init__(self, max_requests: int, max_bytes: int, window_s: float) -> None:
        self.max_requests, self.max_bytes, self.window_s = max_requests, max_bytes, window_s
        self._lock = threading.Lock()
        self._log: dict[str, deque[list[float]]] = {}  # client → [[time, bytes], …]

    def _recent(self, client: str, now: float) -> deque[list[float]]:
        entries = self._log.setdefault(client, deque())
        while entries and entries[0][0] < now - self.window_s:
            entries.popleft()
        return entries

    def start(self, client: str) -> list[float] | None:
        """Register an upload; its entry (``[time, bytes]``) or None when the client has used its requests."""
        now = time.monotonic()
        with self._lock:
            entries = self._recent(client, now)
            if len(entries) >= self.max_requests:
                return None
            entry = [now, 0.0]
            entries.append(entry)
            return entry

    def add(self, client: str, entry: list[float], size: int) -> bool:
        """Count ``size`` more bytes of an upload; False (and not counted) when they would exceed the quota."""
        with self._lock:
            used = sum(counted for _, counted in self._recent(client, time.monotonic()))
            if used + size > self.max_bytes:
                return False
            entry[1] += size
            return True


class PageGuard:
    """Pure ASGI middleware: the CSP header on every HTTP response, the upload quota on Gradio's upload route."""

    def __init__(
        self, app: Any, limits: Limits, window_s: float, on_cancel: Callable[[str], object] | None = None
    ) -> None:
        self.app = app
        self.limits = limits
        self.cancels = CancelRouter(on_cancel) if on_cancel is not None else None
        self.quota = UploadQuota(limits.max_uploads_per_client, int(limits.max_upload_mb_per_client * 2**20), window_s)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        path = scope["path"].rstrip("/")
        if scope["method"] == "POST" and path.endswith(_UPLOAD_PATHS):
            await self._upload(scope, receive, send_with_policy)
        elif scope["method"] == "POST" and self.cancels is not None and path.endswith(_CANCEL_PATHS + _JOIN_PATHS):
            await self._track(scope, receive, send_with_policy, is_join=path.endswith(_JOIN_PATHS))
        else:
            await self.app(scope, receive, send_with_policy)

    async def _upload(self, scope, receive, send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        entry = self.quota.start(client)
        if entry is None:
            await _refuse(send, 429, f"upload limit reached: at most {self.limits.max_uploads_per_client} uploads "
                                     "per client in the retention window (max_uploads_per_client)")  # fmt: skip
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and not self.quota.add(client, entry, int(declared)):
            await _refuse(send, 413, self._bytes_message())
            return
        counted = declared.isdigit()  # a declared length was counted whole; otherwise count as the body arrives

        async def counting_receive():
            message = await receive()
            over = (not counted and message["type"] == "http.request"
                    and not self.quota.add(client, entry, len(message.get("body", b""))))  # fmt: skip
            if over:
                logger.warning("upload from %s stopped: over max_upload_mb_per_client", client)
                return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send)

    async def _track(self, scope, receive, send, *, is_join: bool) -> None:
        """Note a join's event id, or route a cancel, then let Gradio handle the request as usual."""
        body, more, receive = await _read_body(receive)
        request = _json_object(body) if not more else {}
        session, fn_index = request.get("session_hash"), request.get("fn_index")
        if not isinstance(session, str) or not isinstance(fn_index, int):
            session, fn_index = None, None
        if not is_join:
            event_id = request.get("event_id")
            self.cancels.cancelled(session, fn_index, event_id if isinstance(event_id, str) else None)
            await self.app(scope, receive, send)
            return
        reply: list[bytes] = []

        async def noting_send(message) -> None:
            if message["type"] == "http.response.body":
                reply.append(message.get("body", b""))
                if not message.get("more_body", False) and session is not None:
                    event_id = _json_object(b"".join(reply)).get("event_id")
                    if isinstance(event_id, str):
                        self.cancels.joined(session, fn_index, event_id)
            await send(message)

        await self.app(scope, receive, noting_send)

    def _bytes_message(self) -> str:
        return (f"upload limit reached: at most {self.limits.max_upload_mb_per_client:g} MB per client in the "
                "retention window (max_upload_mb_per_client)")  # fmt: skip


async def _read_body(receive) -> tuple[bytes, bool, Callable]:
    """(body read so far, whether more is still to come, a receive that replays it first) — at most
    :data:`_MAX_TRACKED_BODY` bytes are read here; the rest streams on to the app untouched."""
    chunks, size, more = [], 0, True
    while more and size <= _MAX_TRACKED_BODY:
        message = await receive()
        if message["type"] != "http.request":
            more = False
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return body, more, replay


def _json_object(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _refuse(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
