"""Download a conversation as Markdown or JSON (with the science in it) and load a JSON conversation back.

Both read and write the one history model (:class:`~app.chat.history.History`). The JSON document (``format`` =
:data:`FORMAT`, ``version`` 2) says which model and backend exported it and with which system prompt and sampling
settings the latest answer was made, and keeps every turn: the user's text exactly as typed, attachments (name,
kind, bytes as base64, and for molecule / sequence files the lines they added to the prompt, each naming its file
and record), and the answer — text, thinking and its duration, tool steps, how it ended (``end``), its settings
(model, backend, system prompt, sampling), its usage (tokens, finish reason, thinking that never closed) and, for
reading outside the app, every molecule, reaction and sequence found in it (the ``science_tools`` report's
``to_dict()``, and an RDKit SVG for structures). Import trusts none of the derived parts: the science is found
again in the text, pictures are redrawn by RDKit in the app, attachments are checked by type, size and content like
an upload (which reads their records again). Version 1 files (the earlier message-list format) are still read.
The Markdown form is written by :mod:`app.chat.transcript_markdown`.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import science_tools
from app.chat.attachments import Attachment, InputError, read_attachment
from app.chat.history import (
    END_STATES,
    Answer,
    AnswerSettings,
    Found,
    History,
    ToolStep,
    Turn,
    TurnEnd,
    find_science,
)
from app.chat.transcript_markdown import document_to_markdown
from app.config import ACCEPTED_EXTENSIONS, Limits


__all__ = [
    "FORMAT",
    "VERSION",
    "ConversationImportError",
    "export_conversation",
    "from_json",
    "science_entry",
    "to_json",
    "to_markdown",
    "write_exports",
]

FORMAT = "intern-s1-studio.conversation"
VERSION = 2
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SEQUENCE_KINDS = ("protein", "dna", "rna")
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "finish_reason", "thinking_unclosed")  # kept in exports


class ConversationImportError(ValueError):
    """The file is not a conversation this app can load; the message says what is wrong and where."""


# -- export --------------------------------------------------------------------------------------------------------


def science_entry(found: Found) -> dict[str, Any]:
    """One molecule, reaction or sequence of an answer: its report's ``to_dict()`` and, for structures, an SVG."""
    entry: dict[str, Any] = {"kind": found.kind, "text": found.text, "report": None, "svg": None}
    if found.kind == "smiles":
        report = science_tools.check_smiles(found.text)
        entry["report"] = report.to_dict()
        if report.ok:
            entry["svg"] = science_tools.draw_molecule_svg(report.canonical_smiles, legend=report.formula or "")
    elif found.kind == "reaction":
        report = science_tools.check_reaction(found.text)
        entry["report"] = report.to_dict()  # every reactant and product with formula and molecular weight
        if report.ok:
            entry["svg"] = science_tools.draw_reaction_svg(found.text)
    elif found.kind in _SEQUENCE_KINDS:
        entry["report"] = science_tools.check_sequence(found.text).to_dict()
    return entry


def _attachment_entry(attachment: Attachment, include_media: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": attachment.name,
        "kind": attachment.kind,
        "mime": mimetypes.guess_type(attachment.name)[0] or "application/octet-stream",
    }
    if attachment.text:
        entry["text"] = attachment.text  # what the file added to the prompt: one line per record, with provenance
    try:
        size = Path(attachment.path).stat().st_size
    except OSError:
        return {**entry, "missing": True}
    if include_media and size <= MAX_ATTACHMENT_BYTES:
        entry["data"] = base64.b64encode(Path(attachment.path).read_bytes()).decode("ascii")
    else:
        entry["omitted"] = f"{size} bytes, not embedded"
    return entry


