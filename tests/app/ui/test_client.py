"""Tier b with the scripted backend: the launched app driven through gradio_client on loopback, as README shows."""

import time

import pytest
from gradio_client import Client, handle_file
from studio_app import launched_app
from studio_media import SCIENCE_INPUTS as INPUTS
from studio_media import UBIQUITIN, make_image, make_pdb

from app import science_api
from app.backends.fake import FakeBackend


pytestmark = pytest.mark.slow

ANSWER = "Water is H2O and ethanol is <SMILES>CCO</SMILES>."


@pytest.fixture(scope="module")
def running():
    backend = FakeBackend(reasoning="Let me think.", content=ANSWER, delay_s=0.01)
    with launched_app(backend) as app:
        yield app


@pytest.fixture
def client(running):
    return Client(running.url, verbose=False)


def test_endpoints_are_the_documented_ones(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/chat", "/check_smiles", "/check_sequence", "/render_molecule", "/name_to_structure",
                              "/structure_card"}  # no /tokenize: fake  # fmt: skip
    chat = {p["parameter_name"]: p["python_type"]["type"] for p in endpoints["/chat"]["parameters"]}
    assert chat == {"message": "str", "files": "list[filepath]", "thinking": "bool", "temperature": "float",
                    "top_p": "float", "top_k": "int", "min_p": "float", "max_new_tokens": "int",
                    "system_prompt": "str", "tools": "bool"}  # fmt: skip


def test_readme_examples_with_keyword_arguments(client, running, tmp_path):
    figure = make_image(tmp_path / "figure.png")
    job = client.submit("What is the formula of water?", [handle_file(str(figure))], False, api_name="/chat")
    outputs = list(job)
    assert outputs[-1] == job.result() == ANSWER
    assert len(outputs) > 1 and all(later.startswith(earlier) for earlier, later in zip(outputs, outputs[1:]))
    result = client.predict(message="What colour?", files=[handle_file(str(figure))], thinking=False,
                            api_name="/chat")  # fmt: skip
    assert result == ANSWER
    content = running.backend.calls[-1].messages[-1]["content"]
    assert content[0]["type"] == "image" and content[0]["path"].endswith("figure.png")
    streamed = list(client.submit(message="q", thinking=False, max_new_tokens=5, api_name="/chat"))
    assert streamed[-1] == "Water is H2O and ethanol \n\n(cut off at 5 tokens)"


def test_chat_with_thinking_and_sampling_values(client, running):
    result = client.predict(message="q", thinking=True, temperature=0.0, top_p=0.9, top_k=10, min_p=0.05,
                            max_new_tokens=32, system_prompt="Be brief.", api_name="/chat")  # fmt: skip
    assert result.startswith("<think>\nLet me think.\n</think>")
    call = running.backend.calls[-1]
    assert (call.params.temperature, call.params.top_p, call.params.top_k, call.params.max_new_tokens) == (
        0.0,
        0.9,
        10,
        32,
    )
    assert isinstance(call.params.top_k, int) and call.messages[0] == {"role": "system", "content": "Be brief."}


@pytest.mark.parametrize("text", ["`a &amp; b`", "<b>bold</b> &lt;not a tag&gt;", "tab\there\r\nline\x07 \u202eRTL"])
def test_typed_text_reaches_the_backend_byte_for_byte(client, running, text):
    client.predict(message=text, thinking=False, api_name="/chat")
    assert running.backend.calls[-1].messages[-1]["content"][-1]["text"] == text


def test_bad_input_gets_its_reason(client):
    with pytest.raises(Exception, match="temperature must be between 0 and 2"):
        client.predict(message="q", temperature=5.0, api_name="/chat")
    with pytest.raises(Exception, match="message is empty"):
        client.predict(message="", api_name="/chat")


@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("endpoint", science_api.SCIENCE_ENDPOINTS)
def test_every_science_result_survives_the_round_trip(client, endpoint, kind):
    over_the_wire = client.predict(INPUTS[kind], api_name=f"/{endpoint}")
    assert over_the_wire == getattr(science_api, endpoint)(INPUTS[kind])


def test_dna_rna_and_fasta_through_check_sequence(client):
    dna = client.predict(sequence=INPUTS["dna"], api_name="/check_sequence")
    assert dna["ok"] and dna["kind"] == "dna" and dna["properties"]["composition"]["A"] > 0
    rna = client.predict(sequence=INPUTS["rna"], api_name="/check_sequence")
    assert rna["ok"] and rna["kind"] == "rna"
    fasta = client.predict(sequence=INPUTS["fasta"], api_name="/check_sequence")
    assert fasta["header"] == "sp|P0CG48|UBQ_HUMAN Ubiquitin" and fasta["properties"]["length"] == len(UBIQUITIN)
    drawn = client.predict(smiles="CCO", width=200, height=120, api_name="/render_molecule")
    assert drawn["ok"] and "<svg" in drawn["svg"]


def test_cancel_stops_the_backend_quickly():
    backend = FakeBackend(content=" ".join(["word"] * 2000), delay_s=0.02)
    with launched_app(backend) as app:
        client = Client(app.url, verbose=False)
        job = client.submit(message="long", thinking=False, api_name="/chat")
        while not backend.calls or len(job.outputs()) < 3:
            time.sleep(0.02)
        job.cancel()
        deadline = time.monotonic() + 1.5
        while not backend.calls[-1].cancel_requested and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend.calls[-1].cancel_requested and not backend.calls[-1].finished


def test_a_structure_file_and_a_name_through_gradio_client(client, tmp_path):
    pdb = make_pdb(tmp_path / "1abc.pdb")
    card = client.predict(structure=pdb.read_text(), name="1abc.pdb", api_name="/structure_card")
    assert card["ok"] and [chain["length"] for chain in card["chains"]] == [16, 8]
    assert card["chains"][0]["fasta"] == f">1abc.pdb chain A\n{UBIQUITIN[:16]}"
    name = client.predict(name="2-acetyloxybenzoic acid", api_name="/name_to_structure")
    assert name == science_api.name_to_structure("2-acetyloxybenzoic acid")  # OPSIN's structure, or why it is off
