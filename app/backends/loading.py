"""A backend that loads on a worker thread while the page is already up, and says how far it got.

Loading a local model (building the offline demo checkpoint, reading safetensors, moving them to the GPU) takes
seconds to minutes; until now only the terminal showed its progress. :class:`LoadingBackend` starts the real
backend's factory on a thread, keeps the latest progress report (``TransformersBackend(progress=…)`` reports
``(fraction, message)``), and lets the page poll :meth:`LoadingBackend.loading_status`. An answer asked for while
loading waits for it (Stop still ends the wait); a load that fails makes every answer fail with the reason.

Until the real backend exists, :attr:`info` is the provisional description the caller gives (model name, demo or
not, default sampling); afterwards it is the real backend's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams


__all__ = ["LoadingBackend", "Progress"]

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
_WAIT_STEP_S = 0.1  # how often a waiting answer looks at its cancel event


class LoadingBackend(ChatBackend):
    """Builds ``factory(progress)`` on a daemon thread; answers wait for it.

    Args:
        factory: makes the real backend; it calls ``progress(fraction, message)`` as it goes.
        info: what the page shows until the real backend is ready.
    """

    def __init__(self, factory: Callable[[Progress], ChatBackend], info: BackendInfo) -> None:
        self._provisional = info
        self._backend: ChatBackend | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._progress: tuple[float, str] = (0.0, "starting")
        self._thread = threading.Thread(target=self._load, args=(factory,), name="model-load", daemon=True)
        self._thread.start()

    def _report(self, fraction: float, message: str) -> None:
        with self._lock:
            self._progress = (max(0.0, min(1.0, float(fraction))), str(message))
        logger.info("%3d%% %s", int(fraction * 100), message)

    def _load(self, factory: Callable[[Progress], ChatBackend]) -> None:
        try:
            self._backend = factory(self._report)
        except BaseException as error:  # noqa: BLE001 - kept and shown to the user; the page must stay up
            logger.error("the model could not be loaded", exc_info=error)
            self._error = error
        finally:
            self._ready.set()

    @property
    def info(self) -> BackendInfo:  # type: ignore[override]  (a property here: it changes once loaded)
        return self._backend.info if self._backend is not None else self._provisional

    @property
    def ready(self) -> bool:
        """True once loading ended (loaded or failed)."""
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading ends; True when it did within ``timeout``."""
        return self._ready.wait(timeout)

    def loading_status(self) -> str | None:
        """The progress while loading ("45%: loading …"), "failed: reason" after a failed load, None once ready."""
        if self._backend is not None:
            return None
        if self._error is not None:
            return f"failed: {self._error}"
        with self._lock:
            fraction, message = self._progress
        return f"{fraction:.0%}: {message}"

    def _loaded(self, cancel: threading.Event | None) -> ChatBackend | None:
        """The real backend, waiting for it; None when ``cancel`` was set first."""
        while not self._ready.wait(_WAIT_STEP_S):
            if cancel is not None and cancel.is_set():
                return None
        if self._backend is None:
            raise BackendError(f"the model could not be loaded: {self._error}")
        return self._backend

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        backend = self._loaded(cancel)
        if backend is not None:
            yield from backend.stream_chat(messages, params, tools=tools, cancel=cancel)

    def explain_tokens(self, text: str) -> list[tuple[str, int, str]]:
        """The real backend's token view; empty while loading (or when it has none)."""
        explain = getattr(self._backend, "explain_tokens", None)
        return explain(text) if explain is not None else []

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
