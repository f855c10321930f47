"""The streaming engine: one backend answer, grown delta by delta, ended in exactly one state.

:meth:`ChatEngine.answer` serves both the page and the ``/chat`` API. It checks the prompt budget and the session's
quota, streams the backend (or the tool loop) into an :class:`~app.chat.history.Answer`, yields it at most
~20 times a second, and always ends it with a :class:`~app.chat.history.TurnEnd`:

* ``timed_out`` — the request time limit passed (a watchdog cancels even a backend that never sends a token);
* ``stopped`` — the session's cancel event was set (Stop), or the caller closed the stream (a tab or client left,
  an API client's ``job.cancel()``). The backend is read on a pump thread (:mod:`app.chat.pump`) and the stream yields
  at once and then at least every 0.2 s, so a close lands at once even before the first token or during a prefill;
* ``failed`` — the backend raised; the reason is a short message, the details go to the server log;
* ``cut_off`` — the backend's final usage record says ``finish_reason == "length"``;
* ``empty`` — the model returned no answer text; ``answered`` otherwise.

A reply whose thinking never closed (the backend's usage says ``thinking_unclosed``) becomes the answer text, so it
is shown and ends "answered" (the page adds a note).

Nothing here imports Gradio: the UI and API handlers (:mod:`app.ui.handlers`) turn the result into page updates,
``/chat`` text or a ``gr.Error``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from app.backends.base import BackendError, ChatBackend, Delta, SamplingParams
from app.chat.attachments import InputError, approx_tokens
from app.chat.history import Answer, ToolStep, TurnEnd, find_science
from app.chat.pump import pumped
from app.chat.sessions import SessionRegistry
from app.chat.tools import ToolLoop
from app.config import Limits


__all__ = ["UPDATE_INTERVAL_S", "ChatEngine", "check_prompt_budget", "failure_message", "make_params"]

logger = logging.getLogger(__name__)

UPDATE_INTERVAL_S = 0.05  # stream to the browser at most ~20 times a second (full-history re-renders are costly)


def _number(name: str, value: Any) -> float:
    """``value`` as a float, or an InputError naming the parameter (API callers can send any JSON value)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{name} must be true or false, got {value!r} ({type(value).__name__})")
    return value


