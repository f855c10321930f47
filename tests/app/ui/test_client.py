"""Tier b with the scripted backend: the launched app driven through gradio_client on loopback."""

import time

import pytest
from gradio_client import Client, handle_file
from studio_app import launched_app
from studio_media import ASPIRIN, make_image

from app.backends.fake import FakeBackend


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def running():
    backend = FakeBackend(reasoning="Let me think.", content="Water is H2O and ethanol is <SMILES>CCO</SMILES>.",
                          delay_s=0.01)
    with launched_app(backend) as app:
        yield app


@pytest.fixture
def client(running):
    return Client(running.url, verbose=False)


def test_endpoints_are_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/chat", "/check_smiles", "/check_sequence", "/render_molecule"} <= names


def test_chat_streams_growing_answer_in_order(client):
    job = client.submit("What is water?", [], False, api_name="/chat")
    outputs = list(job)
    assert outputs[-1] == job.result() == "Water is H2O and ethanol is <SMILES>CCO</SMILES>."
    assert len(outputs) > 1
    assert all(later.startswith(earlier) for earlier, later in zip(outputs, outputs[1:]))


def test_chat_with_thinking_and_sampling_values(client, running):
    result = client.predict("q", [], True, 0.0, 0.9, 10, 0.05, 32, "Be brief.", api_name="/chat")
    assert result.startswith("<think>\nLet me think.\n</think>")
    call = running.backend.calls[-1]
    assert (call.params.temperature, call.params.top_p, call.params.top_k, call.params.max_new_tokens) == (
        0.0, 0.9, 10, 32)
    assert call.messages[0] == {"role": "system", "content": "Be brief."}


def test_chat_with_image_file(client, running, tmp_path):
    image = make_image(tmp_path / "red.png")
    client.predict("What colour?", [handle_file(str(image))], False, api_name="/chat")
    content = running.backend.calls[-1].messages[-1]["content"]
    assert content[0]["type"] == "image" and content[0]["path"].endswith("red.png")


def test_bad_input_gets_its_reason(client):
    with pytest.raises(Exception, match="temperature must be between 0 and 2"):
        client.predict("q", [], False, 5.0, api_name="/chat")
    with pytest.raises(Exception, match="message is empty"):
        client.predict("", [], False, api_name="/chat")


def test_check_smiles_endpoint(client):
    good = client.predict(ASPIRIN, api_name="/check_smiles")
    assert good["ok"] and good["formula"] == "C9H8O4"
    bad = client.predict("C1CC(", api_name="/check_smiles")
    assert bad["ok"] is False and bad["error"]


def test_check_sequence_and_render_endpoints(client):
    seq = client.predict("MKTAYIAKQRQISFVKSHFSRQ", api_name="/check_sequence")
    assert seq["ok"] and seq["kind"] == "protein" and seq["properties"]
    drawn = client.predict("CCO", api_name="/render_molecule")
    assert drawn["ok"] and "<svg" in drawn["svg"]


def test_cancel_stops_the_backend_quickly():
    backend = FakeBackend(content=" ".join(["word"] * 2000), delay_s=0.02)
    with launched_app(backend) as app:
        client = Client(app.url, verbose=False)
        job = client.submit("long", [], False, api_name="/chat")
        while not backend.calls or len(job.outputs()) < 3:
            time.sleep(0.02)
        job.cancel()
        deadline = time.monotonic() + 1.5
        while not backend.calls[-1].cancel_requested and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.calls[-1].cancel_requested and not backend.calls[-1].finished
