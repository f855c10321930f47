"""``serve`` against the clients people already run: the official ``openai`` SDK and LangChain's ``ChatOpenAI``.

Each test talks to a real ``python -m app serve`` subprocess on loopback (scripted backends from
``tests/app/fixtures/serve_factory.py``); nothing here reaches the network.
"""

import base64
import io
import json

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from PIL import Image
from serving import ServerProcess, free_port

import science_tools


pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "Is OCC ethanol?"}]


@pytest.fixture(scope="module")
def echo():
    with ServerProcess(free_port()) as server:
        yield server


@pytest.fixture(scope="module")
def chemist():
    with ServerProcess(free_port(), factory="tool_reader_backend") as server:
        yield server


def _client(server, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="EMPTY", **kwargs)


def _check_smiles_result(smiles: str) -> str:
    """What a client-side tool returns: the real science_tools check, as JSON."""
    report = science_tools.check_smiles(smiles)
    return json.dumps({"valid": report.ok, "canonical_smiles": report.canonical_smiles})


def test_sdk_non_streaming_with_thinking_on_and_off(echo):
    client = _client(echo)
    on = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hello"}])
    assert on.choices[0].message.model_extra["reasoning_content"] == "Let me look at what arrived."
    assert "roles=user text=hello thinking=True" in on.choices[0].message.content
    assert on.choices[0].finish_reason == "stop" and on.usage.prompt_tokens == 7
    off = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hello"}],
                                         max_completion_tokens=33, extra_body={"enable_thinking": False})  # fmt: skip
    assert "reasoning_content" not in off.choices[0].message.model_extra
    assert "thinking=False max=33" in off.choices[0].message.content


def test_sdk_streaming_with_usage(echo):
    stream = _client(echo).chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "hello"}], stream=True,
        stream_options={"include_usage": True}, extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )  # fmt: skip
    content, finish, usage = "", None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert content.startswith("roles=user text=hello thinking=False")
    assert finish == "stop" and usage.prompt_tokens == 7 and usage.completion_tokens > 0


def test_sdk_image_as_data_url(echo):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 16), "red").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    answer = _client(echo).chat.completions.create(model="fake-model", messages=[{"role": "user", "content": content}])
    assert f"text=what is this? image=.png:{len(buffer.getvalue())}" in answer.choices[0].message.content


def test_sdk_stop_sequences(echo):
    client = _client(echo)
    messages = [{"role": "user", "content": "hello"}]
    answer = client.chat.completions.create(model="fake-model", messages=messages, stop=[" thinking="])
    assert answer.choices[0].message.content == "roles=user text=hello"
    assert answer.choices[0].finish_reason == "stop"
    stream = client.chat.completions.create(model="fake-model", messages=messages, stop="text=", stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "roles=user "


def test_sdk_tool_loop_over_two_turns(chemist):
    client = _client(chemist)
    tools = [{"type": "function", "function": {"name": "check_smiles", "description": "Check a SMILES string.",
              "parameters": {"type": "object", "properties": {"smiles": {"type": "string"}}}}}]  # fmt: skip
    first = client.chat.completions.create(model="fake-model", messages=QUESTION, tools=tools)
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "check_smiles" and json.loads(call.function.arguments) == {"smiles": "OCC"}
    history = [*QUESTION, first.choices[0].message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id,
                "content": _check_smiles_result(json.loads(call.function.arguments)["smiles"])}]  # fmt: skip
    second = client.chat.completions.create(model="fake-model", messages=history, tools=tools)
    assert second.choices[0].message.content == "check_smiles(OCC) says CCO."
    assert second.choices[0].finish_reason == "stop"


def test_sdk_does_not_retry_client_mistakes_and_names_them(echo):
    sent = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    client = _client(echo, max_retries=2, http_client=http)
    for kwargs, param in (({"n": 2}, "n"), ({"temperature": 9}, "temperature"), ({"logprobs": True}, "logprobs")):
        sent.clear()
        with pytest.raises(openai.BadRequestError) as raised:
            client.chat.completions.create(model="fake-model", messages=QUESTION, **kwargs)
        assert len(sent) == 1, f"{kwargs} was sent {len(sent)} times"
        assert raised.value.body["param"] == param
    with pytest.raises(openai.NotFoundError, match="the model `gpt-4` does not exist"):
        client.chat.completions.create(model="gpt-4", messages=QUESTION)


@tool
def check_smiles(smiles: str) -> str:
    """Check whether a SMILES string is a valid molecule and return its canonical form."""
    return _check_smiles_result(smiles)


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
def test_langchain_bind_tools_two_turn_loop(chemist, streaming):
    llm = ChatOpenAI(model="fake-model", base_url=chemist.url + "/v1", api_key="EMPTY", max_retries=0,
                     streaming=streaming).bind_tools([check_smiles])  # fmt: skip
    messages = [HumanMessage("Is OCC ethanol?")]
    ai = llm.invoke(messages)
    assert [call["name"] for call in ai.tool_calls] == ["check_smiles"] and ai.tool_calls[0]["args"] == {
        "smiles": "OCC"
    }
    messages += [ai, check_smiles.invoke(ai.tool_calls[0])]  # a ToolMessage carrying the call's id
    final = llm.invoke(messages)
    assert final.content == "check_smiles(OCC) says CCO." and not final.tool_calls
