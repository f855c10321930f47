"""The chat's UI and API handlers: thin wrappers that turn Gradio events into engine calls and page updates.

The page keeps the conversation as a :class:`~app.chat.history.History` in ``gr.State`` (the source of truth) and
derives the Chatbot's value from it on every update (:func:`~app.ui.rendering.to_chatbot`); retry, edit and undo
map the Chatbot's message index back to a turn. The ``/chat`` endpoint and the page share one engine
(:class:`~app.chat.engine.ChatEngine`): the same session registry, Stop, watchdog and concurrency group.
``gr.Error`` / ``gr.Info`` are raised here and nowhere below.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import gradio as gr

from app.backends.base import SamplingParams
from app.chat.attachments import InputError, check_turn_text, prepare_user_turn
from app.chat.engine import ChatEngine, make_params
from app.chat.errors import text_argument
from app.chat.history import Answer, History, Turn, TurnEnd
from app.chat.transcript import ConversationImportError, from_json, write_exports
from app.config import Limits
from app.ui.rendering import render_turn, to_chatbot, turn_at


__all__ = ["ChatHandlers", "Settings", "api_errors", "cache_folder", "session_of"]

logger = logging.getLogger(__name__)

ChatUpdate = tuple[list[dict[str, Any]], History]
T = TypeVar("T")


class Settings(NamedTuple):
    """The answer settings, in the order the page's controls pass them to :meth:`ChatHandlers.respond`."""

    thinking: bool
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    max_new_tokens: int
    tools: bool

    def params(self, limits: Limits) -> SamplingParams:
        """Validated sampling parameters (raises ``InputError`` naming a bad value or type)."""
        if not isinstance(self.tools, bool):
            raise InputError(f"tools must be true or false, got {self.tools!r} ({type(self.tools).__name__})")
        return make_params(self.thinking, self.temperature, self.top_p, self.top_k, self.min_p, self.max_new_tokens,
                           limits)  # fmt: skip


def session_of(request: gr.Request | None) -> str:
    """The browser tab's or API client's session id (Stop cancels that session's answers)."""
    return getattr(request, "session_hash", None) or "anonymous"


def event_of() -> str | None:
    """Gradio's id of the event being handled (what a client's cancel names), inside a handler; else None."""
    from gradio.context import LocalContext

    return LocalContext.event_id.get(None)


def _user_error(error: Exception) -> gr.Error:
    return gr.Error(str(error), print_exception=False)


def api_errors(function: Callable[..., T]) -> Callable[..., T]:
    """An API endpoint whose wrong-typed arguments (``TypeError`` / ``ValueError``) reach the client as its message.

    Gradio shows a handler's own exception text only for ``gr.Error``; anything else becomes its generic "verbose
    error reporting" text. The wrapper keeps the function's name, signature and docstring (the API and MCP schemas).
    """

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError) as error:
            raise _user_error(error) from error

    return checked


def cache_folder(purpose: str) -> Path:
    """A new folder name inside Gradio's cache for files the page hands out (exports, imported attachments).

    Gradio serves files from its cache as they are and tracks them when they are shown, so ``delete_cache`` (set in
    :func:`app.ui.blocks.cache_cleanup`) removes them with the uploads; nothing is left in the system temp folder.
    The folder is created by whoever writes into it.
    """
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()) / f"intern-s1-{purpose}-{uuid.uuid4().hex}"


def _paths(files: list[Any] | None) -> list[str]:
    return [item["path"] if isinstance(item, dict) else str(item) for item in files or []]