def make_params(
    thinking: bool, temperature: float, top_p: float, top_k: float, min_p: float, max_new_tokens: float, limits: Limits
) -> SamplingParams:
    """Validated sampling parameters (API callers can send anything).

    Raises:
        InputError: naming the parameter, its type or allowed range, and the value received.
    """
    enable_thinking = _flag("thinking", thinking)
    temperature, top_p, top_k, min_p, max_new_tokens = (
        _number(name, value)
        for name, value in (("temperature", temperature), ("top_p", top_p), ("top_k", top_k), ("min_p", min_p),
                            ("max_new_tokens", max_new_tokens))
    )  # fmt: skip
    checks = [
        (0.0 <= temperature <= 2.0, f"temperature must be between 0 and 2, got {temperature}"),
        (0.0 < top_p <= 1.0, f"top_p must be in (0, 1], got {top_p}"),
        (top_k >= 0 and top_k.is_integer(), f"top_k must be a whole number ≥ 0, got {top_k}"),
        (0.0 <= min_p <= 1.0, f"min_p must be between 0 and 1, got {min_p}"),
        (1 <= max_new_tokens <= limits.max_new_tokens_cap and max_new_tokens.is_integer(),
         f"max_new_tokens must be a whole number between 1 and {limits.max_new_tokens_cap}, got {max_new_tokens}"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise InputError(message)
    return SamplingParams(
        temperature=temperature,
        top_p=top_p,
        top_k=int(top_k),
        min_p=min_p,
        max_new_tokens=int(max_new_tokens),
        enable_thinking=enable_thinking,
    )


def _message_text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(item.get("text", "") for item in content if isinstance(item, dict))


def check_prompt_budget(messages: list[dict[str, Any]], limits: Limits) -> None:
    """Refuse a conversation whose text alone is estimated over the prompt budget (before the backend runs).

    Raises:
        InputError: with the estimate and the budget.
    """
    estimate = approx_tokens("".join(_message_text(message) for message in messages))
    if estimate > limits.max_prompt_tokens:
        raise InputError(
            f"the conversation is about {estimate:,} tokens, over the prompt budget of {limits.max_prompt_tokens:,}; "
            "clear the chat or shorten the message"
        )


def failure_message(error: BaseException) -> str:
    """A short, traceback-free message for a failed answer (the details go to the server log)."""
    if isinstance(error, BackendError):
        logger.warning("backend error: %s", error)
        return str(error)
    logger.error("answer failed", exc_info=error)
    if "OutOfMemory" in type(error).__name__ or "out of memory" in str(error).lower():
        return "the model ran out of memory while answering; try a shorter message, fewer images or fewer new tokens"
    return f"the model failed while answering ({type(error).__name__}); see the server log"


class _Watchdog(threading.Timer):
    """Sets the cancel event after the request timeout even if the backend never sends another delta."""

    fired = False

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.fired = True
            self.function()


class _Progress:
    """What the stream loop tracks besides the answer: the deadline and the update pace (the thinking clock is the
    answer's own, so Stop's handler can stop it too)."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.timed_out = False
        self.last_update = 0.0

    def due(self, now: float) -> bool:
        """True when enough time passed since the last page update to send another."""
        if now - self.last_update < UPDATE_INTERVAL_S:
            return False
        self.last_update = now
        return True


def _apply(answer: Answer, item: Delta | ToolStep, now: float) -> None:
    """Add one delta (or executed tool step) to the answer."""
    if isinstance(item, ToolStep):
        answer.steps.append(item)
    elif item.kind == "reasoning":
        answer.start_thinking(now)
        answer.reasoning += item.text
    elif item.kind == "content":
        answer.close_thinking(now)
        answer.content += item.text
    elif item.kind == "usage" and item.data:
        answer.usage.update(item.data)


def _ending(answer: Answer, cancel: threading.Event, timed_out: bool, params: SamplingParams) -> TurnEnd:
    if timed_out:
        return TurnEnd("timed_out")
    if cancel.is_set():
        return TurnEnd("stopped")
    if answer.usage.get("finish_reason") == "length":
        return TurnEnd("cut_off", tokens=int(answer.usage.get("completion_tokens") or params.max_new_tokens))
    if not answer.content.strip():
        return TurnEnd("empty")
    return TurnEnd("answered")


class ChatEngine:
    """Answers for one app: the backend, the limits and the session registry shared by the UI and the API.

    Args:
        backend: where answers come from.
        limits: the budgets (prompt tokens, request time, answers per session).
        sessions: the registry Stop acts on (default: a new one sized by ``limits.max_requests_per_session``).
    """

    def __init__(self, backend: ChatBackend, limits: Limits, sessions: SessionRegistry | None = None) -> None:
        self.backend = backend
        self.limits = limits
        self.sessions = sessions or SessionRegistry(limits.max_requests_per_session)

    def stop(self, session: str) -> int:
        """Cancel every answer of ``session``; returns how many were running."""
        return self.sessions.stop(session)

    def cancel_request(self, request: str) -> bool:
        """Cancel the answer started with ``request=`` (or, when it has not started yet, make it start cancelled)."""
        return self.sessions.cancel_request(request)

    def answer(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        session: str,
        *,
        use_tools: bool = False,
        answer: Answer | None = None,
        request: str | None = None,
    ) -> Iterator[Answer]:
        """Stream the answer to ``messages``; yields the same growing :class:`Answer`, the last time ended.

        Args:
            messages: backend messages (:meth:`History.to_messages`).
            params: validated sampling parameters (:func:`make_params`).
            session: the browser or client session (Stop cancels all of a session's answers).
            use_tools: let the model call the chemistry tools (:class:`~app.chat.tools.ToolLoop`).
            answer: the object to grow (the page passes the one its history holds, so Stop's handler sees it).
            request: an id for :meth:`cancel_request` (the page and /chat pass Gradio's event id).

        Raises:
            InputError: before anything streams, when the prompt budget or the session's quota is exceeded.
                Backend failures are never raised: they end the answer as "failed".
        """
        check_prompt_budget(messages, self.limits)
        cancel = self.sessions.start(session, request)
        answer = answer if answer is not None else Answer()
        watchdog = _Watchdog(self.limits.request_timeout_s, cancel.set)
        watchdog.daemon = True
        watchdog.start()
        progress = _Progress(self.limits.request_timeout_s)
        ending: TurnEnd | None = None
        try:
            yield answer  # at once, before any work: from here on the caller can close this stream (Stop, job.cancel)
            if not cancel.is_set():  # a cancel may have come first; then the backend is never asked
                source = pumped(self._source(messages, params, cancel, use_tools), cancel)
                for _ in self._follow(source, answer, cancel, progress):
                    yield answer
            answer.settle_unclosed_thinking()  # before the ending: such a reply is answered, not empty
            ending = _ending(answer, cancel, progress.timed_out or watchdog.fired, params)
        except Exception as error:  # noqa: BLE001 - the boundary: log it, keep the partial answer, say what happened
            ending = TurnEnd("failed", reason=failure_message(error))
        finally:
            # Also reached when the caller closes this generator (Stop, a closed tab): the worker must stop too.
            watchdog.cancel()
            self.sessions.finish(session, cancel)
            answer.close_thinking(time.monotonic())
            answer.finish(ending or TurnEnd("stopped"))
        answer.found = find_science(answer.content) if answer.content else []
        yield answer

    def _source(
        self, messages: list[dict[str, Any]], params: SamplingParams, cancel: threading.Event, use_tools: bool
    ) -> Iterator[Delta | ToolStep]:
        if use_tools:
            return ToolLoop(self.backend).run(messages, params, cancel=cancel)
        return self.backend.stream_chat(messages, params, cancel=cancel)

    @staticmethod
    def _follow(
        source: Iterator[Delta | ToolStep | None], answer: Answer, cancel: threading.Event, progress: _Progress
    ) -> Iterator[None]:
        """Apply the source's deltas to ``answer``; yields whenever the page should be updated.

        ``None`` items are the pump's heartbeats (the backend is silent): they are yielded too, so the caller gets
        control back — and can close this stream — however long the backend takes to its first token.
        """
        for item in source:
            now = time.monotonic()
            if item is not None:
                _apply(answer, item, now)
            if now > progress.deadline:
                cancel.set()
                progress.timed_out = True
                break
            if cancel.is_set():
                break
            if item is None or progress.due(now):
                yield
