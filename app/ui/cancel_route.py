"""A client's cancel routed to the answer it means, including one sent before the client knew the answer's id.

Gradio's ``/cancel`` names the event to cancel by the id ``/queue/join`` returned. It closes the handler's stream
only once its first update was sent, and a client that cancels before the join's reply came back (gradio_client's
``job.cancel()`` right after ``submit()``) sends no id at all, which Gradio refuses (422): the answer then ran to its
end, unwatched (issue 16: 40 quick submit-and-cancel calls kept the app busy for minutes). The router remembers which
events each session joined per endpoint; a cancel with an id cancels that answer, a cancel without one cancels every
answer the session joined on that endpoint — what Gradio's own cancel does to the tasks it can reach.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


__all__ = ["CancelRouter"]


class CancelRouter:
    """Joined events per (session, endpoint), and the cancel callback to route to.

    Args:
        on_cancel: called with an event id to cancel (the engine's ``cancel_request``).
        remember_s: how long a join is remembered (longer than any answer may run).
    """

    def __init__(self, on_cancel: Callable[[str], object], remember_s: float = 900.0) -> None:
        self.on_cancel = on_cancel
        self.remember_s = remember_s
        self._lock = threading.Lock()
        self._joins: dict[tuple[str, int], list[tuple[str, float]]] = {}
        self._since_pruned = 0

    def joined(self, session: str, fn_index: int, event_id: str) -> None:
        """Record that ``session`` queued ``event_id`` on endpoint ``fn_index``."""
        now = time.monotonic()
        with self._lock:
            self._joins.setdefault((session, fn_index), []).append((event_id, now))
            self._since_pruned += 1
            if self._since_pruned >= 1000:
                self._prune(now)

    def cancelled(self, session: str | None, fn_index: int | None, event_id: str | None) -> int:
        """Route one cancel; returns how many answers it was routed to."""
        if event_id:
            self.on_cancel(event_id)
            return 1
        if session is None or fn_index is None:
            return 0
        with self._lock:
            events = [joined for joined, _ in self._joins.get((session, fn_index), [])]
        for joined in events:
            self.on_cancel(joined)
        return len(events)

    def _prune(self, now: float) -> None:
        self._since_pruned = 0
        fresh = {key: [(e, at) for e, at in joins if now - at < self.remember_s] for key, joins in self._joins.items()}
        self._joins = {key: joins for key, joins in fresh.items() if joins}