class ChatHandlers:
    """Every chat event of one app, bound to its engine.

    Args:
        engine: the engine both the page and ``/chat`` use.
        model_id: written into exported conversations.
    """

    def __init__(self, engine: ChatEngine, model_id: str = "") -> None:
        self.engine = engine
        self.limits = engine.limits
        self.model_id = model_id

    # ---------------------------------------------------------------- the page

    def add_turn(self, value: dict[str, Any] | None, history: History) -> tuple[Any, History, Any]:
        """Check the chat box (text and uploads) and append it as a new turn; locks the box while answering."""
        value = value or {}
        text = value.get("text") or ""
        try:
            prepared = prepare_user_turn(text, _paths(value.get("files")), self.limits)
        except InputError as error:
            raise _user_error(error) from error
        for note in prepared.notes:
            gr.Info(note)
        history = history.with_turn(Turn(text, prepared.attachments))
        return to_chatbot(history), history, gr.MultimodalTextbox(value=None, interactive=False)

    def respond(
        self, request: gr.Request, history: History, system_prompt: str, *settings: Any
    ) -> Iterator[ChatUpdate]:
        """Answer the last turn, streaming the page; the turn always ends in one state (shown as a marker).

        ``settings`` are the page's controls in :class:`Settings` order.
        """
        turn = history.last
        if turn is None or turn.answer is not None:
            return
        earlier = to_chatbot(history.before(len(history) - 1))
        turn.answer = Answer()  # the object Stop's handler finishes if the stream cannot
        chosen = Settings(*settings)
        try:
            stream = self.engine.answer(history.to_messages(system_prompt), chosen.params(self.limits),
                                        session_of(request), use_tools=bool(chosen.tools), answer=turn.answer,
                                        request=event_of())  # fmt: skip
            for _ in stream:
                yield [*earlier, *render_turn(turn)], history
        except InputError as error:  # refused before anything streamed (budget, a busy session, a bad setting)
            turn.answer.finish(TurnEnd("failed", reason=str(error)))
            yield [*earlier, *render_turn(turn)], history

    def stop(self, history: History, request: gr.Request) -> tuple[Any, History, Any]:
        """Stop this session's answers and mark the running one stopped (its cancelled stream cannot say so)."""
        self.engine.stop(session_of(request))
        last = history.last
        if last is not None and last.answer is not None:
            last.answer.finish(TurnEnd("stopped"))
        return to_chatbot(history), history, gr.MultimodalTextbox(interactive=True)

    def clear(self, request: gr.Request) -> History:
        """The Chatbot's clear button: stop what runs and start an empty conversation."""
        self.engine.stop(session_of(request))
        return History()

    def retry(self, history: History, data: gr.RetryData) -> tuple[Any, History]:
        """Ask the turn of the retried message again (later turns are dropped)."""
        history = history.retried(turn_at(history, int(data.index)))
        return to_chatbot(history), history

    def edit(self, history: History, data: gr.EditData) -> tuple[Any, History]:
        """Replace the text of the edited message's turn, keeping its attachments; later turns are dropped."""
        index = turn_at(history, int(data.index))
        text = data.value if isinstance(data.value, str) else "".join(v for v in data.value if isinstance(v, str))
        try:
            check_turn_text(text, history.turns[index].attachments, self.limits)
        except InputError as error:
            raise _user_error(error) from error
        history = history.edited(index, text)
        return to_chatbot(history), history

    def undo(self, history: History, data: gr.UndoData) -> tuple[Any, History, dict[str, Any]]:
        """Remove the last question and its answer, and put the question back in the box."""
        index = turn_at(history, int(data.index))
        turn = history.turns[index]
        history = history.before(index)
        return to_chatbot(history), history, {"text": turn.text, "files": [a.path for a in turn.attachments]}

    def molecules(self, history: History) -> Any:
        """The molecules found in the answers, newest first, for the panel's "from the answers" list."""
        found = history.molecules()
        return gr.Dropdown(choices=found, value=None, interactive=bool(found))

    def export(self, history: History) -> list[str]:
        """Write the conversation as Markdown and JSON files for download (into Gradio's cache, see below)."""
        if not history.turns:
            raise gr.Error("nothing to export yet", print_exception=False)
        folder = cache_folder("export")
        folder.mkdir(parents=True)
        return list(write_exports(history, directory=str(folder), model_id=self.model_id))

    def import_conversation(self, path: str) -> tuple[Any, History]:
        """Load an exported JSON conversation into the chat (its attachments restored into Gradio's cache)."""
        try:
            history = from_json(Path(path).read_bytes(), limits=self.limits, upload_dir=str(cache_folder("import")))
        except ConversationImportError as error:
            raise gr.Error(f"could not import: {error}", print_exception=False) from error
        return to_chatbot(history), history

    # ---------------------------------------------------------------- the /chat API

    def chat(
        self,
        message: str,
        files: list[str] | None,
        thinking: bool,
        temperature: float,
        top_p: float,
        top_k: int,
        min_p: float,
        max_new_tokens: int,
        system_prompt: str,
        tools: bool,
        request: gr.Request,
    ) -> Iterator[str]:
        """Ask the model one question; streams the growing answer.

        With thinking on, the text starts with the reasoning in <think>…</think>. When the answer ends otherwise
        than normally the text says so: "(the model returned no text)", "(stopped)", "(cut off at N tokens)" or
        "(generation timed out)"; a failure raises an error with the reason.

        Args:
            message: The question, as typed (it reaches the model byte for byte).
            files: Images, a video, or .fasta / .fa / .pdb / .sdf / .mol / .smi files.
            thinking: Let the model think before answering (Intern-S1's enable_thinking).
            temperature: Sampling temperature, 0 to 2 (0 = greedy).
            top_p: Nucleus sampling, in (0, 1].
            top_k: Sample from the k most likely tokens (0 = off).
            min_p: Minimum probability relative to the most likely token, 0 to 1.
            max_new_tokens: Most tokens the answer may have.
            system_prompt: Instructions placed before the question ("" = the model's default).
            tools: Let the model call the chemistry tools (check_smiles, check_sequence, render_molecule).
        """
        settings = Settings(thinking, temperature, top_p, top_k, min_p, max_new_tokens, tools)
        try:
            message, system_prompt = text_argument(message, "message"), text_argument(system_prompt, "system_prompt")
            params = settings.params(self.limits)
            prepared = prepare_user_turn(message, _paths(files), self.limits)
            messages = History([Turn(message, prepared.attachments)]).to_messages(system_prompt)
            answers = self.engine.answer(messages, params, session_of(request), use_tools=tools, request=event_of())
            for answer in answers:
                if answer.end is not None and answer.end.state == "failed":
                    raise gr.Error(answer.end.reason or "the model failed while answering", print_exception=False)
                yield answer.text_with_marker()
        except InputError as error:
            raise _user_error(error) from error
