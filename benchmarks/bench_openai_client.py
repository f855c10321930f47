"""B7 — our remote backend vs the bare ``openai`` SDK reading the same loopback SSE stream.

Our backend is itself built on the SDK (``app/backends/remote.py``), so the figures are what it adds on top: the
request building, the chunk → delta state, the inline ``<think>`` / action splitter, the cancel watcher.

A loopback server (in this process, one thread per request) replays four dialects: vLLM (``delta.reasoning``,
structured ``tool_calls``), lmdeploy (``delta.reasoning_content``), a server without parsers (``…</think>``
and the InternLM action block inline in the content, markers cut across chunks — the vLLM #57490 case), and a
generic server in the ``transformers serve`` style (``reasoning_content``, no ``[DONE]``, the usage on the finish
chunk); the others end with an ``include_usage`` tail and ``[DONE]``. Metrics (medians over repeats):

* ``b7_ttft_*``: time from the call to the first reasoning/answer text; ours includes building the request
  (data URLs etc.) and the splitter; the SDK gives raw chunks only. ``added_ms`` = ours − SDK.
* ``b7_chunk_cost_*``: wall time per chunk on an unthrottled stream (client-side cost of reading a chunk).
* ``b7_concurrent_*``: N streams at 500 chunks/s each, wall time of all (≈ one stream's length = no backlog).

Times: lower is better, so ``ratio`` = SDK / ours (> 1: ours faster). ``outputs_identical`` (the split parity):
our reasoning / answer / tool-call split equals the generator's ground truth, and the SDK's concatenated raw text
equals the text the server sent.

Usage: ``python benchmarks/bench_openai_client.py [--quick]`` — one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _report import emit_row  # benchmarks/ is on sys.path when a script runs

from app.backends.base import SamplingParams  # noqa: E402
from app.backends.remote import OpenAICompatibleBackend  # noqa: E402


CALL = {"name": "check_smiles", "parameters": {"smiles": "CCO"}}


def _script(dialect: str, words: int) -> tuple[list[dict], dict]:
    """The chunk deltas a server sends, and the split a client must recover."""
    reasoning = [f"r{i} " for i in range(words)]
    content = [f"c{i} " for i in range(words)]
    truth = {"reasoning": "".join(reasoning).strip(), "content": "".join(content).strip(), "tool_calls": [CALL]}
    if dialect == "inline":
        action = (
            '<|action_start|><|plugin|>\n{"name": "check_smiles", "parameters": {"smiles": "CCO"}}\n<|action_end|>'
        )
        raw = "".join(reasoning) + "\n</think>\n\n" + "".join(content) + action
        # cut every 5 characters so each marker is split somewhere
        return [{"content": raw[i : i + 5]} for i in range(0, len(raw), 5)], truth
    field = "reasoning" if dialect == "vllm" else "reasoning_content"  # lmdeploy and generic
    deltas = [{field: piece} for piece in reasoning] + [{"content": piece} for piece in content]
    deltas.append({"tool_calls": [{"index": 0, "id": "call_0", "type": "function",
                                   "function": {"name": "check_smiles", "arguments": json.dumps(CALL["parameters"])}}]})  # fmt: skip
    return deltas, truth


class _Server:
    """Replays ``_script(model_name)`` for each request; ``interval_s`` between chunks (0 = as fast as possible)."""

    def __init__(self, words: int) -> None:
        self.words, self.interval_s = words, 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                deltas, _ = _script(body["model"], server.words)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for index, delta in enumerate(deltas):
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if server.interval_s and index + 1 < len(deltas):
                        time.sleep(server.interval_s)
                usage = {"prompt_tokens": 5, "completion_tokens": len(deltas), "total_tokens": 5 + len(deltas)}
                if body["model"] == "generic":  # transformers serve: usage on the finish chunk, no [DONE]
                    tail = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(tail)}\n\n".encode())
                else:
                    tail = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                            "choices": [], "usage": usage}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(tail)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _backend(url: str, dialect: str) -> OpenAICompatibleBackend:
    # one long-lived backend per dialect, as the app holds one (the SDK peer also reuses one client)
    engine = {"inline": "vllm", "vllm": "vllm", "lmdeploy": "lmdeploy", "generic": "generic"}[dialect]
    return OpenAICompatibleBackend(url, served_model=dialect, dialect=engine, inline_reasoning=True)


def _ours(backend: OpenAICompatibleBackend) -> tuple[float, float, dict]:
    split = {"reasoning": "", "content": "", "tool_calls": []}
    start = time.perf_counter()
    first = None
    for delta in backend.stream_chat([{"role": "user", "content": "hi"}], SamplingParams(), tools=[{"name": "f"}]):
        if first is None and delta.kind in ("reasoning", "content"):
            first = time.perf_counter() - start
        if delta.kind in ("reasoning", "content"):
            split[delta.kind] += delta.text
        elif delta.kind == "tool_call":
            split["tool_calls"].append(delta.data)
    total = time.perf_counter() - start
    split["reasoning"], split["content"] = split["reasoning"].strip(), split["content"].strip()
    return first or total, total, split


def _peer(client, dialect: str) -> tuple[float, float, str]:
    start = time.perf_counter()
    first = None
    raw = []
    stream = client.chat.completions.create(model=dialect, messages=[{"role": "user", "content": "hi"}], stream=True,
                                            stream_options={"include_usage": True})  # fmt: skip
    for chunk in stream:
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            text = (extra.get("reasoning") or extra.get("reasoning_content") or "") + (choice.delta.content or "")
            if text and first is None:
                first = time.perf_counter() - start
            raw.append(text)
    return first or 0.0, time.perf_counter() - start, "".join(raw)


def _expected_raw(dialect: str, words: int) -> str:
    deltas, _ = _script(dialect, words)
    return "".join(d.get("reasoning", "") + d.get("reasoning_content", "") + d.get("content", "") for d in deltas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import openai

    repeats, words = (5, 50) if args.quick else (20, 200)
    server = _Server(words)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="EMPTY", max_retries=0)
    backends = {dialect: _backend(server.url, dialect) for dialect in ("vllm", "lmdeploy", "inline", "generic")}
    for dialect, backend in backends.items():
        _, truth = _script(dialect, words)
        ours_runs, peer_runs, identical = [], [], True
        for _ in range(repeats):  # interleaved so drift hits both alike
            ttft, total, split = _ours(backend)
            ours_runs.append((ttft, total))
            identical &= split == truth
            ttft, total, raw = _peer(client, dialect)
            peer_runs.append((ttft, total))
            identical &= raw == _expected_raw(dialect, words)
        chunks = len(_script(dialect, words)[0]) + 1
        ours_ttft = statistics.median(t for t, _ in ours_runs) * 1000
        peer_ttft = statistics.median(t for t, _ in peer_runs) * 1000
        emit_row(f"b7_ttft_{dialect}", ours_ttft, peer_ttft, "ms", identical, higher_is_better=False,
                 added_ms=round(ours_ttft - peer_ttft, 3))  # fmt: skip
        ours_chunk = statistics.median(t for _, t in ours_runs) / chunks * 1000
        peer_chunk = statistics.median(t for _, t in peer_runs) / chunks * 1000
        emit_row(f"b7_chunk_cost_{dialect}", ours_chunk, peer_chunk, "ms/chunk", identical, higher_is_better=False,
                 added_ms_per_chunk=round(ours_chunk - peer_chunk, 4), chunks=chunks)  # fmt: skip
    # N concurrent streams at 500 chunks/s each: does the client keep up?
    server.interval_s = 0.002
    for streams in (1, 4, 16):
        results: list[tuple[float, float, dict]] = []

        def one() -> None:
            results.append(_ours(backends["vllm"]))  # noqa: B023 - the list of this round

        threads = [threading.Thread(target=one) for _ in range(streams)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        peer_results = []

        def one_peer() -> None:
            peer_results.append(_peer(client, "vllm"))  # noqa: B023

        threads = [threading.Thread(target=one_peer) for _ in range(streams)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        peer_wall = time.perf_counter() - start
        identical = all(split == _script("vllm", words)[1] for _, _, split in results)
        emit_row(f"b7_concurrent_{streams}", wall, peer_wall, "s", identical, higher_is_better=False, streams=streams,
                 chunk_rate_per_s=500)  # fmt: skip


if __name__ == "__main__":
    main()
