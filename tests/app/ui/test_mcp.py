"""``--mcp`` checked with the official ``mcp`` SDK client: the tools are exactly the science endpoints, typed and
described, and every result (good input, bad input, each input kind) is JSON."""

import asyncio
import json
import shutil
from dataclasses import replace

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from studio_app import free_port
from studio_media import ASPIRIN, UBIQUITIN, pdb_text

from app import science_api
from app.backends.fake import FakeBackend
from app.config import AppConfig
from app.ui.blocks import build_demo, launch


pytestmark = pytest.mark.slow

PDB_TEXT = pdb_text()

CALLS = {
    "check_smiles": [{"smiles": ASPIRIN}, {"smiles": "CC(=O)O.OCC>>CC(=O)OCC"}, {"smiles": "C1CC(!"}, {"smiles": ""}],
    "check_sequence": [
        {"sequence": f">ubq\n{UBIQUITIN}"},
        {"sequence": "ATGCGTACGTTAGCATGCAAATTTGGG"},
        {"sequence": "AUGCGUACGUUAGCAUGCAAAUUU"},
        {"sequence": "MKT*#@"},
    ],
    "render_molecule": [{"smiles": "c1ccccc1", "width": 200, "height": 150}, {"smiles": "not a molecule"}],
    "name_to_structure": [{"name": "2-acetyloxybenzoic acid"}, {"name": "foobarane"}, {"name": "x" * 10_000}],
    "structure_card": [{"structure": PDB_TEXT, "name": "1abc.pdb"}, {"structure": "HEADER    X\nEND\n"}],
}


@pytest.fixture(scope="module")
def mcp_url():
    config = replace(AppConfig(), port=free_port())
    demo = build_demo(FakeBackend(), config)
    try:
        _, url, _ = launch(demo, config, mcp=True, prevent_thread_lock=True)
        yield url.rstrip("/") + "/gradio_api/mcp/"
    finally:
        demo.close()


async def _session(url, work):
    async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def _run(url, work):
    return asyncio.run(_session(url, work))


def test_the_tools_are_exactly_the_science_endpoints_with_typed_described_parameters(mcp_url):
    tools = {tool.name: tool for tool in _run(mcp_url, lambda session: session.list_tools()).tools}
    assert sorted(tools) == sorted(science_api.SCIENCE_ENDPOINTS)  # no /chat, no /tokenize, no underscore twins
    for name, tool in tools.items():
        assert tool.description.startswith(getattr(science_api, name).__doc__.split("\n")[0])
        for parameter in tool.inputSchema["properties"].values():
            assert parameter["description"] and parameter["type"] in ("string", "integer")
    assert tools["check_smiles"].inputSchema["properties"]["smiles"]["type"] == "string"
    assert tools["render_molecule"].inputSchema["properties"]["width"]["type"] == "integer"
    assert "FASTA" in tools["check_sequence"].inputSchema["properties"]["sequence"]["description"]
    assert "OPSIN" in tools["name_to_structure"].description
    assert "PDB or mmCIF" in tools["structure_card"].inputSchema["properties"]["structure"]["description"]


def test_every_call_answers_json_for_good_and_bad_input(mcp_url):
    async def call_all(session):
        return {(name, json.dumps(arguments)): await session.call_tool(name, arguments)
                for name, calls in CALLS.items() for arguments in calls}  # fmt: skip

    results = _run(mcp_url, call_all)
    parsed = {}
    for (name, arguments), result in results.items():
        assert not result.isError, (name, arguments, result)
        assert len(result.content) == 1 and result.content[0].type == "text"
        parsed[name, arguments] = json.loads(result.content[0].text)
    assert parsed["check_smiles", json.dumps({"smiles": ASPIRIN})]["formula"] == "C9H8O4"
    reaction = parsed["check_smiles", json.dumps({"smiles": "CC(=O)O.OCC>>CC(=O)OCC"})]
    assert reaction["ok"] is False and "reaction" in reaction["error"]
    assert parsed["check_smiles", json.dumps({"smiles": "C1CC(!"})]["error"]
    kinds = [parsed["check_sequence", json.dumps(arguments)]["kind"] for arguments in CALLS["check_sequence"]]
    assert kinds == ["protein", "dna", "rna", "protein"]
    assert parsed["check_sequence", json.dumps({"sequence": "MKT*#@"})]["ok"] is False
    drawn = parsed["render_molecule", json.dumps({"smiles": "c1ccccc1", "width": 200, "height": 150})]
    assert drawn["ok"] and drawn["svg"].lstrip().startswith("<svg")
    assert parsed["render_molecule", json.dumps({"smiles": "not a molecule"})]["svg"] is None
    names = [parsed["name_to_structure", json.dumps(arguments)] for arguments in CALLS["name_to_structure"]]
    assert "the limit is 2,000" in names[2]["error"]
    if shutil.which("java"):  # OPSIN needs a JVM; without one every name says so (tests/app/test_science_api.py)
        assert names[0]["canonical_smiles"] == ASPIRIN and names[1]["error"].startswith("OPSIN could not interpret")
    card, empty = (parsed["structure_card", json.dumps(arguments)] for arguments in CALLS["structure_card"])
    assert [chain["header"] for chain in card["chains"]] == ["1abc.pdb chain A", "1abc.pdb chain B"]
    assert not empty["ok"] and "no atoms" in empty["error"]


def test_chat_is_not_callable_as_a_tool(mcp_url):
    result = _run(mcp_url, lambda session: session.call_tool("chat", {"message": "hi"}))
    assert result.isError
