"""The tool loop with scripted backends: the call runs, the step is shown, the result goes back as environment."""

import json
import threading
import time

import pytest

import science_tools
from app import science_api
from app.backends.base import Delta, SamplingParams
from app.backends.fake import FakeBackend
from app.backends.stream_parser import split_text
from app.chat.tools import TOOL_SPECS, TOOLS, Tool, ToolLoop, ToolStep, execute_tool_call, render_action


def _scripted_chemist(messages, params):
    """Calls check_smiles once, then answers from the environment result."""
    if messages[-1]["role"] != "environment":
        return [Delta("reasoning", "I should verify the SMILES."), Delta("content", "Checking. "),
                Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "OCC"}})]  # fmt: skip
    result = json.loads(messages[-1]["content"])
    return [Delta("content", f"It is valid: {result['canonical_smiles']} ({result['formula']}).")]


def _events(loop, messages, **kwargs):
    return list(loop.run(messages, SamplingParams(), **kwargs))


def test_the_tools_are_the_science_endpoints_described_from_their_docstrings():
    names = [spec["function"]["name"] for spec in TOOL_SPECS]
    assert names == [name for name in science_api.SCIENCE_ENDPOINTS if name != "structure_card"]  # a whole file
    for spec in TOOL_SPECS:
        function = spec["function"]
        assert spec["type"] == "function" and function["parameters"]["required"]
        assert function["description"] == getattr(science_api, function["name"]).__doc__.split("\n")[0]
    smiles = TOOL_SPECS[0]["function"]["parameters"]["properties"]["smiles"]
    assert smiles["type"] == "string" and '"CCO" (ethanol)' in smiles["description"]
    # the picture size is the app's choice, not the model's
    assert list(TOOLS["render_molecule"].parameters["properties"]) == ["smiles"]


def test_conversation_runs_the_tool_and_shows_the_step():
    backend = FakeBackend(script=_scripted_chemist)
    loop = ToolLoop(backend)
    events = _events(loop, [{"role": "user", "content": "Is OCC ethanol?"}])
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert len(steps) == 1 and steps[0].ok
    report = science_tools.check_smiles("OCC").to_dict()
    assert steps[0].result["canonical_smiles"] == "CCO" and steps[0].result.keys() == report.keys()
    final = "".join(e.text for e in events[events.index(steps[0]) :] if isinstance(e, Delta) and e.kind == "content")
    assert final == "It is valid: CCO (C2H6O)."
    # what the model saw on its second turn: its own call in action format, then the environment result
    second = backend.calls[1].messages
    assert second[-2]["role"] == "assistant" and second[-2]["reasoning_content"] == "I should verify the SMILES."
    assert second[-2]["content"].endswith(render_action({"name": "check_smiles", "parameters": {"smiles": "OCC"}}))
    assert second[-1] == {"role": "environment", "name": "check_smiles", "content": json.dumps(steps[0].result)}
    assert backend.calls[0].tools == TOOL_SPECS
    assert [m["role"] for m in loop.messages] == ["user", "assistant", "environment", "assistant"]


def test_action_block_written_by_the_model_round_trips_through_the_splitter():
    """The raw text a model writes (local backend path) becomes the same call the loop executes."""
    text = "Let me draw it." + render_action({"name": "render_molecule", "parameters": {"smiles": "c1ccccc1"}})
    calls = [d.data for d in split_text(text) if d.kind == "tool_call"]
    step = execute_tool_call(calls[0])
    assert step.ok and step.result["canonical_smiles"] == "c1ccccc1"
    assert step.svg.lstrip().startswith("<svg") and "svg" not in step.result  # the picture is for the user


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ({"name": "run_python", "parameters": {"code": "import os"}}, "unknown tool 'run_python'"),
        ({"name": "check_smiles", "parameters": {"smiles": "CCO", "path": "/etc"}}, "does not take path"),
        ({"name": "check_smiles", "parameters": {}}, "needs 'smiles' as a non-empty string"),
        ({"name": "check_smiles", "parameters": {"smiles": 5}}, "needs 'smiles' as a non-empty string"),
        ({"name": "check_sequence", "parameters": "MKV"}, "must be an object"),
        ({"name": "render_molecule", "parameters": {"smiles": "C", "width": 9000}}, "does not take width"),
    ],
)
def test_bad_calls_are_refused_with_a_reason(call, error):
    step = execute_tool_call(call)
    assert not step.ok and error in step.error
    assert json.loads(step.environment_message()["content"]) == {"error": step.error}


