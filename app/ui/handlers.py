"""The chat's UI and API handlers: thin wrappers that turn Gradio events into engine calls and page updates.

The page keeps the conversation as a :class:`~app.chat.history.History` in ``gr.State`` (the source of truth) and
derives the Chatbot's value from it on every update (:func:`~app.ui.rendering.to_chatbot`); retry, edit and undo
map the Chatbot's message index back to a turn. The ``/chat`` endpoint and the page share one engine
(:class:`~app.chat.engine.ChatEngine`): the same session registry, Stop, watchdog and concurrency group.
``gr.Error`` / ``gr.Warning`` / ``gr.Info`` are raised here and nowhere below. On the page, a problem with what the
user sent (an empty message, a bad file, a bad import) is a ``gr.Warning`` toast that leaves the chat and the box as
they were; ``gr.Error`` (which covers the outputs with Gradio's error state) is kept for the ``/chat`` API.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import gradio as gr

from app.backends.base import SamplingParams
from app.chat.attachments import InputError, check_turn_text, prepare_user_turn
from app.chat.engine import ChatEngine, make_params
from app.chat.errors import text_argument
from app.chat.history import Answer, AnswerSettings, History, Turn, TurnEnd
from app.chat.names import add_name_structures
from app.chat.transcript import ConversationImportError, from_json, write_exports
from app.config import Limits
from app.ui.media import video_facts
from app.ui.rendering import render_turn, to_chatbot, turn_at


__all__ = ["ChatHandlers", "Settings", "api_errors", "cache_folder", "session_of"]

logger = logging.getLogger(__name__)

ChatUpdate = tuple[list[dict[str, Any]], History, Any]  # chatbot, history, Stop button
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

    def to_dict(self) -> dict[str, Any]:
        """The settings as an export records them (JSON numbers and booleans)."""
        values = self._asdict()
        return {key: bool(value) if key in ("thinking", "tools") else value for key, value in values.items()}


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


def _stop_button(running: bool) -> gr.Button:
    """Stop is enabled (and red) only while an answer runs."""
    return gr.Button(interactive=running, variant="stop" if running else "secondary")


class ChatHandlers:
    """Every chat event of one app, bound to its engine.

    Args:
        engine: the engine both the page and ``/chat`` use.
        model_id: written into exported conversations (default: what the backend reports when asked, so a model
            that finishes loading after the page was built is named correctly).
    """

    def __init__(self, engine: ChatEngine, model_id: str = "") -> None:
        self.engine = engine
        self.limits = engine.limits
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id or self.engine.backend.info.model_id

    def _render(self, history: History) -> list[dict[str, Any]]:
        return to_chatbot(history, max_frames=self.limits.max_video_frames)

    def preparing(self, turn: Turn) -> str:
        """What the answer bubble says until the first token: loading the model, decoding a video, reading images."""
        loading = getattr(self.engine.backend, "loading_status", None)
        status = loading() if callable(loading) else None
        if status:
            return f"Waiting for the model to load ({status})…"
        videos = [a for a in turn.attachments if a.kind == "video"]
        if videos:
            facts = video_facts(videos[0].path, self.limits.max_video_frames)
            return f"Decoding {facts.sampled} frames of {videos[0].name} and preparing the prompt…"
        images = sum(1 for a in turn.attachments if a.kind == "image")
        if images:
            return f"Reading {images} image{'s' if images > 1 else ''} and preparing the prompt…"
        return "Waiting for the first token…"

    # ---------------------------------------------------------------- the page

    def add_turn(self, value: dict[str, Any] | None, history: History) -> tuple[Any, Any, Any]:
        """Check the chat box (text and uploads) and append it as a new turn; locks the box while answering.

        Bad input (an empty Enter, a file over a limit) is a warning toast: the chat, the history and the box keep
        what they had, and nothing is answered.
        """
        value = value or {}
        text = value.get("text") or ""
        try:
            prepared = prepare_user_turn(text, _paths(value.get("files")), self.limits)
        except InputError as error:
            gr.Warning(str(error))
            return gr.skip(), gr.skip(), gr.skip()
        for note in prepared.notes:
            gr.Info(note)
        history = history.with_turn(Turn(text, prepared.attachments))
        return self._render(history), history, gr.MultimodalTextbox(value=None, interactive=False)

    def respond(
        self, request: gr.Request, history: History, system_prompt: str, *settings: Any
    ) -> Iterator[ChatUpdate]:
        """Answer the last turn, streaming the page; the turn always ends in one state (shown as a marker).

        ``settings`` are the page's controls in :class:`Settings` order. The first update enables Stop and shows
        what happens before the first token (:meth:`preparing`); nothing is yielded when there is nothing to answer.
        """
        turn = history.last
        if turn is None or turn.answer is not None:
            return
        frames = self.limits.max_video_frames
        earlier = to_chatbot(history.before(len(history) - 1), max_frames=frames)
        chosen = Settings(*settings)
        info = self.engine.backend.info
        record = AnswerSettings(model=self.model_id, backend=info.kind, system_prompt=system_prompt or "",
                                sampling=chosen.to_dict())  # fmt: skip
        turn.answer = Answer(settings=record)  # the object Stop's handler finishes if the stream cannot
        preparing = self.preparing(turn)  # shown until the first token (the engine's heartbeats come before it)
        yield [*earlier, *render_turn(turn, preparing, frames)], history, _stop_button(True)
        if turn.answer.done:  # Stop came before the engine started: nothing to run
            return
        try:
            stream = self.engine.answer(history.to_messages(system_prompt), chosen.params(self.limits),
                                        session_of(request), use_tools=bool(chosen.tools), answer=turn.answer,
                                        request=event_of())  # fmt: skip
            for _ in stream:
                yield [*earlier, *render_turn(turn, preparing, frames)], history, gr.skip()
        except InputError as error:  # refused before anything streamed (budget, a busy session, a bad setting)
            turn.answer.finish(TurnEnd("failed", reason=str(error)))
            yield [*earlier, *render_turn(turn, max_frames=frames)], history, gr.skip()

    def stop(self, history: History, request: gr.Request) -> tuple[Any, History, Any, Any]:
        """Stop this session's answers and finish the running one here: its thinking clock stops, it is marked
        stopped, Stop is disabled and the box unlocked (the cancelled stream never sends its last update)."""
        self.engine.stop(session_of(request))
        last = history.last
        if last is not None and last.answer is not None and not last.answer.done:
            last.answer.close_thinking(time.monotonic())
            last.answer.finish(TurnEnd("stopped"))
        return self._render(history), history, gr.MultimodalTextbox(interactive=True), _stop_button(False)

    @staticmethod
    def idle() -> tuple[Any, Any]:
        """After an answer (or a refused submit): the box is unlocked and Stop disabled."""
        return gr.MultimodalTextbox(interactive=True), _stop_button(False)

    def clear(self, request: gr.Request) -> History:
        """The Chatbot's clear button: stop what runs and start an empty conversation."""
        self.engine.stop(session_of(request))
        return History()

    def retry(self, history: History, data: gr.RetryData) -> tuple[Any, History]:
        """Ask the turn of the retried message again (later turns are dropped)."""
        history = history.retried(turn_at(history, int(data.index)))
        return self._render(history), history

    def edit(self, history: History, data: gr.EditData) -> tuple[Any, History]:
        """Replace the text of the edited message's turn, keeping its attachments; later turns are dropped.

        An edit that cannot be sent (emptied, over the limit) is a warning; the chat shows the message as it was.
        """
        index = turn_at(history, int(data.index))
        text = data.value if isinstance(data.value, str) else "".join(v for v in data.value if isinstance(v, str))
        try:
            check_turn_text(text, history.turns[index].attachments, self.limits)
        except InputError as error:
            gr.Warning(f"Not edited: {error}")
            return self._render(history), history
        history = history.edited(index, text)
        return self._render(history), history

    def undo(self, history: History, data: gr.UndoData) -> tuple[Any, History, dict[str, Any]]:
        """Remove the last question and its answer, and put the question back in the box."""
        index = turn_at(history, int(data.index))
        turn = history.turns[index]
        history = history.before(index)
        return self._render(history), history, {"text": turn.text, "files": [a.path for a in turn.attachments]}

    def name_structures(self, history: History) -> tuple[Any, History]:
        """After an answer ends: the names it tagged ``<IUPAC>`` become molecule cards (one OPSIN run, cached).

        Off the streaming path on purpose: a JVM start costs about a second, and a name is only whole at the end.
        """
        last = history.last
        if last is None or last.answer is None or not add_name_structures([last.answer]):
            return gr.skip(), gr.skip()
        return self._render(history), history

    def all_name_structures(self, history: History) -> tuple[Any, History]:
        """After an import: the tagged names of every answer become molecule cards (one OPSIN run for all)."""
        if not add_name_structures([turn.answer for turn in history.turns if turn.answer is not None]):
            return gr.skip(), gr.skip()
        return self._render(history), history

    def molecules(self, history: History) -> Any:
        """The molecules found in the answers, newest first, for the panel's "from the answers" list."""
        found = history.molecules()
        return gr.Dropdown(choices=found, value=None, interactive=bool(found))

    def export(self, history: History) -> Any:
        """Write the conversation as Markdown and JSON files for download (each answer with its settings), into
        Gradio's cache (see :func:`cache_folder`)."""
        if not history.turns:
            gr.Warning("Nothing to export yet: ask something first.")
            return gr.skip()
        folder = cache_folder("export")
        folder.mkdir(parents=True)
        backend = self.engine.backend.info.kind
        return list(write_exports(history, directory=str(folder), model_id=self.model_id, backend=backend))

    def import_conversation(self, path: str) -> tuple[Any, Any]:
        """Load an exported JSON conversation into the chat (its attachments restored into Gradio's cache); a file
        that cannot be read is a warning."""
        try:
            history = from_json(Path(path).read_bytes(), limits=self.limits, upload_dir=str(cache_folder("import")))
        except (ConversationImportError, OSError) as error:
            gr.Warning(f"Could not import {Path(path).name}: {error}")
            return gr.skip(), gr.skip()
        return self._render(history), history

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
            tools: Let the model call the chemistry tools (check_smiles, check_sequence, render_molecule,
                name_to_structure).
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
