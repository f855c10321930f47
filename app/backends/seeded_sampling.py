"""Reproducible sampling for one answer: transformers' own warpers, then a draw from the answer's own generator.

``generate(do_sample=True)`` draws from torch's process-wide RNG, which every concurrent answer shares, so a seed
set for one request would be disturbed by the others. Here the warpers transformers would apply (temperature,
top-k, top-p, min-p, in its order) run as logits processors, and the last processor samples with a private
``torch.Generator`` and leaves only the chosen token possible; ``generate`` then decodes greedily and picks it.
"""

from __future__ import annotations

from typing import Any

from app.backends.base import SamplingParams


__all__ = ["seeded_sampling_processors"]


def seeded_sampling_processors(params: SamplingParams) -> Any:
    """A ``LogitsProcessorList`` that samples as ``params`` asks, seeded by ``params.seed`` (use with greedy decoding).

    Raises:
        ValueError: when ``params`` has no seed or asks for greedy decoding (nothing to sample).
    """
    import torch
    from transformers import (
        LogitsProcessor,
        LogitsProcessorList,
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    if params.seed is None or params.greedy:
        raise ValueError("seeded sampling needs a seed and a temperature above 0")

    class SeededDraw(LogitsProcessor):
        """Samples one token per row from the warped scores with its own generator; returns a one-hot mask."""

        def __init__(self, seed: int) -> None:
            self.seed, self.generator = seed, None

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            if self.generator is None:
                self.generator = torch.Generator(device=scores.device).manual_seed(self.seed)
            probs = torch.softmax(scores.float(), dim=-1)  # (batch, vocab)
            chosen = torch.multinomial(probs, num_samples=1, generator=self.generator)  # (batch, 1)
            return torch.full_like(scores, float("-inf")).scatter_(1, chosen, 0.0)

    processors = [TemperatureLogitsWarper(params.temperature)] if params.temperature != 1.0 else []
    if params.top_k > 0:
        processors.append(TopKLogitsWarper(top_k=params.top_k))
    if params.top_p < 1.0:
        processors.append(TopPLogitsWarper(top_p=params.top_p))
    if params.min_p:
        processors.append(MinPLogitsWarper(min_p=params.min_p))
    return LogitsProcessorList([*processors, SeededDraw(params.seed)])
