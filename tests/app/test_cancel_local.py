"""Stop and cancel on the real local backend during a long prompt's prefill and during decoding (issue 16).

The offline demo model (SmolLM2-135M inside Intern-S1, CPU, fp32) reads a 7,399-token prompt in about 80 s on the
shared 2-core machine; before the forward pass was made interruptible (app.backends.interruptible), Stop during it
waited for the whole pass (23 s UI / 59 s API in the issue's run). Measured here from the cancel (the page's Stop
button in Chromium, gradio_client's ``job.cancel()``) to the backend stream's end, in the server process; the
issue's bound is 2 s. Printed figures go to docs/reliability.md (``-s`` shows them).
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from reliability_helpers import Recorder, launch_app, seconds_until_ended, submit_chat

from app.config import Limits, ModelOptions


pytestmark = pytest.mark.slow

LONG_PROMPT = " ".join(f"word{index}" for index in range(1700))  # 7,399 tokens with the demo tokenizer
BOUND_S = 2.0
LIMITS = Limits(max_new_tokens=64)


@pytest.fixture(scope="module")
def demo_app():
    import torch

    from app.backends.local import TransformersBackend

    torch.set_num_threads(2)
    with launch_app(Recorder(TransformersBackend(ModelOptions(device="cpu"), limits=LIMITS)), LIMITS) as app:
        yield app


def _started(backend: Recorder, before: int, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(backend.records) > before:
            return backend.records[before]
        time.sleep(0.01)
    raise AssertionError("the answer never reached the backend")


def _no_generate_thread(timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(thread.name == "intern-s1-generate" for thread in threading.enumerate()):
            return True
        time.sleep(0.01)
    return False


def test_api_cancel_during_a_long_prefill(demo_app):
    backend: Recorder = demo_app.backend
    client = demo_app.client()
    latencies = []
    for attempt in range(2):
        before = len(backend.records)
        job = submit_chat(client, f"{attempt} {LONG_PROMPT}", max_new_tokens=64)
        record = _started(backend, before)
        time.sleep(3.0)  # well inside the ~80 s prefill: no token yet
        assert record.chunks == 0
        cancelled = time.monotonic()
        job.cancel()
        latencies.append(seconds_until_ended(record, cancelled, timeout=120.0))
        assert _no_generate_thread(), "the generate thread is still running"
    print(f"\nAPI cancel during a 7,399-token prefill → stream ended (s): {[round(x, 3) for x in latencies]}")
    assert max(latencies) <= BOUND_S, latencies


def test_api_cancel_while_decoding(demo_app):
    backend: Recorder = demo_app.backend
    client = demo_app.client()
    before = len(backend.records)
    job = submit_chat(client, "Tell me about water, at length.", max_new_tokens=64)
    record = _started(backend, before)
    while record.chunks < 3 and record.ended is None:
        time.sleep(0.005)
    cancelled = time.monotonic()
    job.cancel()
    took = seconds_until_ended(record, cancelled, timeout=120.0)
    print(f"\nAPI cancel while decoding → stream ended {took:.3f} s later (after {record.chunks} pieces)")
    assert took <= BOUND_S and _no_generate_thread()


@pytest.mark.browser
def test_stop_button_during_a_long_prefill(demo_app):
    from playwright.sync_api import sync_playwright

    backend: Recorder = demo_app.backend
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--headless", "--proxy-server=http://127.0.0.1:9"]
        )
        page = browser.new_page()
        page.goto(demo_app.url)
        page.wait_for_selector("#chat-input textarea")
        before = len(backend.records)
        page.locator("#chat-input textarea").fill(LONG_PROMPT)
        page.locator("#chat-input textarea").press("Enter")
        record = _started(backend, before)
        time.sleep(3.0)
        assert record.chunks == 0
        pressed = time.monotonic()
        page.locator("#stop-btn").click()
        took = seconds_until_ended(record, pressed, timeout=120.0)
        page.get_by_text("(stopped)").first.wait_for(timeout=10_000)
        browser.close()
    print(f"\nStop button during a 7,399-token prefill → stream ended {took:.3f} s later")
    assert took <= BOUND_S and _no_generate_thread()
