"""A long prompt's prefill done in chunks that a Stop can interrupt, before ``generate`` takes over.

``generate`` reads the whole prompt in one forward pass and looks at its stopping criteria only after it: Stop during
a 7,400-token prompt on a CPU waited for the whole pass (23–59 s, issue 16). Here the prompt is embedded once (the
image features put at their placeholders, as the model's own forward does), then fed to the model
:data:`CHUNK_TOKENS` at a time into a KV cache; the cancel events are checked between chunks and before every
layer of the language model and of the vision tower (forward pre-hooks, active only while this prefill runs on this
thread), so a Stop lands within one layer of one chunk. ``generate`` then continues from the filled cache with the
prompt's last token, exactly as if it had read the prompt itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any


__all__ = ["CHUNK_TOKENS", "Interrupted", "prefill", "install_interrupt_hooks"]

CHUNK_TOKENS = 512  # prompt tokens per forward pass; one layer of one chunk is what a Stop may wait for
_LAYER_LISTS = ("layers", "layer", "blocks", "h")  # ModuleList names that hold a model's repeated layers
_active = threading.local()  # the cancel events of the prefill running on this thread, if any


class Interrupted(Exception):
    """A cancel event was set during the prefill; the prompt was abandoned."""


def _check(_module: Any, _args: Any) -> None:
    import torch

    if torch.compiler.is_compiling():  # traced into a compiled graph: never a check there
        return
    if any(event.is_set() for event in getattr(_active, "events", ())):
        raise Interrupted()


def install_interrupt_hooks(model: Any) -> int:
    """Put the cancel check before every repeated layer of ``model`` (language model and vision tower), once.

    Returns:
        How many layers are watched.
    """
    import torch

    if getattr(model, "_interrupt_hooks", None) is not None:
        return model._interrupt_hooks
    count = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in _LAYER_LISTS:
            for layer in module:
                layer.register_forward_pre_hook(_check)
                count += 1
    model._interrupt_hooks = count
    return count


def _merged_embeddings(model: Any, inputs: dict[str, Any]) -> Any:
    """The prompt's input embeddings with the projected image tokens at their placeholders.

    The same three steps as ``InternS1Model.forward`` (embed, ``get_image_features``, ``get_placeholder_mask``),
    called through the model's own methods, so the chunks can be fed without the pixels.
    """
    inner = model.model
    input_ids = inputs["input_ids"]
    embeddings = inner.get_input_embeddings()(input_ids)
    pixel_values = inputs.get("pixel_values")
    if pixel_values is not None:
        features = inner.get_image_features(
            pixel_values=pixel_values,
            vision_feature_layer=model.config.vision_feature_layer,
            vision_feature_select_strategy=model.config.vision_feature_select_strategy,
        ).pooler_output
        features = features.to(embeddings.device, embeddings.dtype)
        mask = inner.get_placeholder_mask(input_ids, inputs_embeds=embeddings, image_features=features)
        embeddings = embeddings.masked_scatter(mask, features)
    return embeddings


def prefill(model: Any, inputs: dict[str, Any], events: Sequence[threading.Event], chunk: int = CHUNK_TOKENS):
    """Fill a KV cache with all but the last prompt token, in chunks, stopping as soon as an event is set.

    Args:
        model: an ``InternS1ForConditionalGeneration`` (with :func:`install_interrupt_hooks` applied).
        inputs: the processor's output (``input_ids``, ``attention_mask``, maybe ``pixel_values``), on the device.
        events: any of them set interrupts the prefill.
        chunk: prompt tokens per forward pass.

    Returns:
        The filled ``DynamicCache``; pass it to ``generate`` with the same ``input_ids`` and ``attention_mask`` and
        without the pixels (they are in the cache).

    Raises:
        Interrupted: when an event was set before the cache was full.
    """
    import torch
    from transformers import DynamicCache

    _active.events = tuple(events)
    try:
        with torch.inference_mode():
            _check(None, None)
            embeddings = _merged_embeddings(model, inputs)  # [1, T, D]
            cache = DynamicCache(config=model.config.get_text_config())
            mask = inputs.get("attention_mask")
            end_of_cache = embeddings.shape[1] - 1  # generate reads the last token itself
            for start in range(0, end_of_cache, chunk):
                stop = min(start + chunk, end_of_cache)
                _check(None, None)
                model(
                    inputs_embeds=embeddings[:, start:stop],
                    attention_mask=None if mask is None else mask[:, :stop],
                    past_key_values=cache,
                    cache_position=torch.arange(start, stop, device=embeddings.device),
                    use_cache=True,
                    logits_to_keep=1,
                )
            return cache
    finally:
        _active.events = ()