def _answer_entry(answer: Answer) -> dict[str, Any]:
    return {
        "content": answer.content,
        "reasoning": answer.reasoning,
        "thinking_seconds": None if answer.thinking_seconds is None else round(answer.thinking_seconds, 1),
        "steps": [step.to_dict() for step in answer.steps],
        "end": answer.end.to_dict() if answer.end else None,
        "settings": answer.settings.to_dict() if answer.settings else None,
        "usage": {key: value for key, value in answer.usage.items() if key in _USAGE_KEYS},
        "science": [science_entry(found) for found in answer.found],
    }


def latest_settings(history: History) -> AnswerSettings | None:
    """The settings of the newest answer that recorded them (what the conversation was last run with)."""
    for turn in reversed(history.turns):
        if turn.answer is not None and turn.answer.settings is not None:
            return turn.answer.settings
    return None


def export_conversation(
    history: History, *, model_id: str | None = None, backend: str | None = None, include_media: bool = True
) -> dict[str, Any]:
    """The JSON-ready document for a conversation (see the module docstring).

    Args:
        history: The conversation.
        model_id: The exporting app's model (default: the newest answer's).
        backend: The exporting app's backend kind (default: the newest answer's).
        include_media: Embed attachment bytes (up to 20 MB each).
    """
    turns = [
        {
            "user": {"text": turn.text, "files": [_attachment_entry(a, include_media) for a in turn.attachments]},
            "answer": _answer_entry(turn.answer) if turn.answer else None,
        }
        for turn in history.turns
    ]
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    settings = latest_settings(history)
    model_id = model_id or (settings.model if settings else "")
    backend = backend or (settings.backend if settings else "")
    if model_id:
        document["model"] = model_id
    if backend:
        document["backend"] = backend
    if settings is not None:
        document["system_prompt"] = settings.system_prompt
        document["sampling"] = dict(settings.sampling)
    document["turns"] = turns
    return document


def to_json(history: History, **options: Any) -> str:
    """The conversation as a JSON string (see :func:`export_conversation`)."""
    return json.dumps(export_conversation(history, **options), ensure_ascii=False, indent=1)


def to_markdown(history: History, *, model_id: str | None = None, backend: str | None = None) -> str:
    """The conversation as Markdown: settings, thinking and tool steps in ``<details>``, structures drawn, cards as
    tables (see :mod:`app.chat.transcript_markdown`)."""
    return document_to_markdown(export_conversation(history, model_id=model_id, backend=backend, include_media=False))


def write_exports(history: History, directory: str | None = None, **options: Any) -> tuple[str, str]:
    """Write ``conversation.md`` and ``conversation.json``; returns both paths."""
    folder = Path(directory or tempfile.mkdtemp(prefix="intern-s1-export-"))
    markdown_path, json_path = folder / "conversation.md", folder / "conversation.json"
    markdown_path.write_text(to_markdown(history, model_id=options.get("model_id"), backend=options.get("backend")),
                             encoding="utf-8")  # fmt: skip
    json_path.write_text(to_json(history, **options), encoding="utf-8")
    return str(markdown_path), str(json_path)


