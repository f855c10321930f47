"""B2 (performance.md §5): Intern-S1 model decode / prefill versus transformers' InternVLForConditionalGeneration.

Peer: ``transformers.InternVLForConditionalGeneration`` built from the same config values with the same weights
copied in (fp32; vision list renamed ``layers`` → ``layer``; ``tie_word_embeddings=False``). Both models are run
in this process, alternately (A/B, B/A, ...), each with eager and with sdpa attention; every row reports each side
at its own best implementation for that row's measurement (``attention`` names them).

Workloads (greedy, every new token forced by ``min_new_tokens`` so both sides decode the same number):

* ``tiny``: 4 layers, 256 hidden, real 153,216 vocabulary, 2-layer 64-wide ViT — framework overhead.
* ``small``: 8 layers, 512 hidden, untied 153,216 vocabulary (≈0.35 GB fp32) — memory-bandwidth bound.
* ``moe`` (B3 shape): 4 layers, 512 hidden, 64 experts top-8, expert FFN 256, vocabulary 8,192.

Each line: ``{"name", "ours", "peer", "unit", "better", "ratio", "outputs_identical", ...}``; ``better`` says which
direction of the unit is better ("higher" for tok/s, "lower" for ms and MB) and ``ratio`` is oriented by it, so
ratio > 1 always means ours is better. ``outputs_identical`` means identical greedy tokens and max |Δlogits| ≤ 1e-4. Run from the repository root: ``python benchmarks/bench_model.py [--quick] [--save]``.
"""

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # tiny_checkpoints: test scaffolding, not part of the package

import torch  # noqa: E402
from _report import result_row  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from _timing import timed_generation  # noqa: E402
from tiny_checkpoints import make_tiny_config  # noqa: E402
from transformers import InternVLConfig, InternVLForConditionalGeneration, InternVLVisionConfig  # noqa: E402

from intern_s1.configuration_intern_s1 import InternS1Config  # noqa: E402
from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration  # noqa: E402


RESULTS = REPO / "benchmarks" / "results" / "model.json"
REAL_VOCAB = 153216
IMAGE_TOKEN_ID = 151667


@dataclass(frozen=True)
class Workload:
    name: str
    config: InternS1Config
    prompt_tokens: int  # including one 448-pixel tile of image tokens (none for text-only workloads)
    with_image: bool
    decode: tuple[tuple[int, int], ...]  # (batch size, new tokens)


def workloads(quick: bool) -> list[Workload]:
    tiny = make_tiny_config(
        vocab_size=REAL_VOCAB,
        image_token_id=IMAGE_TOKEN_ID,
        vision_hidden_size=64,
        vision_layers=2,
        text_hidden_size=256,
        text_layers=4,
    )
    small = make_tiny_config(
        vocab_size=REAL_VOCAB,
        image_token_id=IMAGE_TOKEN_ID,
        vision_hidden_size=64,
        vision_layers=2,
        text_hidden_size=512,
        text_layers=8,
    )
    moe = make_tiny_config(
        "qwen3_moe",
        vocab_size=8192,
        image_token_id=5,
        text_hidden_size=512,
        text_layers=4,
        num_experts=64,
        num_experts_per_tok=8,
        moe_intermediate_size=256,
        output_router_logits=False,
    )
    if quick:
        return [Workload("tiny", tiny, 320, True, ((1, 8),)), Workload("moe", moe, 64, False, ((1, 8),))]
    return [
        Workload("tiny", tiny, 512, True, ((1, 128), (8, 64))),
        Workload("small", small, 512, True, ((1, 128), (8, 64))),
        Workload("moe", moe, 256, False, ((1, 64), (8, 64))),
    ]


def build_pair(config: InternS1Config, seed: int = 0):
    """Our model with seeded random weights, and InternVL holding the same weights."""
    torch.manual_seed(seed)
    ours = InternS1ForConditionalGeneration(copy.deepcopy(config)).eval()
    with torch.no_grad():
        for parameter in ours.parameters():  # zero-initialised tables too, so every weight takes part
            parameter.normal_(0.0, 0.05)
    values = ours.config.to_dict()
    for key in ("model_type", "image_seq_length", "tie_word_embeddings"):
        values.pop(key, None)
    vision = {k: v for k, v in values.pop("vision_config").items() if k not in ("model_type", "drop_path_rate")}
    peer_config = InternVLConfig(vision_config=InternVLVisionConfig(**vision), tie_word_embeddings=False, **values)
    peer = InternVLForConditionalGeneration(peer_config).eval()
    peer.load_state_dict({k.replace(".encoder.layers.", ".encoder.layer."): v for k, v in ours.state_dict().items()})
    return ours, peer


