"""Make a local model's forward pass interruptible, so a Stop during a long prompt's prefill lands in about a second.

``generate`` reads the whole prompt in one forward pass and looks at its stopping criteria only after it: Stop during
a 7,400-token prompt on a CPU waited for the whole pass (23–59 s in issue 16; ~80 s on the offline demo model on
the shared 2-core machine). Two checks of the cancel events, active only while :func:`watching` is in force on the
calling thread, split that pass into short steps without changing what it computes:

* before every repeated layer of the model (language model and vision tower; forward pre-hooks, :func:`make_interruptible`);
* inside attention, which dominates a long prompt on a CPU (one layer's attention over 7,400 tokens ≈ 1.5–2.7 s
  here): for long queries the heads are attended in a few groups, one key/value head group at a time, with a check
  between groups. Heads are independent, so the result is the same as one SDPA call over all heads, and each group
  still gets SDPA's causal fast path (chunking the *sequence* instead needs an explicit mask, measured 1.6–2.2×
  slower on this CPU).

A set event raises :class:`Interrupted` out of the forward pass (and out of ``generate``); the caller treats it as a
stop, not a failure. Nothing is checked inside a ``torch.compile`` graph.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


__all__ = ["ATTENTION", "Interrupted", "make_interruptible", "watching"]

ATTENTION = "sdpa_interruptible"  # the attention implementation name registered with transformers
_SPLIT_FROM_TOKENS = 256  # shorter queries (decoding, short prompts) are attended in one call
_GROUPS = 4  # at most this many head groups per attention call
_LAYER_LISTS = ("layers", "layer", "blocks", "h")  # ModuleList names that hold a model's repeated layers
_active = threading.local()  # the cancel events watched on this thread


class Interrupted(Exception):
    """A watched cancel event was set during a forward pass; the pass was abandoned."""


def _check(*_unused: Any) -> None:
    import torch

    if torch.compiler.is_compiling():  # traced into a compiled graph: never a check there
        return
    if any(event.is_set() for event in getattr(_active, "events", ())):
        raise Interrupted()


@contextlib.contextmanager
def watching(*events: threading.Event) -> Iterator[None]:
    """Interrupt this thread's forward passes of interruptible models as soon as one of ``events`` is set."""
    _active.events = events
    try:
        yield
    finally:
        _active.events = ()


def _attention_in_head_groups(module, query, key, value, attention_mask, **kwargs):
    """transformers' SDPA attention, over a few key/value head groups with a cancel check before each."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if torch.compiler.is_compiling():  # a compiled decode step: plain SDPA, nothing to watch
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    kv_heads = key.shape[1]  # query [B, H, Lq, D], key/value [B, KVH, Lk, D]
    if not getattr(_active, "events", ()) or query.shape[2] < _SPLIT_FROM_TOKENS or kv_heads < 2:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    per_kv = query.shape[1] // kv_heads  # query heads sharing one key/value head (GQA)
    step = -(-kv_heads // _GROUPS)
    outputs = []
    for start in range(0, kv_heads, step):
        stop = min(start + step, kv_heads)
        _check()
        heads = slice(start * per_kv, stop * per_kv)
        output, _ = sdpa_attention_forward(
            module, query[:, heads], key[:, start:stop], value[:, start:stop], attention_mask, **kwargs
        )
        outputs.append(output)  # [B, Lq, heads, D]
    return torch.cat(outputs, dim=2), None


def make_interruptible(model: Any) -> int:
    """Watch ``model``'s layers and attention for :func:`watching`'s events (once per model).

    The attention implementation becomes :data:`ATTENTION` where the model used SDPA (eager or flash attention are
    left as they are; only the layer checks apply then).

    Returns:
        How many layers are watched.
    """
    import torch
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import sdpa_mask

    if getattr(model, "_interruptible_layers", None) is not None:
        return model._interruptible_layers
    AttentionInterface.register(ATTENTION, _attention_in_head_groups)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)  # the same masks as SDPA (None → the causal fast path)
    configs = [model.config, *(getattr(model.config, name, None) for name in ("text_config", "vision_config"))]
    if any(getattr(config, "_attn_implementation", None) == "sdpa" for config in configs if config is not None):
        model.set_attn_implementation(ATTENTION)
    count = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in _LAYER_LISTS:
            for layer in module:
                layer.register_forward_pre_hook(_check)
                count += 1
    model._interruptible_layers = count
    return count
