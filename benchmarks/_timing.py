"""Prefill and decode timing of one greedy ``generate`` call, read off a per-step clock (no subtraction of runs)."""

import time


def timed_generation(model, inputs: dict, new_tokens: int, **generate_kwargs) -> dict:
    """Run greedy ``generate`` for exactly ``new_tokens`` tokens and time its steps.

    A stopping criterion stamps the clock each time a token is appended (transformers checks it after every step on
    CPU and CUDA), so the prefill is start → first token and decoding is first → last token of the same run.

    Returns:
        ``{"prefill_s", "decode_tok_s", "tokens"}``; ``decode_tok_s`` counts every sequence of the batch.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    stamps: list[float] = []

    class StepClock(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            stamps.append(time.perf_counter())
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    with torch.no_grad():
        start = time.perf_counter()
        tokens = model.generate(
            **inputs,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            stopping_criteria=StoppingCriteriaList([StepClock()]),
            **generate_kwargs,
        )
    batch = inputs["input_ids"].shape[0]
    decode_seconds = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    return {
        "prefill_s": stamps[0] - start,
        "decode_tok_s": batch * (len(stamps) - 1) / decode_seconds,
        "tokens": tokens,
    }
