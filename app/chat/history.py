"""The one history model: what each user typed and attached, and how each answer went, stored raw.

A conversation is a :class:`History` of :class:`Turn` objects. A turn keeps the user's text exactly as typed
(never HTML-escaped: escaping happens only when the page renders it, in :mod:`app.ui.rendering`), the uploads
with their original names (:class:`~app.chat.attachments.Attachment`) and the :class:`Answer`: its text, its
thinking and how long it took, the tool steps, the science found in it and how it ended (:class:`TurnEnd`).

Everything else reads this model: the backend messages (:meth:`History.to_messages`), the chat on the page,
retry / edit / undo, and export / import (:mod:`app.chat.transcript`). Nothing here imports Gradio.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import science_tools
from app.chat.attachments import Attachment, user_content


__all__ = [
    "END_STATES",
    "MAX_FOUND_PER_ANSWER",
    "Answer",
    "AnswerSettings",
    "EndState",
    "Found",
    "History",
    "ToolStep",
    "Turn",
    "TurnEnd",
    "find_science",
    "without_end_marker",
]

EndState = Literal["answered", "empty", "stopped", "cut_off", "failed", "timed_out"]
END_STATES: tuple[str, ...] = ("answered", "empty", "stopped", "cut_off", "failed", "timed_out")
MAX_FOUND_PER_ANSWER = 8  # molecules / reactions / sequences kept per answer (each one becomes a card)
_SCIENCE_KINDS = ("smiles", "reaction", "protein", "dna", "rna")


@dataclass(frozen=True)
class TurnEnd:
    """How an answer ended: exactly one of :data:`END_STATES`.

    Attributes:
        state: "answered", "empty" (no answer text), "stopped" (Stop, or the client left), "cut_off" (the new-token
            limit was reached), "failed" (``reason`` says why) or "timed_out" (the request time limit).
        tokens: For "cut_off": the number of new tokens at which the answer was cut (None when unknown).
        reason: For "failed": a short message for the user.
    """

    state: EndState
    tokens: int | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.state not in END_STATES:
            raise ValueError(f"unknown end state {self.state!r}; expected one of {', '.join(END_STATES)}")

    @property
    def marker(self) -> str:
        """The words shown after the answer (and in the ``/chat`` text); "" for a normal answer."""
        if self.state == "cut_off":
            return f"(cut off at {self.tokens} tokens)" if self.tokens else "(cut off at the new-token limit)"
        if self.state == "failed":
            return f"(failed: {self.reason or 'unknown error'})"
        return _MARKERS[self.state]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"state": self.state}
        if self.tokens is not None:
            data["tokens"] = self.tokens
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnEnd:
        tokens = data.get("tokens")
        return cls(state=data["state"], tokens=int(tokens) if tokens is not None else None, reason=data.get("reason"))


_MARKERS = {
    "answered": "",
    "empty": "(the model returned no text)",
    "stopped": "(stopped)",
    "timed_out": "(generation timed out)",
}


# The end marker as Answer.text_with_marker appends it: the whole reply, or after a blank line (a failure raises in
# /chat instead). An answer that itself ends with a blank line and such words cannot be told apart (a text protocol).
_END_MARKER = re.compile(
    r"(?:\A|\n\n)\((?:the model returned no text|stopped|cut off at (?:\d+ tokens|the new-token limit)"
    r"|generation timed out)\)\Z"
)


def without_end_marker(text: str) -> str:
    """A ``/chat`` reply without the end marker the app appends ("(cut off at 64 tokens)", …): the model's text."""
    return _END_MARKER.sub("", text)


@dataclass(frozen=True)
class Found:
    """A molecule, reaction or sequence found in an answer (validated by ``science_tools.find_spans``).

    ``origin`` says where a structure the answer did not write out came from, for its card: a name the model
    tagged ``<IUPAC>`` gives a molecule "from the name 2-acetyloxybenzoic acid, OPSIN" (:mod:`app.chat.names`).
    """

    kind: str  # "smiles", "reaction", "protein", "dna" or "rna"
    text: str
    origin: str = ""