# -- import --------------------------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConversationImportError(message)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _load_document(text: str | bytes) -> dict[str, Any]:
    _require(len(text) <= MAX_IMPORT_BYTES, f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConversationImportError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    except UnicodeDecodeError as error:
        raise ConversationImportError("not a text file (expected UTF-8 JSON)") from error
    _require(
        isinstance(document, dict) and document.get("format") == FORMAT,
        f'not an Intern-S1 Studio conversation (expected "format": "{FORMAT}")',
    )
    _require(
        document.get("version") in (1, VERSION),
        f"unsupported conversation version {document.get('version')!r} (this app reads 1 and {VERSION})",
    )
    return document


class _Restorer:
    """Writes imported attachments into one folder and checks each like an upload."""

    def __init__(self, upload_dir: str | None, limits: Limits) -> None:
        self.folder = Path(upload_dir) if upload_dir else None
        self.limits = limits

    def restore(self, entry: Any, where: str) -> Attachment | None:
        _require(
            isinstance(entry, dict) and isinstance(entry.get("name"), str), f"{where}: an attachment needs a 'name'"
        )
        if "data" not in entry:
            return None  # exported without its bytes; the text still says it was there
        name = _SAFE_NAME.sub("_", Path(entry["name"]).name).lstrip(".") or "attachment"
        _require(
            Path(name).suffix.lower() in ACCEPTED_EXTENSIONS,
            f"{where}: attachment type of {entry['name']!r} is not accepted",
        )
        try:
            data = base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError, TypeError) as error:
            raise ConversationImportError(f"{where}: attachment {entry['name']!r} is not valid base64") from error
        _require(len(data) <= MAX_ATTACHMENT_BYTES, f"{where}: attachment {entry['name']!r} is larger than 20 MB")
        path = self._free_path(name)
        path.write_bytes(data)
        try:
            return read_attachment(str(path), self.limits, name=entry["name"])[0]
        except InputError as error:
            raise ConversationImportError(f"{where}: {error}") from error

    def _free_path(self, name: str) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="intern-s1-import-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        path, counter = self.folder / name, 1
        while path.exists():
            path = self.folder / f"{Path(name).stem}-{counter}{Path(name).suffix}"
            counter += 1
        return path


def _step(entry: Any, where: str) -> ToolStep:
    _require(isinstance(entry, dict), f"{where}: a tool step must be an object")
    _require(isinstance(entry.get("name"), str) and isinstance(entry.get("ok"), bool),
             f"{where}: a tool step needs 'name' (a string) and 'ok' (true or false)")  # fmt: skip
    _require(isinstance(entry.get("parameters", {}), dict) and isinstance(entry.get("result", {}), dict),
             f"{where}: a tool step's 'parameters' and 'result' must be objects")  # fmt: skip
    return ToolStep(
        name=entry["name"],
        parameters=entry.get("parameters", {}),
        ok=entry["ok"],
        result=entry.get("result", {}),
        error=str(entry["error"]) if entry.get("error") is not None else None,
        duration_s=float(entry["duration_s"]) if _is_number(entry.get("duration_s")) else 0.0,
        index=int(entry["index"]) if isinstance(entry.get("index"), int) else 0,
    )


def _end(entry: Any, where: str) -> TurnEnd | None:
    if entry is None:
        return None
    _require(isinstance(entry, dict) and entry.get("state") in END_STATES,
             f"{where}: 'end' needs a 'state', one of {', '.join(END_STATES)}")  # fmt: skip
    _require(
        entry.get("tokens") is None or isinstance(entry["tokens"], int), f"{where}: 'end.tokens' must be a number"
    )
    return TurnEnd(entry["state"], tokens=entry.get("tokens"), reason=entry.get("reason"))


def _answer(entry: Any, where: str) -> Answer | None:
    if entry is None:
        return None
    _require(isinstance(entry, dict), f"{where}: 'answer' must be an object or null")
    for key in ("content", "reasoning"):
        _require(isinstance(entry.get(key, ""), str), f"{where}: 'answer.{key}' must be a string")
    seconds = entry.get("thinking_seconds")
    _require(seconds is None or _is_number(seconds), f"{where}: 'answer.thinking_seconds' must be a number")
    _require(isinstance(entry.get("steps", []), list), f"{where}: 'answer.steps' must be a list")
    content = entry.get("content", "")
    return Answer(
        content=content,
        reasoning=entry.get("reasoning", ""),
        thinking_seconds=seconds,
        steps=[_step(step, f"{where}, step {n}") for n, step in enumerate(entry.get("steps", []), 1)],
        usage=_usage(entry.get("usage"), where),
        found=find_science(content) if content else [],  # found again in the text, never taken from the file
        end=_end(entry.get("end"), where),
        settings=_settings(entry.get("settings"), where),
    )


