"""The one backend interface every chat backend implements and the UI talks to.

Messages are OpenAI/Gradio-style dicts, so the UI never converts per backend::

    {"role": "system" | "user" | "assistant" | "environment",
     "content": str | [{"type": "text", "text": ...},
                       {"type": "image", "path": ...},
                       {"type": "video", "path": ...}],
     # assistant turns may also carry their thinking, re-rendered as <think>…</think> by the template:
     "reasoning_content": str}

A backend turns a conversation into a stream of :class:`Delta` objects: reasoning text, answer text,
tool calls and a final usage record. Cancellation is cooperative: the caller sets ``cancel`` and the
backend must stop producing (and free its worker) within a second.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal


DeltaKind = Literal["reasoning", "content", "tool_call", "usage"]


@dataclass(frozen=True)
class SamplingParams:
    """Generation settings; defaults are the Intern-S1-mini model card's."""

    temperature: float = 0.8
    top_p: float = 1.0
    top_k: int = 50
    min_p: float = 0.0
    max_new_tokens: int = 1024
    enable_thinking: bool = True
    seed: int | None = None  # sampling seed for reproducible answers; None draws a fresh one

    @property
    def greedy(self) -> bool:
        """A temperature of 0 means greedy decoding."""
        return self.temperature <= 0.0

    def with_updates(self, **changes: Any) -> SamplingParams:
        return replace(self, **changes)


@dataclass(frozen=True)
class Delta:
    """One streamed piece of an answer.

    ``kind`` is "reasoning" or "content" (``text`` holds the new text), "tool_call" (``data`` holds
    ``{"name": str, "parameters": dict}``) or "usage" (``data`` holds token counts). The final usage delta may
    carry ``"finish_reason"``: "stop", "length" (the new-token limit cut the answer) or "tool_calls".
    """

    kind: DeltaKind
    text: str = ""
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class BackendInfo:
    """What the UI shows about a backend."""

    kind: str  # "local" or "openai"
    model_id: str
    description: str = ""
    is_demo_model: bool = False
    context_length: int | None = None
    default_sampling: SamplingParams = field(default_factory=SamplingParams)


class BackendError(RuntimeError):
    """A failure the user should see as a short message (server down, out of memory, bad input)."""


class BackendInputError(BackendError):
    """The request itself cannot be answered as sent (prompt too long, unreadable input): retrying will not help."""


class ChatBackend(ABC):
    """A source of streamed chat answers."""

    info: BackendInfo

    @abstractmethod
    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        """Yield the answer to ``messages`` piece by piece until done or ``cancel`` is set.

        Raises:
            BackendError: with a message fit for the user when the answer cannot be produced.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing to release
        """Release held resources (threads, connections, GPU memory)."""
