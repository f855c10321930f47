"""The transformers backend on a tiny random Intern-S1 checkpoint, alone and inside the launched app (tier b)."""

import threading
import time

import pytest
from gradio_client import Client, handle_file
from studio_app import launched_app
from studio_media import make_image, make_video

from app.backends.base import BackendError, SamplingParams
from app.config import Limits, ModelOptions


pytestmark = pytest.mark.slow

GREEDY = SamplingParams(temperature=0.0, max_new_tokens=12, enable_thinking=False)


@pytest.fixture(scope="module")
def backend(tiny_checkpoint):
    import torch

    from app.backends.local import TransformersBackend

    torch.set_num_threads(2)
    backend = TransformersBackend(ModelOptions(model=str(tiny_checkpoint), device="cpu"), limits=Limits())
    seen: list = []
    original = backend.encode

    def recording_encode(*args, **kwargs):
        inputs = original(*args, **kwargs)
        seen.append(inputs)
        return inputs

    backend.encode = recording_encode
    backend.seen_inputs = seen
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def client(backend):
    with launched_app(backend) as app:
        yield Client(app.url, verbose=False)


def _generate_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "intern-s1-generate"]


def test_info_uses_model_card_sampling(backend):
    assert backend.info.kind == "local" and not backend.info.is_demo_model
    assert backend.info.default_sampling.temperature == 0.8  # dense (mini-shaped) model
    assert backend.info.context_length == 40960


def test_compiled_decoding_streams_the_same_greedy_answer(backend, tiny_checkpoint):
    from app.backends.local import TransformersBackend

    compiled = TransformersBackend(
        ModelOptions(model=str(tiny_checkpoint), device="cpu", compile=True), limits=Limits()
    )
    try:
        assert compiled.model.generation_config.cache_implementation == "static"
        assert compiled.compile_seconds > 0 and "compiled decoding" in compiled.info.description
        messages = [{"role": "user", "content": "Hello there"}]
        kinds = ("reasoning", "content")
        plain = "".join(d.text for d in backend.stream_chat(messages, GREEDY) if d.kind in kinds)
        fast = "".join(d.text for d in compiled.stream_chat(messages, GREEDY) if d.kind in kinds)
        assert fast == plain and fast
    finally:
        compiled.close()


def test_stream_equals_plain_generate(backend):
    messages = [{"role": "user", "content": "Hello there"}]
    streamed = "".join(d.text for d in backend.stream_chat(messages, GREEDY) if d.kind in ("reasoning", "content"))
    inputs = backend.encode(messages, GREEDY)
    output = backend.model.generate(**inputs, max_new_tokens=12, do_sample=False)
    expected = backend.processor.tokenizer.decode(output[0, inputs["input_ids"].shape[-1] :], skip_special_tokens=True)
    # The splitter trims the whitespace that opens an answer; everything else must match token for token.
    assert (
        streamed.replace("<think>", "").replace("</think>", "").strip()
        == expected.replace("<think>", "").replace("</think>", "").strip()
    )


def test_thinking_switch_changes_the_prompt(backend):
    for thinking in (True, False):
        list(backend.stream_chat([{"role": "user", "content": "hi"}], GREEDY.with_updates(enable_thinking=thinking)))
        prompt = backend.processor.tokenizer.decode(backend.seen_inputs[-1]["input_ids"][0])
        assert prompt.rstrip().endswith("<think>") is thinking


def _assert_cancel_ends_generate_within_a_second(backend) -> None:
    cancel = threading.Event()
    stream = backend.stream_chat(
        [{"role": "user", "content": "Tell a long story"}], GREEDY.with_updates(max_new_tokens=4000), cancel=cancel
    )
    next(stream)
    started = time.monotonic()
    cancel.set()
    list(stream)
    while _generate_threads() and time.monotonic() - started < 1.0:
        time.sleep(0.01)
    assert not _generate_threads(), "generate still running 1 s after cancel"


def test_cancel_ends_generate_within_a_second(backend):
    _assert_cancel_ends_generate_within_a_second(backend)


def test_prompt_over_budget_is_refused(tiny_checkpoint):
    from app.backends.local import TransformersBackend

    small = TransformersBackend(
        ModelOptions(model=str(tiny_checkpoint), device="cpu"), limits=Limits(max_prompt_tokens=20)
    )
    with pytest.raises(BackendError, match="over the limit of 20"):
        list(small.stream_chat([{"role": "user", "content": "word " * 50}], GREEDY))


def test_client_stream_arrives_in_order(client):
    job = client.submit("Hello", [], False, 0.0, 1.0, 50, 0.0, 24, api_name="/chat")
    outputs = list(job)
    assert outputs and outputs[-1] == job.result()
    assert all(later.startswith(earlier) for earlier, later in zip(outputs, outputs[1:]))


