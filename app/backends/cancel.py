"""Act on a Stop while the thread that should notice it is blocked (on a socket read, in another generator).

``threading.Event`` offers no callback, so a small watcher thread waits on the event in short slices and runs the
action once it is set; leaving the ``with`` block ends the watcher. Used by the remote backend to close its HTTP
stream (a read blocked on the socket then ends at once); the tool loop's per-turn cancel follows the same pattern.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


__all__ = ["when_cancelled"]

_POLL_S = 0.05  # how soon after Stop the action runs; also how long a finished watcher lingers at most


@contextmanager
def when_cancelled(cancel: threading.Event | None, action: Callable[[], object]) -> Iterator[None]:
    """Run ``action`` (once, on a watcher thread) if ``cancel`` is set while the block runs.

    Args:
        cancel: the Stop event; None watches nothing.
        action: what to do on Stop, e.g. close a stream so a blocked read returns.
    """
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if cancel.wait(_POLL_S):
                action()
                return

    threading.Thread(target=watch, name="cancel-watch", daemon=True).start()
    try:
        yield
    finally:
        done.set()
