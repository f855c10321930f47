"""``seed`` through ``serve`` to the real local backend (tiny checkpoint): the same seed gives the same answer, even
with other answers sampling at the same time; the seeded path samples from the same warped distribution."""

import threading

import httpx
import pytest
import torch
from serving import InProcessServer

from app.backends.base import SamplingParams
from app.backends.local import TransformersBackend
from app.config import ModelOptions


pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "Name a molecule."}]


@pytest.fixture(scope="module")
def backend(tiny_checkpoint):
    return TransformersBackend(ModelOptions(model=str(tiny_checkpoint), device="cpu"))


def _answer(backend, **changes) -> str:
    params = SamplingParams(temperature=1.0, top_k=0, max_new_tokens=24, enable_thinking=False).with_updates(**changes)
    return "".join(d.text for d in backend.stream_chat(QUESTION, params) if d.kind in ("content", "reasoning"))


def test_the_same_seed_gives_the_same_answer_whatever_the_global_rng(backend):
    torch.manual_seed(1)
    first = _answer(backend, seed=7)
    torch.manual_seed(2)
    assert _answer(backend, seed=7) == first
    assert len({_answer(backend, seed=seed) for seed in (7, 8, 9)}) > 1  # and the seed matters


def test_a_seeded_answer_is_not_disturbed_by_concurrent_sampling(backend):
    alone = _answer(backend, seed=11)
    stop = threading.Event()

    def noise():
        while not stop.is_set():
            _answer(backend, max_new_tokens=4)  # unseeded: draws from the process-wide RNG

    threads = [threading.Thread(target=noise) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        together = _answer(backend, seed=11)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert together == alone


def test_seeded_sampling_applies_the_warpers(backend):
    assert _answer(backend, seed=3, top_k=1) == _answer(backend, temperature=0.0)  # top-k 1 leaves only the argmax


def test_seed_over_http(backend):
    with InProcessServer(backend) as server:
        body = {"messages": QUESTION, "seed": 5, "temperature": 1.0, "top_k": -1, "max_tokens": 16,
                "enable_thinking": False}  # fmt: skip
        answers = [httpx.post(server.url + "/v1/chat/completions", json=body, timeout=120).json() for _ in range(2)]
    assert answers[0]["choices"][0]["message"] == answers[1]["choices"][0]["message"]
    assert answers[0]["usage"]["completion_tokens"] > 0
