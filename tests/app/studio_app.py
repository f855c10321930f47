"""One launch/teardown helper for every test that needs the real app on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from app.backends.base import ChatBackend
from app.config import AppConfig, Limits


@dataclass
class RunningApp:
    url: str
    demo: object
    backend: ChatBackend


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def launched_app(backend: ChatBackend, limits: Limits | None = None) -> Iterator[RunningApp]:
    from app.ui.blocks import build_demo, launch

    # A port the OS just handed out: other test processes on this machine also start Gradio apps from 7860 up.
    config = AppConfig(host="127.0.0.1", port=free_port(), limits=limits or Limits())
    demo = build_demo(backend, config)
    try:
        _, url, _ = launch(demo, config, prevent_thread_lock=True)
        yield RunningApp(url=url, demo=demo, backend=backend)
    finally:
        demo.close()
