"""The backend that loads on a thread while the page is up: progress, waiting answers, Stop, a failed load."""

import threading
import time

import gradio as gr
import pytest

from app.backends.base import BackendError, BackendInfo, SamplingParams
from app.backends.fake import FakeBackend
from app.backends.loading import LoadingBackend
from app.ui.blocks import _status_poll, loading_markdown


PROVISIONAL = BackendInfo(kind="local", model_id="intern-s1-demo", description="loading…", is_demo_model=True)
MESSAGES = [{"role": "user", "content": "hi"}]


class GatedFactory:
    """Reports two progress steps, then waits for the test to let it finish."""

    def __init__(self, fail: bool = False) -> None:
        self.release = threading.Event()
        self.reported = threading.Event()
        self.fail = fail

    def __call__(self, progress):
        progress(0.05, "reading SmolLM2 weights")
        progress(0.55, "writing the Intern-S1 tokenizer")
        self.reported.set()
        self.release.wait(10)
        if self.fail:
            raise OSError("no space left on device")
        return FakeBackend(content="loaded answer")


def _wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_progress_is_reported_and_answers_wait_for_the_model():
    factory = GatedFactory()
    backend = LoadingBackend(factory, PROVISIONAL)
    assert factory.reported.wait(5)
    assert backend.loading_status() == "55%: writing the Intern-S1 tokenizer" and backend.info == PROVISIONAL
    received: list[str] = []
    worker = threading.Thread(target=lambda: received.extend(
        d.text for d in backend.stream_chat(MESSAGES, SamplingParams()) if d.kind == "content"))  # fmt: skip
    worker.start()
    time.sleep(0.2)  # the answer is waiting, not failing
    assert received == [] and worker.is_alive()
    factory.release.set()
    worker.join(5)
    assert "".join(received) == "loaded answer" and backend.loading_status() is None
    assert backend.info.model_id == "fake-model"  # the real backend's description replaces the provisional one


def test_stop_ends_a_wait_for_the_model():
    factory = GatedFactory()
    backend = LoadingBackend(factory, PROVISIONAL)
    cancel = threading.Event()
    cancel.set()
    started = time.monotonic()
    assert list(backend.stream_chat(MESSAGES, SamplingParams(), cancel=cancel)) == []
    assert time.monotonic() - started < 1.0
    factory.release.set()


def test_a_failed_load_is_said_on_the_page_and_by_every_answer():
    factory = GatedFactory(fail=True)
    backend = LoadingBackend(factory, PROVISIONAL)
    factory.release.set()
    _wait_for(lambda: backend.ready)
    assert backend.loading_status() == "failed: no space left on device"
    with pytest.raises(BackendError, match="the model could not be loaded: no space left on device"):
        list(backend.stream_chat(MESSAGES, SamplingParams()))
    assert loading_markdown(backend.loading_status()).startswith("⚠️ **The model could not be loaded** — no space")


def test_the_page_status_line_follows_the_load_and_then_updates_the_page():
    factory = GatedFactory()
    backend = LoadingBackend(factory, PROVISIONAL)
    assert factory.reported.wait(5)
    poll = _status_poll(backend, lambda: [f"**Model:** `{backend.info.model_id}`"])
    status, model_line, timer = poll()
    assert status == loading_markdown("55%: writing the Intern-S1 tokenizer") and model_line == gr.skip()
    assert timer.active is True
    factory.release.set()
    _wait_for(lambda: backend.loading_status() is None)
    status, model_line, timer = poll()
    assert status.visible is False and model_line == "**Model:** `fake-model`" and timer.active is False


@pytest.mark.slow
def test_the_app_command_loads_a_local_model_behind_the_page(tiny_checkpoint):
    from app import cli

    args = cli.build_parser().parse_args(["--model", str(tiny_checkpoint), "--device", "cpu"])
    limits = cli.limits_from_args(args)
    backend = cli._loading_local_backend(args, limits)
    assert isinstance(backend, LoadingBackend) and backend.info.description == "loading…"
    assert backend.wait(120) and backend.loading_status() is None
    assert backend.info.kind == "local" and backend.info.model_id == tiny_checkpoint.name
    assert backend.explain_tokens("CCO") != []
    deltas = list(backend.stream_chat(MESSAGES, SamplingParams(temperature=0.0, max_new_tokens=3)))
    assert deltas[-1].kind == "usage"
    backend.close()