def set_attention(model, implementation: str) -> None:
    model.set_attn_implementation(implementation)


def make_inputs(workload: Workload, batch: int) -> dict:
    generator = torch.Generator().manual_seed(1)
    config = workload.config
    vocab = config.text_config.vocab_size
    ids = torch.randint(10, min(vocab, 150000), (batch, workload.prompt_tokens), generator=generator)
    ids[ids == config.image_token_id] = 11
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if workload.with_image:
        ids[:, 4 : 4 + config.image_seq_length] = config.image_token_id
        size = config.vision_config.image_size
        inputs["pixel_values"] = torch.randn(batch, 3, size[0], size[1], generator=generator)
    return inputs


def timed_generate(model, inputs: dict, new_tokens: int) -> tuple[float, torch.Tensor]:
    with torch.no_grad():
        start = time.perf_counter()
        tokens = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        return time.perf_counter() - start, tokens


def measure(model, inputs: dict, new_tokens: int) -> dict:
    """Prefill tok/s and decode tok/s of one run (per-step clock, see benchmarks/_timing.py)."""
    run = timed_generation(model, inputs, new_tokens)
    return {
        "decode_tok_s": run["decode_tok_s"],
        "prefill_tok_s": inputs["input_ids"].numel() / run["prefill_s"],
        "tokens": run["tokens"],
    }


