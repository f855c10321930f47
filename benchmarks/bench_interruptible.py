"""B9: the interruptible forward pass (issue 16) against transformers' own SDPA attention, same model, same prompt.

* Ours — ``app.backends.interruptible``: a cancel check before every layer and SDPA over a few key/value head groups
  with a check between them, as the local backend runs every ``generate`` (``watching`` in force).
* Peer — the same model with ``attn_implementation="sdpa"`` and no checks (what ``generate`` did before).

Workload: the offline demo model (SmolLM2-135M inside Intern-S1, CPU, fp32, 2 threads) reading a long prompt in one
forward pass — the prefill a Stop must be able to interrupt. Alternating runs (peer, ours, ours, peer, …); the
medians are reported. ``outputs_identical``: the logits of both are equal, element for element. A second line gives
the time from a cancel to the interrupted pass's end (ours; the peer cannot be interrupted: its figure is the rest of
the pass).

    python benchmarks/bench_interruptible.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import statistics
import sys
import threading
import time

from _report import emit_row  # benchmarks/ is on sys.path when a script runs


REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 1,800-token prompt and two runs each")
    options = parser.parse_args()
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import intern_s1  # noqa: F401
    from app.backends.interruptible import ATTENTION, Interrupted, make_interruptible, watching
    from app.demo_model import ensure_demo_model

    torch.set_num_threads(2)
    path = ensure_demo_model()
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
    words, runs = (400, 2) if options.quick else (1700, 3)
    text = " ".join(f"word{index}" for index in range(words))
    messages = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True,
                                           return_tensors="pt", enable_thinking=False)  # fmt: skip
    tokens = int(inputs["input_ids"].shape[-1])
    make_interruptible(model)

    def forward(implementation: str) -> tuple[float, torch.Tensor]:
        model.set_attn_implementation(implementation)
        started = time.perf_counter()
        watched = watching(threading.Event()) if implementation == ATTENTION else contextlib.nullcontext()
        with watched, torch.inference_mode():
            logits = model(**inputs, logits_to_keep=1).logits
        return time.perf_counter() - started, logits

    times: dict[str, list[float]] = {"sdpa": [], ATTENTION: []}
    logits = {}
    for index in range(runs):
        for implementation in ("sdpa", ATTENTION) if index % 2 == 0 else (ATTENTION, "sdpa"):
            seconds, logits[implementation] = forward(implementation)
            times[implementation].append(seconds)
    identical = torch.equal(logits["sdpa"], logits[ATTENTION])
    emit_row(f"prefill {tokens} tokens, demo model, CPU", statistics.median(times[ATTENTION]),
             statistics.median(times["sdpa"]), "s", identical, higher_is_better=False, runs=runs)  # fmt: skip
    model.set_attn_implementation(ATTENTION)
    stop = threading.Event()
    delay = statistics.median(times["sdpa"]) / 2
    threading.Timer(delay, stop.set).start()
    started = time.perf_counter()
    try:
        with watching(stop), torch.inference_mode():
            model(**inputs, logits_to_keep=1)
    except Interrupted:
        pass
    latency = time.perf_counter() - started - delay
    emit_row(f"cancel halfway through a {tokens}-token prefill → pass ended", latency,
             statistics.median(times["sdpa"]) - delay, "s", True, higher_is_better=False)  # fmt: skip


if __name__ == "__main__":
    main()
