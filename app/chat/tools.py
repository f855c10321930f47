"""Let the model call chemistry and biology tools mid-answer, with a bounded loop and nothing but these tools.

The model (local or remote) receives :data:`TOOL_SPECS` through the chat template's ``tools`` (Intern-S1 renders
them in the InternLM action format), answers with ``<|action_start|><|plugin|>{"name", "parameters"}<|action_end|>``
(parsed into ``tool_call`` deltas by the backend), the app runs the call here, and the result goes back as an
``environment`` turn. Only the functions in :data:`TOOLS` can run — no code execution, no file or network access —
each with a time limit, and at most ``max_steps`` calls per answer.

Usage from the UI::

    loop = ToolLoop(backend, max_steps=4)
    for event in loop.run(messages, params, cancel=cancel):
        if isinstance(event, ToolStep):
            history.append(gr.ChatMessage(**event.as_chat_message()))   # a collapsible step
        else:
            ...  # a Delta, streamed as usual
    loop.messages  # the conversation including the assistant's calls and the environment results
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from app.backends.base import ChatBackend, Delta, SamplingParams
from app.backends.stream_parser import ACTION_END, ACTION_START, PLUGIN


__all__ = ["TOOLS", "TOOL_SPECS", "Tool", "ToolLoop", "ToolStep", "execute_tool_call", "render_action"]

logger = logging.getLogger(__name__)

MAX_SMILES_CHARS = 2_000
MAX_SEQUENCE_CHARS = 100_000
_PREVIEW_CHARS = 1_500  # how much of a result a step shows in the chat

# A small shared pool: tool calls are short and CPU-bound; a call that overruns its limit is abandoned, not killed.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="science-tool")


@dataclass(frozen=True)
class Tool:
    """One callable tool: its JSON-schema description and the function that runs it."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[..., dict[str, Any]]

    def spec(self) -> dict[str, Any]:
        """The OpenAI / transformers chat-template description of this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _text_param(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]}


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in values.items()}


def _check_smiles(smiles: str) -> dict[str, Any]:
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return {"valid": False, "error": report.error}
    return {"valid": True, "canonical_smiles": report.canonical_smiles, "formula": report.formula}


def _descriptors(smiles: str) -> dict[str, Any]:
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return {"valid": False, "error": report.error}
    return {"valid": True, "canonical_smiles": report.canonical_smiles, "formula": report.formula,
            "descriptors": _rounded(report.descriptors)}  # fmt: skip


def _draw(smiles: str) -> dict[str, Any]:
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return {"valid": False, "error": report.error}
    # The picture is for the user; the model only learns that it was drawn.
    svg = science_tools.draw_molecule_svg(report.canonical_smiles, legend=report.formula or "")
    return {"valid": True, "drawn": True, "canonical_smiles": report.canonical_smiles, "_svg": svg}


def _protein_card(sequence: str) -> dict[str, Any]:
    import science_tools

    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return {"valid": False, "kind": report.kind, "error": report.error}
    card = {key: value for key, value in report.properties.items() if key != "composition"}
    return {"valid": True, "kind": report.kind, "properties": _rounded(card), "warnings": list(report.warnings)}


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("check_smiles", "Check whether a SMILES string is a valid molecule; return its canonical SMILES and "
             "formula, or the reason it is invalid.", _text_param("smiles", "the molecule as SMILES"), _check_smiles),
        Tool("molecule_descriptors", "Compute descriptors of a molecule given as SMILES: molecular weight, logP, "
             "TPSA, H-bond donors/acceptors, rotatable bonds, rings, QED, Lipinski rule-of-five.",
             _text_param("smiles", "the molecule as SMILES"), _descriptors),
        Tool("draw_molecule", "Draw a molecule given as SMILES so the user can see its 2D structure.",
             _text_param("smiles", "the molecule as SMILES"), _draw),
        Tool("protein_card", "Check a protein, DNA or RNA sequence (raw or FASTA) and compute its properties: "
             "length, molecular weight, isoelectric point, GRAVY, instability index (proteins) or GC content "
             "(nucleic acids).", _text_param("sequence", "the sequence or FASTA text"), _protein_card),
    )
}  # fmt: skip
TOOL_SPECS: list[dict[str, Any]] = [tool.spec() for tool in TOOLS.values()]
_LIMITS = {"smiles": MAX_SMILES_CHARS, "sequence": MAX_SEQUENCE_CHARS}


@dataclass(frozen=True)
class ToolStep:
    """One executed (or refused) tool call, ready to show as a collapsible chat message and to feed back."""

    name: str
    parameters: dict[str, Any]
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    svg: str | None = None  # a molecule picture for the user (never sent to the model)
    index: int = 0

    def model_view(self) -> dict[str, Any]:
        """What the model reads in the ``environment`` turn."""
        return self.result if self.ok else {"error": self.error}

    def environment_message(self) -> dict[str, Any]:
        return {"role": "environment", "name": self.name, "content": json.dumps(self.model_view(), ensure_ascii=False)}

    def as_chat_message(self) -> dict[str, Any]:
        """Keyword arguments for ``gr.ChatMessage``: a collapsed step titled with the call, the result inside."""
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.parameters.items())
        if len(arguments) > 80:
            arguments = arguments[:77] + "…"
        shown = json.dumps(self.model_view(), indent=2, ensure_ascii=False)
        if len(shown) > _PREVIEW_CHARS:
            shown = shown[:_PREVIEW_CHARS] + "\n… (truncated)"
        icon = "🛠️" if self.ok else "⚠️"
        return {
            "role": "assistant",
            "content": f"```json\n{shown}\n```",
            "metadata": {
                "title": f"{icon} {self.name}({arguments})",
                "id": f"tool-step-{self.index}",
                "status": "done",
                "duration": round(self.duration_s, 3),
            },
        }


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
        if len(value) > _LIMITS[key]:
            return None, f"'{key}' is longer than {_LIMITS[key]} characters"
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
    svg = result.pop("_svg", None)
    return ToolStep(
        name, parameters, True, result=result, svg=svg, duration_s=time.perf_counter() - started, index=index
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
