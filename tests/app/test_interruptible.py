"""The interruptible forward pass (app.backends.interruptible) computes exactly what SDPA does, and stops on cancel."""

from __future__ import annotations

import threading
import time

import pytest

from app.backends.interruptible import ATTENTION, Interrupted, make_interruptible, watching


@pytest.fixture(scope="module")
def model_and_inputs(tiny_checkpoint):
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import intern_s1  # noqa: F401

    processor = AutoProcessor.from_pretrained(tiny_checkpoint)
    model = AutoModelForImageTextToText.from_pretrained(tiny_checkpoint, dtype=torch.float32).eval()
    text = " ".join(f"word{index}" for index in range(600))  # long enough for the head-group split
    messages = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True,
                                           return_tensors="pt", enable_thinking=False)  # fmt: skip
    return model, inputs


def test_same_logits_and_greedy_tokens_as_plain_sdpa(model_and_inputs):
    import torch

    model, inputs = model_and_inputs
    assert inputs["input_ids"].shape[-1] > 256
    with torch.inference_mode():
        plain_logits = model(**inputs).logits
    plain_ids = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert make_interruptible(model) > 0 and model.config.get_text_config()._attn_implementation == ATTENTION
    with watching(threading.Event()), torch.inference_mode():
        watched_logits = model(**inputs).logits
        watched_ids = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert torch.equal(plain_logits, watched_logits) and torch.equal(plain_ids, watched_ids)


def test_a_set_event_interrupts_the_pass_and_nothing_is_watched_outside(model_and_inputs):
    import torch

    model, inputs = model_and_inputs
    make_interruptible(model)
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    with pytest.raises(Interrupted), watching(stop), torch.inference_mode():
        model(**inputs)
    assert time.monotonic() - started < 1.0
    with torch.inference_mode():
        model(**inputs)  # the same event is not watched outside `watching`
