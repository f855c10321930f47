"""Run a backend's blocking ``stream_chat`` on a worker thread and hand its deltas to the event loop.

At most ``Limits.concurrency_limit`` answers are generated at once; later requests wait for a slot (at most
``Limits.max_queue_size`` of them — more get a 503, which clients retry). Whoever consumes a :class:`Generation`
polls for the client leaving while it waits, and :meth:`Generation.cancel` stops the backend at its next step.
The media files of the request are removed when the backend's stream has ended, however it ended.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from app.backends.base import ChatBackend, Delta
from app.serving.convert import BackendRequest
from app.serving.errors import APIError


__all__ = ["POLL_S", "ClientGone", "Event", "Generation", "Slots"]

logger = logging.getLogger(__name__)

POLL_S = 0.1  # how often a waiting request checks that its client is still there


class ClientGone(Exception):
    """The client hung up while its answer was being generated (generation has been cancelled)."""


class Slots:
    """Generation slots shared by all requests, with a bounded waiting line."""

    def __init__(self, concurrent: int, waiting: int) -> None:
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._waiting = 0
        self.max_waiting = waiting

    def enter_line(self) -> None:
        """Join the waiting line, or refuse with 503 when it is full."""
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise APIError(f"the server is busy: {self.max_waiting} requests are already waiting "
                               "(max_queue_size); try again shortly", 503, code="server_busy")  # fmt: skip
            self._waiting += 1

    def acquire(self, cancel: threading.Event) -> bool:
        """Wait for a slot (leaving the line); False when ``cancel`` was set first."""
        try:
            while not self._slots.acquire(timeout=POLL_S):
                if cancel.is_set():
                    return False
            return True
        finally:
            with self._lock:
                self._waiting -= 1

    def release(self) -> None:
        self._slots.release()


@dataclass(frozen=True)
class Event:
    """What the worker reports: a delta, the end of the stream, or the exception that ended it."""

    delta: Delta | None = None
    error: BaseException | None = None

    @property
    def is_end(self) -> bool:
        return self.delta is None and self.error is None


class Generation:
    """One backend answer on its own thread; consume it with :meth:`next_event`."""

    def __init__(self, backend: ChatBackend, request: BackendRequest, slots: Slots, *, timeout_s: float) -> None:
        self.backend, self.request, self.slots, self.timeout_s = backend, request, slots, timeout_s
        self.cancel_event = threading.Event()
        self.finished = threading.Event()  # the backend's stream has ended and the media are gone
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._next_check = 0.0
        self._deadline = self._loop.time() + timeout_s
        slots.enter_line()
        self._thread = threading.Thread(target=self._work, name="serve-generate", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    async def next_event(self, request: Any | None = None) -> Event:
        """The next event; with a Starlette ``request``, cancel and raise :class:`ClientGone` if it disconnects.

        The client is checked every :data:`POLL_S` seconds even while events keep coming. An answer still running
        ``timeout_s`` after the request arrived (waiting for a slot included) is cancelled: the event is then an
        error, as from the backend.
        """
        while True:
            if self._loop.time() > self._deadline:
                self.cancel()
                message = f"the answer took longer than {self.timeout_s:g} s (request_timeout_s) and was stopped"
                return Event(error=APIError(message, 504, code="generation_timeout"))
            if request is not None and self._loop.time() >= self._next_check:
                self._next_check = self._loop.time() + POLL_S
                if await request.is_disconnected():
                    self.cancel()
                    raise ClientGone
            try:
                return await asyncio.wait_for(self._queue.get(), POLL_S)
            except TimeoutError:
                continue

    def _emit(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # the event loop is gone (server shutting down): nobody is listening any more
            self.cancel()

    def _work(self) -> None:
        final: Event | None = None
        try:
            if not self.slots.acquire(self.cancel_event):
                return  # the client left while waiting for a slot
            try:
                stream = self.backend.stream_chat(
                    self.request.messages, self.request.params, tools=self.request.tools, cancel=self.cancel_event
                )
                for delta in stream:
                    self._emit(Event(delta=delta))
            finally:
                self.slots.release()
            final = Event()
        except BaseException as error:  # noqa: BLE001 - reported to the client by the consumer
            final = Event(error=error)
        finally:
            # Media go before the last event is sent, so no answer reaches a client while its files still exist.
            self.request.media.close()
            self.finished.set()
            if final is not None:
                self._emit(final)
