"""Plain functions behind every UI event and API endpoint: inputs in, outputs (or a generator of them) out.

No components are built here except the ``gr.HTML`` molecule cards placed inside chat messages.
Errors the user caused are raised as ``gr.Error`` with a specific message; backend failures are logged
and shown as a short notice in the chat, and the app keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from app.backends.base import BackendError, ChatBackend, Delta, SamplingParams
from app.chat.attachments import THINKING_TITLE, InputError, approx_tokens, history_to_messages, prepare_user_turn
from app.config import Limits
from app.ui import rendering


logger = logging.getLogger(__name__)

UPDATE_INTERVAL_S = 0.05  # stream to the browser at most ~20 times a second (full-history re-renders are costly)
ERROR_TITLE = "⚠️ Could not answer"


class SessionRegistry:
    """Cancel events and in-flight counts per browser/client session (the Stop button's target)."""

    def __init__(self, max_per_session: int) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, list[threading.Event]] = {}
        self.max_per_session = max_per_session

    def start(self, session: str) -> threading.Event:
        with self._lock:
            events = self._active.setdefault(session, [])
            if len(events) >= self.max_per_session:
                raise InputError("an answer is still being generated in this session; press Stop or wait for it")
            event = threading.Event()
            events.append(event)
            return event

    def finish(self, session: str, event: threading.Event) -> None:
        event.set()
        with self._lock:
            events = self._active.get(session, [])
            if event in events:
                events.remove(event)
            if not events:
                self._active.pop(session, None)

    def stop(self, session: str) -> int:
        """Cancel every answer of ``session``; returns how many were running."""
        with self._lock:
            events = list(self._active.get(session, []))
        for event in events:
            event.set()
        return len(events)

    def active(self, session: str) -> int:
        with self._lock:
            return len(self._active.get(session, []))


@dataclass
class AnswerState:
    """The answer so far, as the stream builds it."""

    reasoning: str = ""
    content: str = ""
    thinking_started: float | None = None
    thinking_seconds: float | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)  # executed tool calls as chat messages
    usage: dict[str, Any] = field(default_factory=dict)
    stopped: bool = False
    timed_out: bool = False

    @property
    def thinking_done(self) -> bool:
        return self.thinking_seconds is not None

    def as_text(self) -> str:
        """The native Intern-S1 form: reasoning in ``<think>`` tags, then the answer."""
        if not self.reasoning:
            return self.content
        closing = "\n</think>\n\n" if self.thinking_done or self.content else ""
        return f"<think>\n{self.reasoning}{closing}{self.content}"


def make_params(
    thinking: bool, temperature: float, top_p: float, top_k: float, min_p: float, max_new_tokens: float, limits: Limits
) -> SamplingParams:
    """Validated sampling parameters (API callers can send anything)."""
    checks = [
        (0.0 <= temperature <= 2.0, f"temperature must be between 0 and 2, got {temperature}"),
        (0.0 < top_p <= 1.0, f"top_p must be in (0, 1], got {top_p}"),
        (top_k >= 0 and float(top_k).is_integer(), f"top_k must be a whole number ≥ 0, got {top_k}"),
        (0.0 <= min_p <= 1.0, f"min_p must be between 0 and 1, got {min_p}"),
        (1 <= max_new_tokens <= limits.max_new_tokens_cap,
         f"max_new_tokens must be between 1 and {limits.max_new_tokens_cap}, got {max_new_tokens}"),
    ]
    for ok, message in checks:
        if not ok:
            raise InputError(message)
    return SamplingParams(
        temperature=float(temperature),
        top_p=float(top_p),
        top_k=int(top_k),
        min_p=float(min_p),
        max_new_tokens=int(max_new_tokens),
        enable_thinking=bool(thinking),
    )


def check_prompt_budget(messages: list[dict[str, Any]], limits: Limits) -> None:
    text = "".join(
        item.get("text", "") if isinstance(item, dict) else ""
        for message in messages
        for item in (message["content"] if isinstance(message["content"], list) else [{"text": message["content"]}])
    )
    estimate = approx_tokens(text)
    if estimate > limits.max_prompt_tokens:
        raise InputError(
            f"the conversation is about {estimate:,} tokens, over the prompt budget of {limits.max_prompt_tokens:,}; "
            "clear the chat or shorten the message"
        )


def answer_source(
    backend: ChatBackend, messages: list[dict[str, Any]], params: SamplingParams, cancel: threading.Event,
    use_tools: bool = False,
) -> Iterator[Any]:
    """The backend's deltas, or with ``use_tools`` the tool loop's deltas and executed tool steps."""
    if not use_tools:
        return backend.stream_chat(messages, params, cancel=cancel)
    from app.chat.tools import ToolLoop

    return ToolLoop(backend).run(messages, params, cancel=cancel)


