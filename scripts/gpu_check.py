"""GPU check for Intern-S1-mini shapes on one GPU (≤ 5 minutes on one H200; random weights, nothing downloaded).

Builds InternS1ForConditionalGeneration with the real Intern-S1-mini shapes (InternViT-300M + Qwen3-8B layout,
153,216-token vocabulary, untied lm_head) in bf16 with random weights, and prints one JSON object per line:

* ``gpu_decode_bs1_<attn>``: greedy decode tokens/s at batch 1 for sdpa and, when ``flash_attn`` imports,
  flash_attention_2 — against transformers' Qwen3ForCausalLM sharing the very same weight tensors (the peer),
  and against the memory-bandwidth bound (HBM bandwidth / bytes of weights read per token; ≈316 tok/s on H200).
* ``gpu_decode_bs8_sdpa``: the same at batch 8 (aggregate tokens/s).
* ``gpu_decode_bs1_compiled``: the local backend's ``--compile`` (static KV cache + ``torch.compile``'d decode
  step, CUDA graphs) against plain ``generate`` of the same model, same greedy tokens; compile time reported.
* ``gpu_image_prefill``: time to first token for one 1024×768 image (12 tiles + thumbnail = 13 × 448² tiles,
  3,328 image tokens) plus a short question; the physical floor is ≈0.1–0.15 s (performance.md §4.2).

``--tiny`` runs the same logic with a tiny fp32 config on CPU (seconds), which is what the test suite does.
Usage: ``python scripts/gpu_check.py [--tiny] [--device cuda] [--bandwidth-gb-s 4800]``.
"""

import argparse
import copy
import json
import sys
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # tiny_checkpoints: test scaffolding, not part of the package

import torch  # noqa: E402
from tiny_checkpoints import make_tiny_config  # noqa: E402
from transformers import Qwen3ForCausalLM  # noqa: E402

from intern_s1.configuration_intern_s1 import InternS1Config, InternS1VisionConfig  # noqa: E402
from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration  # noqa: E402


H200_BANDWIDTH_GB_S = 4800.0
IMAGE_TILES = 13  # a 1024×768 image: 4×3 tiles of 448² + one thumbnail tile
MINI_IMAGE_TOKEN_ID = 152957


def mini_config() -> InternS1Config:
    """Intern-S1-mini: InternViT-300M (LayerNorm, qkv bias) + Qwen3-8B (36 layers, 4096 wide, GQA 32/8)."""
    return InternS1Config(
        vision_config=InternS1VisionConfig(attention_bias=True),
        text_config={
            "model_type": "qwen3",
            "vocab_size": 153216,
            "hidden_size": 4096,
            "intermediate_size": 12288,
            "num_hidden_layers": 36,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "max_position_embeddings": 40960,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
            "rms_norm_eps": 1e-6,
            "tie_word_embeddings": False,
        },
        image_token_id=MINI_IMAGE_TOKEN_ID,
    )


def tiny_config() -> InternS1Config:
    return make_tiny_config(vocab_size=1024, image_token_id=7, vision_hidden_size=32, text_hidden_size=64)


def build(config: InternS1Config, device: torch.device, dtype: torch.dtype):
    """Our model with random weights on `device`, and a Qwen3ForCausalLM peer sharing its language-model tensors."""
    with torch.device(device):
        model = InternS1ForConditionalGeneration._from_config(config, dtype=dtype).eval()
    with torch.device("meta"):
        peer = Qwen3ForCausalLM._from_config(config.text_config, dtype=dtype)
    # Same tensors, no second copy: the peer is transformers' own text-only Qwen3 around our decoder weights.
    peer.model = model.model.language_model
    peer.lm_head = model.lm_head
    peer.eval()
    return model, peer


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, function) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def decode_rate(model, input_ids: torch.Tensor, new_tokens: int, device: torch.device) -> tuple[float, torch.Tensor]:
    """Decode tokens/s, prefill excluded: (n − 1) new tokens over (t_n − t_1)."""
    mask = torch.ones_like(input_ids)

    def generate(count: int):
        return model.generate(
            input_ids=input_ids, attention_mask=mask, max_new_tokens=count, min_new_tokens=count, do_sample=False
        )

    with torch.no_grad():
        generate(2)  # warm-up (kernels, allocator)
        first, _ = timed(device, lambda: generate(1))
        total, tokens = timed(device, lambda: generate(new_tokens))
    return input_ids.shape[0] * (new_tokens - 1) / max(total - first, 1e-9), tokens