def _identity(kind: str, text: str) -> str:
    """What makes two finds the same: the canonical SMILES of a molecule or reaction ("OCC" is "CCO"), else the text."""
    if kind == "smiles":
        report = science_tools.check_smiles(text, descriptors=False)
    elif kind == "reaction":
        report = science_tools.check_reaction(text)
    else:
        return text.upper()
    return (report.canonical_smiles or text) if report.ok else text


def find_science(text: str, limit: int = MAX_FOUND_PER_ANSWER) -> list[Found]:
    """The molecules, reactions and sequences in ``text`` (tagged or not), each once, at most ``limit``.

    "Once" means once per structure: "CCO" and "OCC" are one molecule, a reaction written twice (tagged and
    untagged) is one reaction; the first spelling is kept.
    """
    found: list[Found] = []
    seen: set[tuple[str, str]] = set()
    for span in science_tools.find_spans(text):
        if span.kind not in _SCIENCE_KINDS:
            continue
        identity = (span.kind, _identity(span.kind, span.text))
        if identity not in seen:
            seen.add(identity)
            found.append(Found(kind=span.kind, text=span.text))
        if len(found) == limit:
            break
    return found


@dataclass(frozen=True)
class ToolStep:
    """One tool call the model made during an answer (run, refused, failed or timed out).

    Attributes:
        name: The tool's name.
        parameters: The arguments the model gave.
        ok: True when the tool ran and returned ``result``.
        result: The tool's JSON result as the model reads it.
        error: Why the call was refused or failed (the model reads it too).
        duration_s: How long the call took.
        svg: A picture for the user (``render_molecule``); never sent to the model.
        index: Position of the call in its answer.
    """

    name: str
    parameters: dict[str, Any]
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0
    svg: str | None = None
    index: int = 0

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "parameters", "ok", "result", "error", "duration_s", "index")

    def model_view(self) -> dict[str, Any]:
        """What the model reads in the ``environment`` turn."""
        return self.result if self.ok else {"error": self.error}

    def environment_message(self) -> dict[str, Any]:
        return {"role": "environment", "name": self.name, "content": json.dumps(self.model_view(), ensure_ascii=False)}

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}


@dataclass(frozen=True)
class AnswerSettings:
    """What an answer was generated with, kept with it so an export (and a re-export after import) can say.

    Attributes:
        model: The model id the backend reported.
        backend: The backend kind ("local", "openai", …).
        system_prompt: The system prompt sent ("" for the model's default).
        sampling: The page's answer settings: thinking, temperature, top_p, top_k, min_p, max_new_tokens, tools.
    """

    model: str = ""
    backend: str = ""
    system_prompt: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "backend": self.backend, "system_prompt": self.system_prompt,
                "sampling": dict(self.sampling)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerSettings:
        sampling = data.get("sampling") or {}
        return cls(
            model=str(data.get("model") or ""),
            backend=str(data.get("backend") or ""),
            system_prompt=str(data.get("system_prompt") or ""),
            sampling={str(key): value for key, value in sampling.items() if isinstance(value, bool | int | float)},
        )