def stream_answer(source: Iterator[Any], cancel: threading.Event, limits: Limits) -> Iterator[AnswerState]:
    """Follow a stream of deltas (and tool steps) and yield the growing answer, throttled, ending with the final state."""
    state = AnswerState()
    deadline = time.monotonic() + limits.request_timeout_s
    last_yield = 0.0
    for delta in source:
        now = time.monotonic()
        if not isinstance(delta, Delta):  # an executed tool call (app.chat.tools.ToolStep)
            state.steps.append(delta.as_chat_message())
        elif delta.kind == "reasoning":
            state.thinking_started = state.thinking_started or now
            state.reasoning += delta.text
        elif delta.kind == "content":
            if state.thinking_started and not state.thinking_done:
                state.thinking_seconds = now - state.thinking_started
            state.content += delta.text
        elif delta.kind == "tool_call" and delta.data:
            state.tool_calls.append(delta.data)
        elif delta.kind == "usage" and delta.data:
            state.usage.update(delta.data)
        if now > deadline:
            cancel.set()
            state.timed_out = True
            break
        if cancel.is_set():
            state.stopped = True
            break
        if now - last_yield >= UPDATE_INTERVAL_S:
            last_yield = now
            yield state
    if state.thinking_started and not state.thinking_done:
        state.thinking_seconds = time.monotonic() - state.thinking_started
    state.stopped = state.stopped or cancel.is_set()
    yield state


# ---------------------------------------------------------------- chat in the UI


def user_message(text: str, files: list[str]) -> dict[str, Any]:
    """The chat bubble of a user turn: attachments first, then the (escaped) text."""
    content: list[Any] = [{"path": path} for path in files]
    if text:
        content.append(rendering.sanitize_markdown(text))
    return {"role": "user", "content": content}


def add_user_turn(value: dict[str, Any] | None, history: list[dict[str, Any]], limits: Limits):
    """Validate the textbox value and append it to the chat; clears and locks the textbox."""
    value = value or {}
    text, files = value.get("text") or "", list(value.get("files") or [])
    files = [f["path"] if isinstance(f, dict) else f for f in files]
    try:
        turn = prepare_user_turn(text, files, limits)
    except InputError as error:
        raise gr.Error(str(error), print_exception=False) from error
    for note in turn.notes:
        gr.Info(note)
    extracted = next((item["text"] for item in turn.content if item["type"] == "text"), "")
    history = [*history, user_message(extracted, files)]
    return history, gr.MultimodalTextbox(value=None, interactive=False)


def _assistant_messages(state: AnswerState, cards: list[str]) -> list[Any]:
    messages: list[Any] = []
    if state.reasoning:
        metadata: dict[str, Any] = {"title": THINKING_TITLE, "status": "done" if state.thinking_done else "pending"}
        if state.thinking_seconds is not None:
            metadata["duration"] = round(state.thinking_seconds, 1)
        messages.append({"role": "assistant", "content": rendering.sanitize_markdown(state.reasoning),
                         "metadata": metadata})
    messages += state.steps
    if state.content:
        messages.append({"role": "assistant", "content": rendering.sanitize_markdown(state.content)})
    messages += [{"role": "assistant", "content": gr.HTML(value=card)} for card in cards]
    if state.stopped or state.timed_out:
        reason = "timed out" if state.timed_out else "stopped"
        messages.append({"role": "assistant", "content": f"*(generation {reason})*",
                         "metadata": {"title": f"Generation {reason}", "status": "done"}})
    return messages


class _Watchdog(threading.Timer):
    """Sets the cancel event after the request timeout even if the backend never sends another delta."""

    fired = False

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.fired = True
            self.function()


def _watchdog(cancel: threading.Event, limits: Limits) -> _Watchdog:
    watchdog = _Watchdog(limits.request_timeout_s, cancel.set)
    watchdog.daemon = True
    watchdog.start()
    return watchdog


def failure_message(error: BaseException) -> str:
    """A short, traceback-free message for a failed answer (the details go to the server log)."""
    if isinstance(error, BackendError):
        logger.warning("backend error: %s", error)
        return str(error)
    logger.error("answer failed", exc_info=error)
    if "OutOfMemory" in type(error).__name__ or "out of memory" in str(error).lower():
        return "the model ran out of memory while answering; try a shorter message, fewer images or fewer new tokens"
    return f"the model failed while answering ({type(error).__name__}); see the server log"


def _error_message(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text, "metadata": {"title": ERROR_TITLE, "status": "done"}}


@dataclass
class ChatContext:
    """What the chat callbacks share for one app: the backend, the limits and the session registry."""

    backend: ChatBackend
    limits: Limits
    sessions: SessionRegistry


