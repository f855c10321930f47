"""Start ``serve`` for tests: as a real subprocess (``python -m app serve``) or in process (uvicorn on a thread).

Both listen on a free loopback port and use the same uvicorn settings as ``intern-s1-studio serve``.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


ROOT = Path(__file__).resolve().parents[2]
FACTORY = Path(__file__).resolve().parent / "fixtures" / "serve_factory.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """One ``serve`` process; ``start()`` waits until /health answers."""

    def __init__(
        self,
        port: int,
        factory: str = "echo_backend",
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        limits: dict[str, object] | None = None,
    ) -> None:
        """``args`` replaces ``--backend-factory`` (e.g. ``["--backend", "local", "--model", path]``);
        ``limits`` become limit flags (``{"max_request_body_mb": 1}`` → ``--max-request-body-mb 1``)."""
        self.port, self.factory, self.env, self.args = port, factory, env or {}, args
        self.limit_flags = [f"--{name.replace('_', '-')}={value}" for name, value in (limits or {}).items()]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        backend = self.args if self.args is not None else ["--backend-factory", f"{FACTORY}:{self.factory}"]
        command = [sys.executable, "-m", "app", "serve", "--port", str(self.port), *backend, *self.limit_flags,
                   "--log-level", "warning"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with code {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("serve did not become healthy in time")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InProcessServer:
    """``create_app(backend, limits)`` under uvicorn on a daemon thread, with serve's own uvicorn settings."""

    def __init__(self, backend, limits=None) -> None:
        import uvicorn

        from app.config import Limits
        from app.serving.server import create_app, uvicorn_config

        self.backend = backend
        self.limits = limits or Limits()
        self.port = free_port()
        config = uvicorn_config(create_app(backend, self.limits), self.limits, host="127.0.0.1", port=self.port,
                                log_level="warning")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "InProcessServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