def test_invalid_chemistry_is_a_result_not_a_failure():
    step = execute_tool_call({"name": "check_smiles", "parameters": {"smiles": "C1CC"}})
    assert step.ok and step.result["ok"] is False and "ring" in step.result["error"]
    card = execute_tool_call({"name": "check_sequence", "parameters": {"sequence": "MKTAYIAKQRQISFVKSHFSRQ"}})
    assert card.ok and card.result["kind"] == "protein" and card.result["properties"]["length"] == 22
    dna = execute_tool_call({"name": "check_sequence", "parameters": {"sequence": "ATGCGTACGTTAGCATGCAAATTT"}})
    assert dna.ok and dna.result["kind"] == "dna" and dna.result["properties"]["length"] == 24
    descriptors = execute_tool_call({"name": "check_smiles", "parameters": {"smiles": "CCO"}})
    assert descriptors.result["descriptors"]["molecular_weight"] == pytest.approx(46.069, abs=1e-3)


def test_limits_are_science_tools_own_and_long_results_are_shortened_for_the_model():
    limit = science_tools.LIMITS["MAX_SMILES_LENGTH"]
    over = execute_tool_call({"name": "check_smiles", "parameters": {"smiles": "C" * (limit + 1)}})
    assert over.ok and over.result["ok"] is False and over.result["error"].endswith(f"the limit is {limit}")
    within = execute_tool_call({"name": "check_smiles", "parameters": {"smiles": "C" * 2500}})
    assert within.ok and within.result["ok"] is True  # the loop's own 2,000-character limit is gone
    assert within.result["input"].endswith("(2,500 characters in all)")  # shortened for the model only


def test_slow_tool_times_out(monkeypatch):
    monkeypatch.setitem(
        TOOLS,
        "check_smiles",
        Tool("check_smiles", "slow", TOOLS["check_smiles"].parameters, lambda smiles: time.sleep(1) or {}),
    )
    step = execute_tool_call({"name": "check_smiles", "parameters": {"smiles": "C"}}, timeout_s=0.1)
    assert not step.ok and step.error == "check_smiles did not finish within 0.1 s"


def test_step_limit_bounds_the_loop():
    def always_call(messages, params):
        return [Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "C"}})]

    backend = FakeBackend(script=always_call)
    steps = [
        e
        for e in _events(ToolLoop(backend, max_steps=2), [{"role": "user", "content": "loop"}])
        if isinstance(e, ToolStep)
    ]
    assert [s.ok for s in steps] == [True, True, False]
    assert steps[-1].error == "not run: the limit of 2 tool calls per answer was reached"
    assert len(backend.calls) == 3
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        ToolLoop(backend, max_steps=0)


def test_cancel_stops_before_running_the_tool():
    cancel = threading.Event()

    def call_then_cancel(messages, params):
        cancel.set()
        return [Delta("tool_call", data={"name": "check_smiles", "parameters": {"smiles": "C"}})]

    events = _events(ToolLoop(FakeBackend(script=call_then_cancel)), [{"role": "user", "content": "x"}], cancel=cancel)
    assert not any(isinstance(e, ToolStep) for e in events)