def _usage(entry: Any, where: str) -> dict[str, Any]:
    if entry is None:
        return {}
    _require(isinstance(entry, dict), f"{where}: 'answer.usage' must be an object")
    kept = {key: entry[key] for key in _USAGE_KEYS if key in entry}
    for key, value in kept.items():
        _require(isinstance(value, str | int | float | bool), f"{where}: 'answer.usage.{key}' must be a plain value")
    return kept


def _settings(entry: Any, where: str) -> AnswerSettings | None:
    if entry is None:
        return None
    _require(isinstance(entry, dict), f"{where}: 'answer.settings' must be an object")
    _require(isinstance(entry.get("sampling", {}), dict), f"{where}: 'answer.settings.sampling' must be an object")
    for key in ("model", "backend", "system_prompt"):
        _require(isinstance(entry.get(key, ""), str), f"{where}: 'answer.settings.{key}' must be a string")
    return AnswerSettings.from_dict(entry)


def _turns_v2(document: dict[str, Any], restorer: _Restorer) -> list[Turn]:
    _require(isinstance(document.get("turns"), list), "'turns' must be a list")
    turns = []
    for number, entry in enumerate(document["turns"], 1):
        where = f"turn {number}"
        _require(isinstance(entry, dict) and isinstance(entry.get("user"), dict), f"{where}: needs a 'user' object")
        user = entry["user"]
        _require(isinstance(user.get("text", ""), str), f"{where}: 'user.text' must be a string")
        _require(isinstance(user.get("files", []), list), f"{where}: 'user.files' must be a list")
        attachments = [restorer.restore(file, where) for file in user.get("files", [])]
        turns.append(Turn(user.get("text", ""), [a for a in attachments if a], _answer(entry.get("answer"), where)))
    return turns


def _turns_v1(document: dict[str, Any], restorer: _Restorer) -> list[Turn]:
    """Version 1 kept a flat list of chat messages; thinking was a message titled "Thinking"."""
    _require(isinstance(document.get("messages"), list), "'messages' must be a list")
    turns: list[Turn] = []
    for number, entry in enumerate(document["messages"], 1):
        where = f"message {number}"
        _require(isinstance(entry, dict), f"{where} is not an object")
        _require(entry.get("role") in ("user", "assistant"),
                 f"{where}: role must be 'user' or 'assistant', got {entry.get('role')!r}")  # fmt: skip
        _require(isinstance(entry.get("content", ""), str), f"{where}: 'content' must be a string")
        if entry["role"] == "user":
            attachments = [restorer.restore(file, where) for file in entry.get("files", [])]
            turns.append(Turn(entry.get("content", ""), [a for a in attachments if a]))
            continue
        _require(bool(turns), f"{where}: an answer before any question")
        answer = turns[-1].answer = turns[-1].answer or Answer()
        if entry.get("title") == "Thinking":
            answer.reasoning += entry.get("content", "")
            answer.thinking_seconds = entry.get("duration") if _is_number(entry.get("duration")) else None
        elif not entry.get("title"):
            answer.content += entry.get("content", "")
            answer.found = find_science(answer.content)
    for turn in turns:  # version 1 did not record how answers ended
        if turn.answer is not None:
            turn.answer.finish(TurnEnd("answered" if turn.answer.content.strip() else "empty"))
    return turns


def from_json(text: str | bytes, *, upload_dir: str | None = None, limits: Limits | None = None) -> History:
    """Rebuild a conversation from an exported JSON document.

    Args:
        text: The file content.
        upload_dir: Where attachments are written (default: a new temporary folder).
        limits: The budgets attachments are checked against, as uploads are (default: :class:`Limits`).

    Returns:
        The conversation; the science in each answer is found again in its text.

    Raises:
        ConversationImportError: naming the first problem found (turn, field, attachment).
    """
    document = _load_document(text)
    restorer = _Restorer(upload_dir, limits or Limits())
    turns = _turns_v2(document, restorer) if document["version"] == VERSION else _turns_v1(document, restorer)
    return History(turns)