def decode_bytes_per_token(model) -> int:
    """Bytes of weights read per decode step: every language-model weight once, except the embedding table
    (one row is gathered), plus lm_head."""
    language_model = model.model.language_model
    embedding = language_model.get_input_embeddings().weight
    read = (
        sum(p.numel() * p.element_size() for p in language_model.parameters())
        - embedding.numel() * embedding.element_size()
    )
    return read + model.lm_head.weight.numel() * model.lm_head.weight.element_size()


def attention_choices(device: torch.device) -> list[str]:
    choices = ["sdpa"]
    if device.type == "cuda":
        try:
            import flash_attn  # noqa: F401
        except ImportError:
            pass
        else:
            choices.append("flash_attention_2")
    return choices


def decode_rows(model, peer, config, device, bandwidth_gb_s: float, new_tokens: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    vocab = config.text_config.vocab_size
    bound = bandwidth_gb_s * 1e9 / decode_bytes_per_token(model)
    rows = []
    for batch, implementations in ((1, attention_choices(device)), (8, ["sdpa"])):
        prompt = torch.randint(10, vocab - 10, (batch, 128), generator=generator).to(device)
        prompt[prompt == config.image_token_id] = 11
        for implementation in implementations:
            model.set_attn_implementation(implementation)
            peer.config._attn_implementation = implementation
            # Alternate ours / peer twice and keep each side's better run, so neither gains from going second.
            ours_runs, peer_runs = [], []
            for _ in range(2):
                ours_runs.append(decode_rate(model, prompt, new_tokens, device))
                peer_runs.append(decode_rate(peer, prompt, new_tokens, device))
            ours_rate, peer_rate = max(r for r, _ in ours_runs), max(r for r, _ in peer_runs)
            identical = all(torch.equal(a, b) for (_, a), (_, b) in zip(ours_runs, peer_runs))
            rows.append(
                {
                    "name": f"gpu_decode_bs{batch}_{implementation}",
                    "ours": round(ours_rate, 2),
                    "peer": round(peer_rate, 2),
                    "unit": "tok/s",
                    "better": "higher",
                    "ratio": round(ours_rate / peer_rate, 3),
                    "outputs_identical": identical,
                    "peer_name": "transformers Qwen3ForCausalLM, same weight tensors",
                    "bound_tok_s": round(bound * batch, 1),
                    "pct_of_bound": round(100 * ours_rate / (bound * batch), 1),
                    "new_tokens": new_tokens,
                }
            )
    model.set_attn_implementation("sdpa")
    return rows


def compiled_decode_row(model, config, device, new_tokens: int) -> dict:
    """Compiled decoding (the local backend's --compile) against plain generate of the same model, batch 1."""
    from app.backends.local import enable_compiled_decoding

    generator = torch.Generator().manual_seed(2)
    prompt = torch.randint(10, config.text_config.vocab_size - 10, (1, 128), generator=generator).to(device)
    prompt[prompt == config.image_token_id] = 11
    model.set_attn_implementation("sdpa")
    plain_rate, plain_tokens = decode_rate(model, prompt, new_tokens, device)
    saved = model.generation_config
    model.generation_config = copy.deepcopy(saved)
    with torch.no_grad():
        compile_seconds = enable_compiled_decoding(model, warm_up_ids=prompt)
    compiled_rate, compiled_tokens = decode_rate(model, prompt, new_tokens, device)
    model.generation_config = saved  # plain generate again, so neither side gains from going second
    plain_again, _ = decode_rate(model, prompt, new_tokens, device)
    peer_rate = max(plain_rate, plain_again)
    return {
        "name": "gpu_decode_bs1_compiled",
        "ours": round(compiled_rate, 2),
        "peer": round(peer_rate, 2),
        "unit": "tok/s",
        "better": "higher",
        "ratio": round(compiled_rate / peer_rate, 3),
        "outputs_identical": torch.equal(plain_tokens, compiled_tokens),
        "peer_name": "plain generate of the same model (dynamic cache, sdpa), best of two runs",
        "compile_s": round(compile_seconds, 1),
        "new_tokens": new_tokens,
    }


def image_prefill_row(model, config, device, dtype) -> dict:
    generator = torch.Generator().manual_seed(1)
    image_tokens = IMAGE_TILES * config.image_seq_length
    text = torch.randint(10, config.text_config.vocab_size - 10, (1, 32), generator=generator)
    text[text == config.image_token_id] = 11
    placeholders = torch.full((1, image_tokens), config.image_token_id)
    input_ids = torch.cat([text[:, :8], placeholders, text[:, 8:]], dim=1).to(device)
    size = config.vision_config.image_size
    pixel_values = torch.randn(IMAGE_TILES, 3, size[0], size[1], generator=generator).to(device, dtype)
    mask = torch.ones_like(input_ids)

    def first_token():
        return model.generate(
            input_ids=input_ids, attention_mask=mask, pixel_values=pixel_values, max_new_tokens=1, do_sample=False
        )

    with torch.no_grad():
        first_token()  # warm-up
        seconds = min(timed(device, first_token)[0] for _ in range(3))
        vit_seconds = min(
            timed(device, lambda: model.model.get_image_features(pixel_values=pixel_values))[0] for _ in range(3)
        )
    return {
        "name": "gpu_image_prefill",
        "ours": round(seconds, 4),
        "peer": None,
        "unit": "s to first token",
        "better": "lower",
        "ratio": None,
        "outputs_identical": None,
        "floor_s": [0.1, 0.15],
        "vit_s": round(vit_seconds, 4),
        "prompt_tokens": input_ids.shape[1],
        "tiles": IMAGE_TILES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny fp32 config on CPU: checks the logic in seconds")
    parser.add_argument("--device", default=None, help="default: cuda, or cpu with --tiny")
    parser.add_argument(
        "--bandwidth-gb-s", type=float, default=H200_BANDWIDTH_GB_S, help="HBM bandwidth for the bound"
    )
    parser.add_argument("--new-tokens", type=int, default=None, help="decode length (default 256; 8 with --tiny)")
    args = parser.parse_args(argv)

    device = torch.device(args.device or ("cpu" if args.tiny else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"name": "gpu_check", "error": "no CUDA device; use --tiny for the CPU logic check"}))
        return 2
    dtype = torch.float32 if args.tiny else torch.bfloat16
    config = tiny_config() if args.tiny else mini_config()
    new_tokens = args.new_tokens or (8 if args.tiny else 256)
    torch.manual_seed(0)

    build_seconds, (model, peer) = timed(device, lambda: build(config, device, dtype))
    header = {
        "name": "gpu_check_setup",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": str(dtype).removeprefix("torch."),
        "parameters_b": round(sum(p.numel() for p in model.parameters()) / 1e9, 6),
        "build_s": round(build_seconds, 1),
        "attention": attention_choices(device),
    }
    print(json.dumps(header), flush=True)
    rows = decode_rows(model, peer, config, device, args.bandwidth_gb_s, new_tokens)
    rows.append(image_prefill_row(model, config, device, dtype))
    rows.append(compiled_decode_row(model, config, device, new_tokens))
    if device.type == "cuda":
        rows.append(
            {
                "name": "gpu_peak_memory",
                "ours": round(torch.cuda.max_memory_allocated(device) / 2**30, 2),
                "unit": "GiB",
            }
        )
    for row in rows:
        print(json.dumps(row), flush=True)
    return 0 if all(row.get("outputs_identical") is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
