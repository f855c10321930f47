"""Start ``python -m app serve`` as a real subprocess on a free loopback port (shared by the serving tests)."""

import os
import socket
import subprocess
import sys
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
    ) -> None:
        """``args`` replaces ``--backend-factory`` (e.g. ``["--backend", "local", "--model", path]``)."""
        self.port, self.factory, self.env, self.args = port, factory, env or {}, args
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        backend = self.args if self.args is not None else ["--backend-factory", f"{FACTORY}:{self.factory}"]
        command = [sys.executable, "-m", "app", "serve", "--port", str(self.port), *backend, "--log-level", "warning"]
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
