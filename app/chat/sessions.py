"""The session registry: which answers each browser or API session has running, and the cancel event of each.

Stop, a closed tab, an API client's cancel and the watchdog all end an answer the same way: they set its cancel
event, and the backend stops producing within a second (see :mod:`app.backends.base`). An answer may also be known by
its request id (Gradio's event id): a cancel for that id sets its event, and a cancel that arrives before the answer
has started is remembered, so the answer starts already cancelled instead of running unwatched.
"""

from __future__ import annotations

import threading
import time

from app.chat.attachments import InputError


__all__ = ["SessionRegistry"]

_REMEMBER_CANCELS_S = 600.0  # a cancel for a request that has not started yet waits this long for it


class SessionRegistry:
    """Cancel events and in-flight counts per browser/client session (the Stop button's target).

    Args:
        max_per_session: how many answers one session may have streaming at once; one more is refused.
    """

    def __init__(self, max_per_session: int) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, list[threading.Event]] = {}
        self._by_request: dict[str, threading.Event] = {}
        self._early_cancels: dict[str, float] = {}  # request id → when its cancel arrived (before it started)
        self.max_per_session = max_per_session

    def start(self, session: str, request: str | None = None) -> threading.Event:
        """Register a new answer of ``session`` (known by ``request``, if given) and return its cancel event.

        The event is already set when a cancel for ``request`` arrived before this call.

        Raises:
            InputError: when the session already has ``max_per_session`` answers running.
        """
        with self._lock:
            events = self._active.setdefault(session, [])
            if len(events) >= self.max_per_session:
                raise InputError("an answer is still being generated in this session; press Stop or wait for it")
            event = threading.Event()
            events.append(event)
            if request is not None:
                self._by_request[request] = event
                if self._early_cancels.pop(request, None) is not None:
                    event.set()
            return event

    def cancel_request(self, request: str) -> bool:
        """Cancel the answer known by ``request``; remembered for a while when it has not started yet.

        Returns:
            True when a running answer was cancelled.
        """
        with self._lock:
            event = self._by_request.get(request)
            if event is None:
                now = time.monotonic()
                self._early_cancels = {key: at for key, at in self._early_cancels.items()
                                       if now - at < _REMEMBER_CANCELS_S}  # fmt: skip
                self._early_cancels[request] = now
                return False
        event.set()
        return True

    def finish(self, session: str, event: threading.Event) -> None:
        """Forget an answer (it ended for any reason); its event is set so any helper thread stops too."""
        event.set()
        with self._lock:
            events = self._active.get(session, [])
            if event in events:
                events.remove(event)
            if not events:
                self._active.pop(session, None)
            self._by_request = {key: value for key, value in self._by_request.items() if value is not event}

    def stop(self, session: str) -> int:
        """Cancel every answer of ``session``; returns how many were running."""
        with self._lock:
            events = list(self._active.get(session, []))
        for event in events:
            event.set()
        return len(events)

    def active(self, session: str) -> int:
        """How many answers ``session`` has running."""
        with self._lock:
            return len(self._active.get(session, []))