def respond(
    ctx: ChatContext,
    history: list[dict[str, Any]],
    system_prompt: str,
    params: SamplingParams,
    session: str,
    use_tools: bool = False,
) -> Iterator[list[dict[str, Any]]]:
    """Stream the assistant's answer to the last user turn of ``history`` (thinking, answer, molecule cards)."""
    try:
        messages = history_to_messages(history, system_prompt)
        check_prompt_budget(messages, ctx.limits)
        cancel = ctx.sessions.start(session)
    except InputError as error:
        yield [*history, _error_message(str(error))]
        return
    state = AnswerState()
    watchdog = _watchdog(cancel, ctx.limits)
    try:
        source = answer_source(ctx.backend, messages, params, cancel, use_tools)
        for state in stream_answer(source, cancel, ctx.limits):
            yield [*history, *_assistant_messages(state, [])]
        state.timed_out = state.timed_out or watchdog.fired
        cards = [item.html for item in rendering.science_items(state.content)] if state.content else []
        yield [*history, *_assistant_messages(state, cards)]
    except Exception as error:  # noqa: BLE001 - the boundary: log it, keep the partial answer, say what happened
        yield [*history, *_assistant_messages(state, []), _error_message(failure_message(error))]
    finally:
        # Also reached when Gradio closes this generator (Stop, tab closed): the worker must stop too.
        watchdog.cancel()
        ctx.sessions.finish(session, cancel)


def stop(ctx: ChatContext, session: str) -> None:
    ctx.sessions.stop(session)


def history_before(history: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """The chat up to and including the user turn at or before ``index`` (for retry)."""
    for position in range(min(index, len(history) - 1), -1, -1):
        if history[position]["role"] == "user":
            return history[: position + 1]
    return []


def edit_history(history: list[dict[str, Any]], index: int, new_text: str) -> list[dict[str, Any]]:
    """Replace the text of the user turn at ``index`` and drop everything after it."""
    if not 0 <= index < len(history) or history[index]["role"] != "user":
        raise gr.Error("only your own messages can be edited", print_exception=False)
    old = history[index]
    files = [item for item in (old["content"] if isinstance(old["content"], list) else [old["content"]])
             if isinstance(item, dict) and item.get("type") == "file"]
    edited = {"role": "user", "content": [*files, rendering.sanitize_markdown(new_text)]}
    return [*history[:index], edited]


# ---------------------------------------------------------------- the /chat API


def chat_api(
    ctx: ChatContext,
    message: str | None,
    files: list[str] | None,
    thinking: bool,
    sampling: tuple[float, float, float, float, float],
    system_prompt: str | None,
    session: str,
    use_tools: bool = False,
) -> Iterator[str]:
    """One-turn chat for API clients: yields the growing answer (reasoning first, in ``<think>`` tags)."""
    try:
        params = make_params(thinking, *sampling, ctx.limits)
        turn = prepare_user_turn(message or "", [f if isinstance(f, str) else f["path"] for f in files or []], ctx.limits)
        system_prompt = (system_prompt or "").strip()
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
            {"role": "user", "content": turn.content}
        ]
        check_prompt_budget(messages, ctx.limits)
        cancel = ctx.sessions.start(session)
    except InputError as error:
        raise gr.Error(str(error), print_exception=False) from error
    watchdog = _watchdog(cancel, ctx.limits)
    try:
        for state in stream_answer(answer_source(ctx.backend, messages, params, cancel, use_tools), cancel, ctx.limits):
            yield state.as_text()
    except Exception as error:  # noqa: BLE001 - the boundary: a short message, never a traceback
        raise gr.Error(failure_message(error), print_exception=False) from error
    finally:
        watchdog.cancel()
        ctx.sessions.finish(session, cancel)


# ---------------------------------------------------------------- science panels


def check_smiles(smiles: str) -> dict[str, Any]:
    """Validate a SMILES: ``{"ok", "canonical_smiles", "formula", "error", "descriptors"}``."""
    import science_tools

    report = science_tools.check_smiles(smiles or "")
    return {
        "ok": report.ok,
        "input": report.input,
        "canonical_smiles": report.canonical_smiles,
        "formula": report.formula,
        "error": report.error,
        "error_position": report.error_position,
        "descriptors": dict(report.descriptors),
    }


def check_sequence(sequence: str) -> dict[str, Any]:
    """Validate a protein / DNA / RNA sequence (FASTA or bare): ``{"ok", "kind", "sequence", "error", "properties"}``."""
    import science_tools

    report = science_tools.check_sequence(sequence or "")
    return {
        "ok": report.ok,
        "kind": report.kind,
        "sequence": report.sequence,
        "error": report.error,
        "properties": dict(report.properties),
        "warnings": list(report.warnings),
    }