@dataclass
class Answer:
    """The assistant's side of a turn; the engine grows it while streaming and sets :attr:`end` last.

    Attributes:
        content: The answer text as the model wrote it.
        reasoning: The thinking text (``reasoning_content``).
        thinking_seconds: How long the thinking took (None while it runs, or when there was none).
        steps: Tool calls made during the answer, in order.
        usage: The backend's usage record (token counts, ``finish_reason``).
        found: Molecules, reactions and sequences in ``content`` (set when the answer ends).
        end: How the answer ended; None while it is still being generated.
        settings: What it was generated with (model, backend, system prompt, sampling); None when unknown.
    """

    content: str = ""
    reasoning: str = ""
    thinking_seconds: float | None = None
    steps: list[ToolStep] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    found: list[Found] = field(default_factory=list)
    end: TurnEnd | None = None
    settings: AnswerSettings | None = None
    thinking_started: float | None = field(default=None, repr=False, compare=False)  # time.monotonic() of the start

    @property
    def done(self) -> bool:
        return self.end is not None

    @property
    def thinking_done(self) -> bool:
        return self.thinking_seconds is not None

    @property
    def thinking_unclosed(self) -> bool:
        """True when the model never closed its thinking and the reply is shown as the answer instead."""
        return bool(self.usage.get("thinking_unclosed"))

    def start_thinking(self, now: float) -> None:
        """Note when the first thinking text arrived (the clock :meth:`close_thinking` stops)."""
        if self.thinking_started is None:
            self.thinking_started = now

    def close_thinking(self, now: float) -> None:
        """Record how long the thinking took, once: when the answer text starts, the stream ends, or Stop."""
        if self.thinking_started is not None and not self.thinking_done:
            self.thinking_seconds = now - self.thinking_started

    def settle_unclosed_thinking(self) -> None:
        """A reply whose thinking never closed is the answer: move it there, once, and drop the thinking block.

        The backend says so with ``usage["thinking_unclosed"]``; a remote backend may already have sent the text
        again as answer text, the local one has not.
        """
        if not self.thinking_unclosed or not self.reasoning:
            return
        if not self.content.strip():
            self.content = self.reasoning
        self.reasoning = ""
        self.thinking_seconds = self.thinking_started = None

    def finish(self, end: TurnEnd) -> bool:
        """Set how the answer ended, unless something already did (Stop's handler and the stream may race).

        Returns:
            True when ``end`` was recorded.
        """
        if self.end is not None:
            return False
        self.end = end
        return True

    def as_text(self) -> str:
        """The native Intern-S1 form: reasoning in ``<think>`` tags, then the answer."""
        if not self.reasoning:
            return self.content
        closing = "\n</think>\n\n" if self.thinking_done or self.content else ""
        return f"<think>\n{self.reasoning}{closing}{self.content}"

    def text_with_marker(self) -> str:
        """:meth:`as_text` followed by the end marker ("(stopped)", "(cut off at N tokens)", …) once it ended."""
        text = self.as_text()
        marker = self.end.marker if self.end is not None else ""
        if not marker:
            return text
        return f"{text}\n\n{marker}" if text else marker


@dataclass
class Turn:
    """One exchange: the user's text (raw) and attachments, and the answer (None until answering starts)."""

    text: str
    attachments: list[Attachment] = field(default_factory=list)
    answer: Answer | None = None

    def fresh(self, text: str | None = None) -> Turn:
        """The same question (or ``text`` with the same attachments) without an answer: retry and edit."""
        return Turn(text=self.text if text is None else text, attachments=list(self.attachments))


@dataclass
class History:
    """A conversation, oldest turn first. Operations that rewrite it return a new History."""

    turns: list[Turn] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.turns)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def with_turn(self, turn: Turn) -> History:
        return History([*self.turns, turn])

    def before(self, index: int) -> History:
        """The turns before turn ``index`` (undo)."""
        return History(self.turns[:index])

    def retried(self, index: int) -> History:
        """Turn ``index`` asked again: later turns dropped, its answer cleared."""
        self._check_index(index)
        return History([*self.turns[:index], self.turns[index].fresh()])

    def edited(self, index: int, text: str) -> History:
        """Turn ``index`` with new text (its attachments kept), later turns dropped, ready to answer."""
        self._check_index(index)
        return History([*self.turns[:index], self.turns[index].fresh(text)])

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.turns):
            raise IndexError(f"turn {index} does not exist; the conversation has {len(self.turns)} turns")

    def to_messages(self, system_prompt: str | None = "") -> list[dict[str, Any]]:
        """Backend messages (see :mod:`app.backends.base`): the system prompt, then each turn.

        An answer becomes an assistant message with its thinking as ``reasoning_content``; an answer without text
        (empty, or stopped / failed before any) is left out. Cards, markers and tool steps are for the page only.
        """
        system_prompt = (system_prompt or "").strip()
        messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
        for turn in self.turns:
            messages.append({"role": "user", "content": user_content(turn.text, turn.attachments)})
            answer = turn.answer
            if answer is None or not answer.content:
                continue
            message: dict[str, Any] = {"role": "assistant", "content": answer.content}
            if answer.reasoning:
                message["reasoning_content"] = answer.reasoning
            messages.append(message)
        return messages

    def molecules(self) -> list[str]:
        """Every molecule and reaction (SMILES) found in the answers, newest first, each once."""
        seen: list[str] = []
        for turn in reversed(self.turns):
            for item in turn.answer.found if turn.answer else []:
                if item.kind in ("smiles", "reaction") and item.text not in seen:
                    seen.append(item.text)
        return seen