def peak_rss_mb(model, workload: Workload, batch: int, new_tokens: int) -> float:
    """Peak RSS of a fresh interpreter that loads `model` from disk and generates: one side per process, so the
    figure is that side's own (weights, KV cache, activations, import)."""
    with tempfile.TemporaryDirectory() as directory:
        model.save_pretrained(directory)
        command = [sys.executable, __file__, "--child-peak-rss", directory, workload.name, str(batch), str(new_tokens)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_peak_rss(directory: str, workload_name: str, batch: int, new_tokens: int) -> None:
    """In a fresh interpreter: peak RSS growth from after the imports to the end of load + generate."""
    from transformers import AutoModelForImageTextToText

    import intern_s1  # noqa: F401  (registers the Intern-S1 classes)

    workload = next(w for w in workloads(quick=False) if w.name == workload_name)
    baseline = peak = _rss_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.002):
            peak = max(peak, _rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    model = AutoModelForImageTextToText.from_pretrained(directory, dtype=torch.float32).eval()
    timed_generate(model, make_inputs(workload, batch), new_tokens)
    done.set()
    sampler.join()
    print((max(peak, _rss_bytes()) - baseline) / 2**20)


def vit_ms_per_tile(model, pixel_values: torch.Tensor, repetitions: int) -> float:
    times = []
    with torch.no_grad():
        for _ in range(repetitions):
            start = time.perf_counter()
            model.model.get_image_features(pixel_values=pixel_values)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3 / pixel_values.shape[0]


def max_logit_difference(ours, peer, inputs: dict) -> float:
    with torch.no_grad():
        return (ours(**inputs).logits - peer(**inputs).logits).abs().max().item()


ATTENTION = ("eager", "sdpa")


def best(runs: dict, side: str, key: str, higher_is_better: bool = True) -> tuple[str, float]:
    """(attention implementation, median) of the best implementation of one side for one measurement."""
    medians = {impl: statistics.median(run[key] for run in runs[side, impl]) for impl in ATTENTION}
    choose = max if higher_is_better else min
    impl = choose(medians, key=medians.get)
    return impl, medians[impl]


def run_workload(workload: Workload, repetitions: int) -> list[dict]:
    models = dict(zip(("ours", "peer"), build_pair(workload.config)))
    probe = make_inputs(workload, 1)
    logit_diff = max_logit_difference(models["ours"], models["peer"], probe)
    parameters_mb = sum(p.numel() * p.element_size() for p in models["ours"].parameters()) / 2**20
    for model in models.values():  # warm-up of both implementations
        for impl in ATTENTION:
            set_attention(model, impl)
            measure(model, probe, 2)
    rows = []
    for batch, new_tokens in workload.decode:
        inputs = make_inputs(workload, batch)
        runs = {(side, impl): [] for side in models for impl in ATTENTION}
        for repetition in range(repetitions):
            order = ("ours", "peer") if repetition % 2 == 0 else ("peer", "ours")
            for side in order:
                for impl in ATTENTION:
                    set_attention(models[side], impl)
                    runs[side, impl].append(measure(models[side], inputs, new_tokens))
        reference = runs["peer", ATTENTION[0]][0]["tokens"]
        identical = all(torch.equal(run["tokens"], reference) for side_runs in runs.values() for run in side_runs)
        common = {
            "identical": identical and logit_diff <= 1e-4,
            "max_abs_logits_diff": logit_diff,
            "repetitions": repetitions,
            "weights_mb": round(parameters_mb, 1),
        }
        (ours_impl, ours_rate), (peer_impl, peer_rate) = (
            best(runs, "ours", "decode_tok_s"),
            best(runs, "peer", "decode_tok_s"),
        )
        rows.append(
            result_row(f"model_decode_{workload.name}_bs{batch}", ours_rate, peer_rate, "tok/s", **common,
                       attention={"ours": ours_impl, "peer": peer_impl}, new_tokens=new_tokens,
                       prompt_tokens=workload.prompt_tokens)
        )  # fmt: skip
        if batch == 1:
            (ours_impl, ours_rate), (peer_impl, peer_rate) = (
                best(runs, "ours", "prefill_tok_s"),
                best(runs, "peer", "prefill_tok_s"),
            )
            rows.append(
                result_row(f"model_prefill_{workload.name}", ours_rate, peer_rate, "tok/s", **common,
                           attention={"ours": ours_impl, "peer": peer_impl})
            )  # fmt: skip
            ours_mb, peer_mb = (peak_rss_mb(models[side], workload, batch, new_tokens) for side in ("ours", "peer"))
            rows.append(
                result_row(f"model_peak_rss_{workload.name}", ours_mb, peer_mb,
                           "MB peak RSS growth (fresh process, after imports: load + generate)", **common,
                           higher_is_better=False, attention={"ours": "sdpa", "peer": "sdpa"})
            )  # fmt: skip
    if workload.with_image:
        pixels = make_inputs(workload, 1)["pixel_values"]
        timings = {}
        for side, model in models.items():
            for impl in ATTENTION:
                set_attention(model, impl)
                timings[side, impl] = vit_ms_per_tile(model, pixels, repetitions)
        ours_impl = min(ATTENTION, key=lambda impl: timings["ours", impl])
        peer_impl = min(ATTENTION, key=lambda impl: timings["peer", impl])
        rows.append(
            result_row(f"model_vit_{workload.name}", timings["ours", ours_impl], timings["peer", peer_impl], "ms/tile",
                       logit_diff <= 1e-4, higher_is_better=False, attention={"ours": ours_impl, "peer": peer_impl})
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small workloads, 2 repetitions (a minute or two)")
    parser.add_argument("--save", action="store_true", help=f"also write the results to {RESULTS.relative_to(REPO)}")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--only", nargs="*", help="workload names to run (tiny, small, moe)")
    parser.add_argument(
        "--child-peak-rss", nargs=4, metavar=("DIR", "WORKLOAD", "BATCH", "TOKENS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.child_peak_rss:
        directory, workload_name, batch, new_tokens = args.child_peak_rss
        child_peak_rss(directory, workload_name, int(batch), int(new_tokens))
        return 0

    rows = []
    for workload in workloads(args.quick):
        if args.only and workload.name not in args.only:
            continue
        for row in run_workload(workload, repetitions=2 if args.quick else 5):
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "benchmark": "B2/B3 model decode vs transformers InternVLForConditionalGeneration",
            "quick": args.quick,
            "threads": args.threads,
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        RESULTS.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    return 0 if all(row.get("outputs_identical", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
