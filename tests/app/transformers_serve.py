"""Run ``transformers serve`` (transformers' own OpenAI-compatible server) on loopback, and record what reaches it.

``TransformersServe`` starts ``python -m transformers.cli.transformers serve`` — the ``transformers serve`` command
— as a subprocess on CPU, offline, with an empty Hugging Face cache (so ``GET /v1/models`` lists nothing, as for a
user who serves a local checkpoint) and without the CLI's PyPI update check. Models are loaded on the first request
that names them by path. ``RecordingProxy`` sits between a client and a server, keeps every request body it forwards
and streams the answers back untouched, so a test can assert what was on the wire.
"""

import http.client
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from serving import ServerProcess
from sse_replay import LoopbackServer


__all__ = ["RecordingProxy", "TransformersServe"]

_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


class TransformersServe(ServerProcess):
    """One ``transformers serve`` process on ``port``; ``start()`` waits until ``/health`` answers (``url``,
    ``kill()`` and ``stop()`` as for our own ``serve``).

    Its output goes to a log file next to ``hub_cache`` (quoted when it fails to start).
    """

    def __init__(self, port: int, hub_cache: Path) -> None:
        super().__init__(port)
        self.hub_cache = hub_cache
        self.log = hub_cache.parent / f"transformers-serve-{port}.log"

    def start(self, timeout: float = 120.0) -> "TransformersServe":
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", "cpu", "--log-level", "warning"]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1",
               "HF_HUB_CACHE": str(self.hub_cache), "OMP_NUM_THREADS": "1"}  # fmt: skip
        with self.log.open("ab") as log:  # a file, not a pipe: nobody reads a pipe while the server runs
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({self.process.returncode}): {self._log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"transformers serve did not become healthy in {timeout:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


class RecordingProxy(LoopbackServer):
    """A loopback HTTP proxy to ``upstream`` that keeps the JSON body of every POST in ``bodies``."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.bodies: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server naming
                self._forward(None)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.bodies.append(json.loads(body))
                self._forward(body)

            def _forward(self, body: bytes | None) -> None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
                headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
                connection.request(self.command, self.path, body=body, headers=headers)
                upstream_response = connection.getresponse()
                self.send_response(upstream_response.status)
                for key, value in upstream_response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:  # piece by piece, so a stream stays a stream and a client's Stop reaches the server
                    while piece := upstream_response.read1(65536):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:  # the client went away
                    self.close_connection = True
                finally:
                    connection.close()

        super().__init__(Handler)
