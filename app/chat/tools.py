"""Let the model call the science tools mid-answer, with a bounded loop and nothing but these tools.

The tools are the app's science endpoints (:mod:`app.science_api`: ``check_smiles``, ``check_sequence``,
``render_molecule``, ``name_to_structure``; not ``structure_card``, whose input is a whole file), described to the model from the same docstrings Gradio uses for the API and MCP. The model
(local or remote) receives :data:`TOOL_SPECS` through the chat template's ``tools`` (Intern-S1 renders them in the
InternLM action format), answers with ``<|action_start|><|plugin|>{"name", "parameters"}<|action_end|>`` (parsed
into ``tool_call`` deltas by the backend), the app runs the call here, and the result (the report's ``to_dict()``)
goes back as an ``environment`` turn. Only the functions in :data:`TOOLS` can run — no code execution, no file or
network access — each with a time limit, and at most ``max_steps`` calls per answer. Input limits are
``science_tools``' own (``science_tools.LIMITS``); an input over one is a normal "invalid" result.

Usage::

    loop = ToolLoop(backend, max_steps=4)
    for event in loop.run(messages, params, cancel=cancel):
        if isinstance(event, ToolStep):
            ...  # an executed call, shown as a collapsible step (app.ui.rendering)
        else:
            ...  # a Delta, streamed as usual
    loop.messages  # the conversation including the assistant's calls and the environment results
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from app import science_api
from app.backends.base import ChatBackend, Delta, SamplingParams
from app.backends.stream_parser import ACTION_END, ACTION_START, PLUGIN
from app.chat.history import ToolStep


__all__ = ["TOOLS", "TOOL_SPECS", "Tool", "ToolLoop", "ToolStep", "execute_tool_call", "render_action"]

logger = logging.getLogger(__name__)

MAX_RESULT_STRING_CHARS = 300  # long strings in a result (sequences, reverse complements) are shortened for the model
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_ARG_LINE = re.compile(r"^ {4}(\w+): (.*)$")  # "    name: description" in a dedented docstring

# A small shared pool: tool calls are short and CPU-bound; a call that overruns its limit is abandoned, not killed.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="science-tool")


def _docstring_parts(function: Callable) -> tuple[str, dict[str, str]]:
    """(summary paragraph, {argument: description}) of a Google-style docstring."""
    summary, _, rest = (inspect.getdoc(function) or "").partition("\n\n")
    arguments: dict[str, str] = {}
    current = None
    for line in rest.partition("Args:\n")[2].splitlines():
        if line and not line.startswith(" "):
            break  # the next section (Returns:, Raises:)
        if match := _ARG_LINE.match(line):
            current = match.group(1)
            arguments[current] = match.group(2)
        elif current and line.strip():
            arguments[current] += " " + line.strip()
    return " ".join(summary.split()), arguments


@dataclass(frozen=True)
class Tool:
    """One callable tool: its JSON-schema description and the function that runs it."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[..., dict[str, Any]]

    @classmethod
    def from_function(cls, function: Callable[..., dict[str, Any]], arguments: tuple[str, ...]) -> Tool:
        """A tool for ``function``, offering the model only ``arguments`` (the others keep their defaults)."""
        summary, described = _docstring_parts(function)
        hints = inspect.get_annotations(function, eval_str=True)
        properties = {
            name: {"type": _JSON_TYPES[hints[name]], "description": described.get(name, name)} for name in arguments
        }
        schema = {"type": "object", "properties": properties, "required": list(arguments)}
        return cls(function.__name__, summary, schema, function)

    def spec(self) -> dict[str, Any]:
        """The OpenAI / transformers chat-template description of this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool.from_function(science_api.check_smiles, ("smiles",)),
        Tool.from_function(science_api.check_sequence, ("sequence",)),
        Tool.from_function(science_api.render_molecule, ("smiles",)),  # the picture size is the app's choice
        Tool.from_function(science_api.name_to_structure, ("name",)),
        # not /structure_card: a structure is a file the user attaches, and its chains are in the prompt already
    )
}
TOOL_SPECS: list[dict[str, Any]] = [tool.spec() for tool in TOOLS.values()]


def _for_the_model(value: Any) -> Any:
    """A result as the model reads it: floats rounded, very long strings shortened (the user sees it all)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str) and len(value) > MAX_RESULT_STRING_CHARS:
        return f"{value[:MAX_RESULT_STRING_CHARS]}… ({len(value):,} characters in all)"
    if isinstance(value, dict):
        return {key: _for_the_model(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_for_the_model(item) for item in value]
    return value


def _validate(name: str, parameters: Any) -> tuple[Tool | None, str | None]:
    tool = TOOLS.get(name)
    if tool is None:
        return None, f"unknown tool {name!r}; available tools: {', '.join(TOOLS)}"
    if not isinstance(parameters, dict):
        return None, f"parameters of {name} must be an object"
    expected = tool.parameters["properties"]
    unknown = sorted(set(parameters) - set(expected))
    if unknown:
        return None, f"{name} does not take {', '.join(unknown)}; it takes {', '.join(expected)}"
    for key in tool.parameters["required"]:
        value = parameters.get(key)
        if not isinstance(value, str) or not value.strip():
            return None, f"{name} needs '{key}' as a non-empty string"
    return tool, None


def execute_tool_call(call: dict[str, Any], *, timeout_s: float = 10.0, index: int = 0) -> ToolStep:
    """Run one call the model emitted (``{"name", "parameters"}``) if it names a known tool with valid arguments.

    Never raises for bad calls: a refused, failed or timed-out call is a step with ``ok=False`` and an error the
    model can read and correct.
    """
    name = str(call.get("name", ""))
    parameters = call.get("parameters", {})
    started = time.perf_counter()
    tool, problem = _validate(name, parameters)
    if tool is None:
        return ToolStep(name, parameters if isinstance(parameters, dict) else {}, ok=False, error=problem, index=index)
    future = _POOL.submit(tool.run, **parameters)
    try:
        result = future.result(timeout=timeout_s)
    except FutureTimeout:
        future.cancel()
        error = f"{name} did not finish within {timeout_s:g} s"
        return ToolStep(name, parameters, False, error=error, duration_s=time.perf_counter() - started, index=index)
    except Exception as error:  # noqa: BLE001 - a tool bug becomes a readable step, the chat goes on
        logger.exception("tool %s failed", name)
        message = f"{name} failed: {type(error).__name__}: {error}"
        return ToolStep(name, parameters, False, error=message, duration_s=time.perf_counter() - started, index=index)
    svg = result.pop("svg", None)  # the picture is for the user; the model only reads the report
    return ToolStep(
        name,
        parameters,
        True,
        result=_for_the_model(result),
        svg=svg,
        duration_s=time.perf_counter() - started,
        index=index,
    )


def render_action(call: dict[str, Any]) -> str:
    """The call as Intern-S1 writes it, for the assistant turn in the history."""
    payload = json.dumps({"name": call.get("name"), "parameters": call.get("parameters", {})}, ensure_ascii=False)
    return f"{ACTION_START}{PLUGIN}\n{payload}\n{ACTION_END}"


class _TurnCancel:
    """A fresh cancel event per model turn, set when the caller's ``cancel`` is.

    Each turn gets its own event because a backend may set the event it was given when its stream ends; only the
    caller's own event says that the user pressed Stop.
    """

    def __init__(self, parent: threading.Event | None) -> None:
        self._parent, self.event, self._done = parent, threading.Event(), threading.Event()

    def __enter__(self) -> threading.Event:
        if self._parent is not None:
            threading.Thread(target=self._follow, name="tool-loop-cancel", daemon=True).start()
        return self.event

    def _follow(self) -> None:
        while not self._done.is_set():
            if self._parent is not None and self._parent.wait(0.05):
                self.event.set()
                return

    def __exit__(self, *exc: object) -> None:
        self._done.set()


class ToolLoop:
    """Answer with tools: stream a model turn, run its tool call, feed the result back, repeat (bounded).

    Args:
        backend: any chat backend.
        max_steps: most tool calls per answer; a further call is refused with a step saying so.
        call_timeout_s: time limit of each call.
        tools: the tool descriptions given to the model (default: all of :data:`TOOLS`).
    """

    def __init__(
        self,
        backend: ChatBackend,
        *,
        max_steps: int = 4,
        call_timeout_s: float = 10.0,
        tools: list[dict[str, Any]] | None = None,
    ) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.backend = backend
        self.max_steps = max_steps
        self.call_timeout_s = call_timeout_s
        self.tools = TOOL_SPECS if tools is None else tools
        self.messages: list[dict[str, Any]] = []
        self.steps: list[ToolStep] = []

    def run(
        self, messages: list[dict[str, Any]], params: SamplingParams, *, cancel: threading.Event | None = None
    ) -> Iterator[Delta | ToolStep]:
        """Yield the model's deltas and a :class:`ToolStep` after each executed call; ends with the final answer."""
        self.messages, self.steps = list(messages), []
        while True:
            reasoning, content, calls = [], [], []
            with _TurnCancel(cancel) as turn_cancel:
                for delta in self.backend.stream_chat(
                    list(self.messages), params, tools=self.tools, cancel=turn_cancel
                ):
                    if delta.kind == "tool_call":
                        calls.append(delta.data or {})
                    elif delta.kind == "reasoning":
                        reasoning.append(delta.text)
                    elif delta.kind == "content":
                        content.append(delta.text)
                    yield delta
            if cancel is not None and cancel.is_set():
                return
            turn: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
            if reasoning:
                turn["reasoning_content"] = "".join(reasoning)
            if calls:
                # InternLM's parser supports one action per turn; a second one in the same turn is ignored.
                turn["content"] += render_action(calls[0])
            self.messages.append(turn)
            if not calls:
                return
            step = self._step(calls[0])
            self.steps.append(step)
            yield step
            if not step.ok and step.error and step.error.startswith("not run:"):
                return
            self.messages.append(step.environment_message())

    def _step(self, call: dict[str, Any]) -> ToolStep:
        index = len(self.steps)
        if index >= self.max_steps:
            parameters = call.get("parameters") if isinstance(call.get("parameters"), dict) else {}
            error = f"not run: the limit of {self.max_steps} tool calls per answer was reached"
            return ToolStep(str(call.get("name", "")), parameters, ok=False, error=error, index=index)
        return execute_tool_call(call, timeout_s=self.call_timeout_s, index=index)
