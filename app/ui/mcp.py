"""``--mcp``: Gradio's MCP server, narrowed to the science endpoints and answering in JSON.

Gradio 6 makes every public API endpoint an MCP tool and returns a dict result as ``str(dict)`` (a Python repr,
not JSON). The MCP tools of this app are exactly :data:`~app.science_api.SCIENCE_ENDPOINTS` — ``/chat`` stays a
``gradio_client`` / OpenAI-server matter (a long, GPU-bound stream is no tool call), ``/tokenize`` is a view of
the tokenizer — and their results are JSON text. :func:`science_tools_only` is passed to ``launch`` as the app's
lifespan: it runs after Gradio built its MCP server and before the first request, so no client ever sees the
unnarrowed list. ``tests/app/test_mcp.py`` checks both with the official ``mcp`` SDK client.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from app.science_api import SCIENCE_ENDPOINTS


__all__ = ["narrow_mcp_server", "science_tools_only"]


def narrow_mcp_server(server: Any, endpoints: tuple[str, ...] = SCIENCE_ENDPOINTS) -> list[str]:
    """Keep only ``endpoints`` as tools of a ``gradio.mcp.GradioMCPServer`` and make dict results JSON text.

    Returns:
        The tool names left.
    """
    server.tool_to_endpoint = {
        tool: endpoint for tool, endpoint in server.tool_to_endpoint.items() if endpoint.lstrip("/") in endpoints
    }
    gradio_output = server.postprocess_output_data

    def json_output(data: list[Any], root_url: str) -> list[Any]:
        content: list[Any] = []
        for item in data:
            if isinstance(item, dict | list):
                content.append(server.types.TextContent(type="text", text=json.dumps(item, ensure_ascii=False)))
            else:
                content += gradio_output([item], root_url)
        return content

    server.postprocess_output_data = json_output
    return list(server.tool_to_endpoint)


def science_tools_only(demo: Any) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan for ``demo.launch(app_kwargs={"lifespan": …})`` that narrows the MCP server before serving."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if getattr(demo, "mcp_server_obj", None) is not None:
            narrow_mcp_server(demo.mcp_server_obj)
        yield

    return lifespan
