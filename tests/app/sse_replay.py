"""A loopback HTTP server that replays a recorded SSE file (tests/app/fixtures/sse/*.txt) as a chat stream."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


SSE_DIR = Path(__file__).resolve().parent / "fixtures" / "sse"


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (``port`` 0: any free one), served from a daemon thread inside a ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ReplayServer(LoopbackServer):
    """Serve ``GET /v1/models`` (``owned_by`` = the dialect) and replay ``sse_file`` for every chat request.

    Every chat request body is kept in ``requests``, its headers in ``request_headers``.
    """

    def __init__(
        self,
        sse_file: str,
        owned_by: str,
        model: str = "internlm/Intern-S1",
        piece_bytes: int = 0,
        drop_first: int = 0,
        stall_s: float = 0.0,
        list_models: bool = True,
        port: int = 0,
        cut_before: bytes | None = None,
        refuse_with: tuple[int, bytes] | None = None,
        models_reply: tuple[int, bytes] | None = None,
        stall_headers_s: float = 0.0,
    ) -> None:
        """Set up the replay; the arguments after ``owned_by`` shape the failures a test needs.

        Args:
            sse_file: the body replayed for every chat request, from ``fixtures/sse``.
            owned_by: what ``GET /v1/models`` says (the dialect the client recognises).
            piece_bytes: cut the body into pieces of that size (also mid-line), flushed one by one.
            drop_first: that many requests get the headers and then an empty, closed stream.
            stall_s: pause after the headers before the first byte.
            list_models: False answers ``GET /v1/models`` with an empty list (as ``transformers serve`` does for a
                model outside its cache).
            port: where to listen (0: any free port).
            cut_before: end the (close-delimited) body just before these bytes, as a dying server would.
            refuse_with: answer every chat request with this ``(status, body)`` instead.
            models_reply: answer ``GET /v1/models`` with this ``(status, body)`` instead.
            stall_headers_s: pause before the response headers of a chat request.
        """
        self.payload = (SSE_DIR / sse_file).read_bytes()
        if cut_before is not None:
            self.payload = self.payload[: self.payload.index(cut_before)]
        self.owned_by, self.model, self.piece_bytes = owned_by, model, piece_bytes
        self.list_models, self.refuse_with, self.models_reply = list_models, refuse_with, models_reply
        self.stall_headers_s = stall_headers_s
        self.drop_first, self.stall_s = drop_first, stall_s
        self.requests: list[dict] = []
        self.request_headers: list[dict[str, str]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                card = {"id": replay.model, "object": "model", "owned_by": replay.owned_by}
                body = json.dumps({"object": "list", "data": [card] if replay.list_models else []}).encode()
                status, body = replay.models_reply or (200, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                replay.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                replay.request_headers.append(dict(self.headers))
                time.sleep(replay.stall_headers_s)
                if replay.refuse_with is not None:
                    status, body = replay.refuse_with
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if len(replay.requests) <= replay.drop_first:
                    return
                time.sleep(replay.stall_s)
                data, size = replay.payload, replay.piece_bytes or len(replay.payload)
                for start in range(0, len(data), size):
                    self.wfile.write(data[start : start + size])
                    self.wfile.flush()

        super().__init__(Handler, port)