@pytest.mark.slow
def test_tool_loop_through_the_remote_backend_and_a_real_server():
    from serving import ServerProcess, free_port

    from app.backends.remote import OpenAICompatibleBackend

    server = ServerProcess(free_port(), factory="chemist_backend").start()
    try:
        loop = ToolLoop(OpenAICompatibleBackend(server.url))
        events = _events(loop, [{"role": "user", "content": "Is OCC ethanol?"}])
    finally:
        server.stop()
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert len(steps) == 1 and steps[0].result["canonical_smiles"] == "CCO"
    assert loop.messages[-1] == {"role": "assistant", "content": "Valid: CCO"}


@pytest.mark.slow
def test_tool_loop_with_a_tiny_checkpoint_scripted_to_emit_an_action_block(tiny_checkpoint):
    """Real processor chat template (tools, environment turn), tokenizer and streamer; only ``generate`` is scripted:
    it streams the token ids of a fixed answer, as a model that learned the action format would."""
    import torch

    from app.backends.local import TransformersBackend
    from app.config import ModelOptions

    backend = TransformersBackend(ModelOptions(model=str(tiny_checkpoint), device="cpu"))
    tokenizer = backend.processor.tokenizer
    prompts = []
    answers = [
        "I will check it." + render_action({"name": "check_smiles", "parameters": {"smiles": "OCC"}}),
        "It is ethanol, CCO.",
    ]

    def scripted_generate(input_ids, streamer, **kwargs):
        prompts.append(tokenizer.decode(input_ids[0], skip_special_tokens=False))
        new = tokenizer(answers[len(prompts) - 1], add_special_tokens=False, return_tensors="pt")["input_ids"]
        streamer.put(input_ids.cpu())  # the prompt, skipped by the streamer
        for token in new[0]:
            streamer.put(token.view(1))
        streamer.end()
        return torch.cat([input_ids, new], dim=-1)

    backend.model.generate = scripted_generate
    loop = ToolLoop(backend, call_timeout_s=60)  # generous: CI machines can be slow on RDKit's first call
    params = SamplingParams(enable_thinking=False, max_new_tokens=64)
    stop = threading.Event()  # never pressed; the local backend sets the event it is given when it ends
    events = list(
        loop.run([{"role": "user", "content": [{"type": "text", "text": "Is OCC ethanol?"}]}], params, cancel=stop)
    )
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert len(steps) == 1 and steps[0].ok and steps[0].result["canonical_smiles"] == "CCO"
    assert '"name": "check_smiles"' in prompts[0]  # the template rendered the tools
    environment = f"<|im_start|>environment name=<|plugin|>\n{steps[0].environment_message()['content']}<|im_end|>"
    assert environment in prompts[1] and '"canonical_smiles": "CCO"' in environment
    assert (
        '<|action_start|><|plugin|>\n{"name": "check_smiles", "parameters": {"smiles": "OCC"}}\n<|action_end|>'
        in prompts[1]
    )
    final = "".join(e.text for e in events[events.index(steps[0]) :] if isinstance(e, Delta) and e.kind == "content")
    assert final == "It is ethanol, CCO."


def test_a_backend_setting_its_cancel_event_at_the_end_does_not_stop_the_loop():
    """Only the caller's Stop ends the loop, not a backend that sets the event it was given when it finishes."""

    class SetsCancelWhenDone(FakeBackend):
        def stream_chat(self, messages, params, *, tools=None, cancel=None):
            yield from super().stream_chat(messages, params, tools=tools, cancel=cancel)
            cancel.set()

    caller_cancel = threading.Event()
    events = _events(
        ToolLoop(SetsCancelWhenDone(script=_scripted_chemist)),
        [{"role": "user", "content": "x"}],
        cancel=caller_cancel,
    )
    assert [e.ok for e in events if isinstance(e, ToolStep)] == [True]
    assert not caller_cancel.is_set()


def test_stop_pressed_during_a_slow_turn_reaches_the_backend():
    cancel = threading.Event()
    backend = FakeBackend(content="word " * 200, delay_s=0.02)
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    events = _events(ToolLoop(backend), [{"role": "user", "content": "x"}], cancel=cancel)
    assert time.monotonic() - started < 2.0 and backend.calls[-1].cancelled
    assert 0 < len(events) < 200
