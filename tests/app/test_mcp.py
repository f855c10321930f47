"""The science functions as Gradio API endpoints and MCP tools (schema built by gradio's own MCP server)."""

import asyncio
import types

import gradio as gr
import httpx
import pytest

from app.mcp_tools import draw_molecule, protein_card, register_api, validate_smiles


TOOL_NAMES = ["validate_smiles", "draw_molecule", "protein_card"]


def _demo():
    with gr.Blocks() as demo:
        gr.Markdown("science tools")
    assert register_api(demo) == TOOL_NAMES
    return demo


def test_mcp_schema_lists_the_tools_with_described_inputs():
    from gradio.mcp import GradioMCPServer

    server = GradioMCPServer(_demo())
    response = asyncio.run(server.get_complete_schema(types.SimpleNamespace(query_params={})))
    schema = {tool["name"]: tool for tool in __import__("json").loads(response.body)}
    assert sorted(schema) == sorted(TOOL_NAMES)
    smiles = schema["validate_smiles"]
    assert "valid molecule" in smiles["description"]
    assert smiles["inputSchema"]["properties"]["smiles"]["type"] == "string"
    assert "CCO" in smiles["inputSchema"]["properties"]["smiles"]["description"]
    assert set(schema["draw_molecule"]["inputSchema"]["properties"]) == {"smiles", "width", "height"}
    assert "FASTA" in schema["protein_card"]["inputSchema"]["properties"]["sequence"]["description"]


@pytest.mark.slow
def test_launched_app_serves_the_mcp_schema_and_api():
    from gradio_client import Client

    demo = _demo()
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, mcp_server=True, quiet=True)
    try:
        names = [tool["name"] for tool in httpx.get(url.rstrip("/") + "/gradio_api/mcp/schema", timeout=30).json()]
        assert sorted(names) == sorted(TOOL_NAMES)
        result = Client(url, verbose=False).predict("OCC", api_name="/validate_smiles")
        assert result["ok"] and result["canonical_smiles"] == "CCO"
    finally:
        demo.close()


def test_functions_answer_and_explain_failures():
    assert validate_smiles("CCO")["formula"] == "C2H6O"
    bad = validate_smiles("C1CC")
    assert not bad["ok"] and "ring" in bad["error"]
    assert validate_smiles("C" * 3000)["error"] == "smiles is longer than 2000 characters"
    picture = draw_molecule("c1ccccc1")
    assert picture["ok"] and picture["svg"].lstrip().startswith("<svg")
    assert "between 50 and 2000" in draw_molecule("C", width=10)["error"]
    assert draw_molecule("not a smiles")["svg"] is None
    card = protein_card(">p1\nMKTAYIAKQRQISFVKSHFSRQ")
    assert card["ok"] and card["kind"] == "protein" and card["length"] == 22
    assert "isoelectric_point" in card["properties"]
    assert not protein_card("MKT*#@")["ok"]
