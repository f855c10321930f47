"""The session registry: which answers each browser or API session has running, and the cancel event of each.

Stop, a closed tab and the watchdog all end an answer the same way: they set its cancel event, and the backend
stops producing within a second (see :mod:`app.backends.base`).
"""

from __future__ import annotations

import threading

from app.chat.attachments import InputError


__all__ = ["SessionRegistry"]


class SessionRegistry:
    """Cancel events and in-flight counts per browser/client session (the Stop button's target).

    Args:
        max_per_session: how many answers one session may have streaming at once; one more is refused.
    """

    def __init__(self, max_per_session: int) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, list[threading.Event]] = {}
        self.max_per_session = max_per_session

    def start(self, session: str) -> threading.Event:
        """Register a new answer of ``session`` and return its cancel event.

        Raises:
            InputError: when the session already has ``max_per_session`` answers running.
        """
        with self._lock:
            events = self._active.setdefault(session, [])
            if len(events) >= self.max_per_session:
                raise InputError("an answer is still being generated in this session; press Stop or wait for it")
            event = threading.Event()
            events.append(event)
            return event

    def finish(self, session: str, event: threading.Event) -> None:
        """Forget an answer (it ended for any reason); its event is set so any helper thread stops too."""
        event.set()
        with self._lock:
            events = self._active.get(session, [])
            if event in events:
                events.remove(event)
            if not events:
                self._active.pop(session, None)

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