def test_client_stop_ends_generation(client):
    job = client.submit("Tell a long story", [], False, 0.0, 1.0, 50, 0.0, 4000, api_name="/chat")
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _generate_threads(), "generation did not start"
    job.cancel()
    stopped_at = time.monotonic()
    while _generate_threads() and time.monotonic() - stopped_at < 1.5:
        time.sleep(0.02)
    assert not _generate_threads(), "generate kept running after the client cancelled"


def test_client_invalid_smiles_returns_reason(client):
    result = client.predict("C1CC(", api_name="/check_smiles")
    assert result["ok"] is False and "never closed" in result["error"]


def test_client_image_turn(client, backend, tmp_path):
    image = make_image(tmp_path / "wide.png", (900, 450))
    answer = client.predict("Describe", [handle_file(str(image))], False, 0.0, 1.0, 50, 0.0, 8, api_name="/chat")
    assert isinstance(answer, str)
    pixels = backend.seen_inputs[-1]["pixel_values"]
    assert tuple(pixels.shape[1:]) == (3, 448, 448) and pixels.shape[0] > 1  # tiles + thumbnail


def test_client_video_turn_respects_frame_budget(client, backend, tmp_path):
    video = make_video(tmp_path / "clip.mp4", frames=20)
    answer = client.predict("What happens?", [handle_file(str(video))], False, 0.0, 1.0, 50, 0.0, 8, api_name="/chat")
    assert isinstance(answer, str)
    pixels = backend.seen_inputs[-1]["pixel_values"]
    assert pixels.shape[0] == Limits().max_video_frames  # one 448-px tile per sampled frame


def test_normal_answer_leaves_the_callers_cancel_unset(backend):
    cancel = threading.Event()
    deltas = list(backend.stream_chat([{"role": "user", "content": "Hi"}], GREEDY, cancel=cancel))
    assert deltas[-1].kind == "usage" and deltas[-1].data["completion_tokens"] >= 1
    assert not cancel.is_set()
    assert not _generate_threads()


def test_prompt_plus_new_tokens_must_fit_the_context(backend):
    import dataclasses

    info = backend.info
    backend.info = dataclasses.replace(info, context_length=40)
    try:
        with pytest.raises(BackendError, match="exceeds the model's context of 40 tokens"):
            list(backend.stream_chat([{"role": "user", "content": "hello"}], GREEDY.with_updates(max_new_tokens=39)))
    finally:
        backend.info = info


@pytest.mark.gpu
def test_gpu_loads_bf16_with_device_map_auto(tiny_checkpoint):
    import torch

    from app.backends.local import TransformersBackend

    gpu = TransformersBackend(ModelOptions(model=str(tiny_checkpoint)))  # device "auto", dtype "auto"
    try:
        assert gpu.model.device.type == "cuda" and gpu.model.dtype == torch.bfloat16
        _assert_cancel_ends_generate_within_a_second(gpu)
    finally:
        gpu.close()


def _scripted_generate(text: str, new_tokens: int):
    """A stand-in for ``model.generate`` that streams ``text`` and reports ``new_tokens`` generated tokens."""
    import torch

    def generate(**kwargs):
        kwargs["streamer"].on_finalized_text(text, stream_end=True)
        prompt = kwargs["input_ids"].shape[-1]
        return torch.zeros((1, prompt + new_tokens), dtype=torch.long)

    return generate


@pytest.mark.parametrize(
    ("text", "new_tokens", "unclosed"),
    [
        ("I keep thinking and stop.", 5, True),  # ended (EOS) without </think>: the reply is the answer
        ("I thought.</think>Water.", 5, False),  # closed normally
        ("I keep thinking and", 12, False),  # cut at max_new_tokens while thinking: cut off, not unclosed
    ],
)
def test_thinking_that_never_closes_is_flagged_for_the_page(backend, monkeypatch, text, new_tokens, unclosed):
    from app.chat.engine import ChatEngine

    monkeypatch.setattr(backend.model, "generate", _scripted_generate(text, new_tokens))
    thinking = GREEDY.with_updates(enable_thinking=True)
    deltas = list(backend.stream_chat([{"role": "user", "content": "hi"}], thinking))
    assert bool(deltas[-1].data.get("thinking_unclosed")) is unclosed
    answer = list(ChatEngine(backend, Limits()).answer([{"role": "user", "content": "hi"}], thinking, "t"))[-1]
    if unclosed:
        assert (answer.content, answer.reasoning, answer.end.state) == ("I keep thinking and stop.", "", "answered")