def render_molecule(smiles: str) -> dict[str, Any]:
    """RDKit 2D drawing of a SMILES: ``{"ok", "canonical_smiles", "formula", "svg", "error"}``."""
    import science_tools

    report = science_tools.check_smiles(smiles or "")
    if not report.ok:
        return {"ok": False, "canonical_smiles": None, "formula": None, "svg": None, "error": report.error}
    svg = science_tools.draw_molecule_svg(report.canonical_smiles)
    return {"ok": True, "canonical_smiles": report.canonical_smiles, "formula": report.formula, "svg": svg,
            "error": None}


def smiles_panel(smiles: str) -> tuple[str, str, list[list[str]]]:
    """Live validation for the SMILES box: (status markdown, picture HTML, descriptor rows)."""
    if not (smiles or "").strip():
        return "Type or paste a SMILES string.", "", []
    result = check_smiles(smiles)
    if not result["ok"]:
        return f"**Invalid SMILES:** {rendering.sanitize_markdown(result['error'] or 'unknown error')}", "", []
    card = rendering.molecule_card(result["canonical_smiles"]) or ""
    status = f"**Valid.** Canonical: `{result['canonical_smiles']}` · {result['formula']}"
    return status, card, rendering.descriptor_rows(result["descriptors"])


def sequence_panel(sequence: str) -> tuple[str, str]:
    """Live validation for the protein/DNA box: (status markdown, card HTML)."""
    if not (sequence or "").strip():
        return "Paste a protein or DNA sequence (FASTA or bare letters).", ""
    result = check_sequence(sequence)
    if not result["ok"]:
        return f"**Invalid sequence:** {rendering.sanitize_markdown(result['error'] or 'unknown error')}", ""
    note = (
        "The tokenizer's FASTA sub-vocabulary triggers automatically on runs of ≥ 27 capital letters."
        if result["kind"] == "protein"
        else ""
    )
    return f"**Valid** {result['kind']}, {len(result['sequence'])} residues. {note}", rendering.sequence_card(sequence) or ""


def insert_molecule(smiles: str, box: dict[str, Any] | None) -> dict[str, Any]:
    """Append the checked molecule to the chat box, wrapped in ``<SMILES>`` tags for the SMILES sub-vocabulary."""
    result = check_smiles(smiles)
    if not result["ok"]:
        raise gr.Error(f"not inserted: {result['error']}", print_exception=False)
    return _append_to_box(box, f"<SMILES>{result['canonical_smiles']}</SMILES>")


def insert_sequence(sequence: str, box: dict[str, Any] | None) -> dict[str, Any]:
    """Append the checked sequence as plain capitals: Intern-S1 has no protein tag, auto-detection picks it up."""
    result = check_sequence(sequence)
    if not result["ok"]:
        raise gr.Error(f"not inserted: {result['error']}", print_exception=False)
    return _append_to_box(box, result["sequence"])


def _append_to_box(box: dict[str, Any] | None, text: str) -> dict[str, Any]:
    box = box or {}
    current = (box.get("text") or "").rstrip()
    prefix = current + "\n" if current else "Tell me about this molecule:\n"
    return {"text": prefix + text, "files": list(box.get("files") or [])}


def read_upload_text(path: str | None) -> str:
    """Text of a small uploaded .smi/.sdf/.mol/.fasta file for the science panels."""
    if not path:
        return ""
    from pathlib import Path

    from app.chat.attachments import smiles_from_molecule_file

    suffix = Path(path).suffix.lower()
    if suffix in (".sdf", ".mol", ".smi"):
        try:
            return smiles_from_molecule_file(path)[0]
        except InputError as error:
            raise gr.Error(str(error), print_exception=False) from error
    return Path(path).read_text(encoding="utf-8", errors="replace")[:200_000]


def molecule_3d(smiles: str) -> str:
    """A MOL block with 3D coordinates (ETKDG + force field) for the 3D viewer."""
    import science_tools

    result = check_smiles(smiles)
    if not result["ok"]:
        raise gr.Error(f"no 3D view: {result['error']}", print_exception=False)
    block = science_tools.conformer_molblock(result["canonical_smiles"])
    if not block:
        raise gr.Error("RDKit could not generate a 3D conformer for this molecule", print_exception=False)
    return block


def molecules_in_chat(history: list[dict[str, Any]]) -> gr.Dropdown:
    """Every valid molecule the assistant mentioned, newest first, for the panel's 3D / descriptor view."""
    import html

    found: list[str] = []
    for message in reversed(history):
        if message["role"] != "assistant" or (message.get("metadata") or {}).get("title"):
            continue
        content = message["content"]
        items = content if isinstance(content, list) else [content]
        text = "".join(html.unescape(i if isinstance(i, str) else i.get("text", "")) for i in items
                       if isinstance(i, str) or (isinstance(i, dict) and i.get("type") == "text"))
        for item in rendering.science_items(text):
            if item.kind == "smiles" and item.text not in found:
                found.append(item.text)
    return gr.Dropdown(choices=found, value=None, interactive=bool(found))
