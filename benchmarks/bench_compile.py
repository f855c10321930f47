"""Compiled decoding (the local backend's ``--compile``) against plain ``generate``, on the offline demo model.

Ours: ``app.backends.local.enable_compiled_decoding`` — a static KV cache and a full-graph ``torch.compile`` of the
decode step (the prefill stays eager). Peer: plain ``model.generate`` (dynamic cache, eager PyTorch) on a second
copy of the same checkpoint. Each side runs at its best attention implementation (sdpa and eager are both measured;
``--quick`` measures sdpa only). Both run in this process, alternately, greedy, every new token forced by
``min_new_tokens`` so both decode the same number; the decode rate of a run is (n - 1) tokens over the time from its
first to its last token (a per-step clock, ``benchmarks/_timing.py``).

Compile time (the warm-up of ``enable_compiled_decoding``, as the backend does at start-up) is reported, not included
in the rates. The goal is
``ratio`` ≥ 1.5 with ``outputs_identical`` (identical greedy tokens in every run).

    python benchmarks/bench_compile.py [--quick] [--new-tokens N] [--repetitions R] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(REPO))

from _report import emit_row  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from _timing import timed_generation  # noqa: E402


PROMPT = "Explain in a few sentences what a catalyst does in a chemical reaction."
ATTENTION = ("sdpa", "eager")


def load(path: str, attention: str):
    import torch
    from transformers import AutoModelForImageTextToText

    import intern_s1  # noqa: F401  (registers the Intern-S1 classes)

    return AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32, attn_implementation=attention).eval()


def timed(model, inputs: dict, new_tokens: int):
    start = time.perf_counter()
    tokens = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    return time.perf_counter() - start, tokens


def decode_rate(model, inputs: dict, new_tokens: int):
    """(decode tok/s, tokens) of one run, read off a per-step clock (benchmarks/_timing.py)."""
    run = timed_generation(model, inputs, new_tokens)
    return run["decode_tok_s"], run["tokens"]


def best_attention(models: dict, inputs: dict, new_tokens: int) -> str:
    """The attention implementation with the higher decode rate (one warm run each, the better of two)."""
    rates = {name: max(decode_rate(model, inputs, new_tokens)[0] for _ in range(2)) for name, model in models.items()}
    return max(rates, key=rates.get)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sdpa only, 32 new tokens, 2 repetitions")
    parser.add_argument("--new-tokens", type=int, default=None, help="tokens per timed call (default 64)")
    parser.add_argument("--repetitions", type=int, default=None, help="A/B pairs (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args(argv)
    new_tokens = args.new_tokens or (32 if args.quick else 64)
    repetitions = args.repetitions or (2 if args.quick else 5)
    attentions = ATTENTION[:1] if args.quick else ATTENTION

    import torch
    from transformers import AutoProcessor

    import intern_s1  # noqa: F401  (registers the Intern-S1 classes)
    from app.backends.local import enable_compiled_decoding
    from app.demo_model import ensure_demo_model

    torch.set_num_threads(args.threads)
    path = str(ensure_demo_model())
    processor = AutoProcessor.from_pretrained(path)
    messages = [{"role": "user", "content": PROMPT}]
    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
        enable_thinking=False,
    )  # fmt: skip

    peers = {attention: load(path, attention) for attention in attentions}
    ours, compile_seconds = {}, {}
    for attention in attentions:
        model = load(path, attention)
        compile_seconds[attention] = enable_compiled_decoding(model, warm_up_ids=inputs["input_ids"])
        ours[attention] = model
    reference = timed(peers[attentions[0]], inputs, new_tokens)[1]
    peer_attention = best_attention(peers, inputs, new_tokens)
    ours_attention = best_attention(ours, inputs, new_tokens)

    rates = {"ours": [], "peer": []}
    identical = True
    for repetition in range(repetitions):
        order = ("ours", "peer") if repetition % 2 == 0 else ("peer", "ours")
        for side in order:
            model = ours[ours_attention] if side == "ours" else peers[peer_attention]
            rate, tokens = decode_rate(model, inputs, new_tokens)
            rates[side].append(rate)
            identical &= torch.equal(tokens, reference)
    pair_ratios = [a / b for a, b in zip(rates["ours"], rates["peer"])]
    emit_row(
        "compile_decode_demo_tok_s",
        statistics.median(rates["ours"]),
        statistics.median(rates["peer"]),
        "tok/s",
        identical,
        peer_name="plain generate (dynamic cache, eager PyTorch)",
        attention={"ours": ours_attention, "peer": peer_attention},
        compile_seconds={name: round(seconds, 1) for name, seconds in compile_seconds.items()},
        pair_ratio_range=[round(min(pair_ratios), 3), round(max(pair_ratios), 3)],
        goal_ratio=1.5,
        new_tokens=new_tokens,
        prompt_tokens=int(inputs["input_ids"].shape[-1]),
        repetitions=repetitions,
        threads=args.threads,
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
