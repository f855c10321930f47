"""Download a conversation as Markdown or JSON (with the science in it) and load a JSON conversation back.

The JSON document (``format`` = :data:`FORMAT`, ``version`` 1) keeps every chat message with its text as the
user or model wrote it, collapsible steps (thinking, tool calls) with their title, attachments as base64, and —
for reading outside the app — the molecules (canonical SMILES, formula, MW, RDKit SVG) and sequences (property
card) found in each message. Import trusts none of the derived parts: pictures and cards are redrawn by RDKit in
the app, attachments are checked by type and size, and text is escaped for display as everywhere else.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import mimetypes
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import ACCEPTED_EXTENSIONS


__all__ = [
    "FORMAT",
    "ConversationImportError",
    "export_conversation",
    "from_json",
    "to_json",
    "to_markdown",
    "write_exports",
]

FORMAT = "intern-s1-studio.conversation"
VERSION = 1
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_SCIENCE_PER_MESSAGE = 12
_SEQUENCE_KINDS = ("protein", "dna", "rna")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ConversationImportError(ValueError):
    """The file is not a conversation this app can load; the message says what is wrong and where."""


# -- reading the chat history --------------------------------------------------------------------------------------


def _items(content: Any) -> list[Any]:
    return content if isinstance(content, list) else [content]


def _text_and_files(content: Any) -> tuple[str, list[str], bool]:
    """Plain text (display escaping undone), attachment paths, and whether the message is a UI component."""
    texts, files, component = [], [], False
    for item in _items(content):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict) and item.get("type") == "text":
            texts.append(str(item.get("text", "")))
        elif isinstance(item, dict) and isinstance(item.get("file"), dict):
            files.append(item["file"]["path"])
        elif isinstance(item, dict) and isinstance(item.get("path"), str) and item.get("type") != "component":
            files.append(item["path"])
        elif item is not None:
            component = True  # molecule / protein cards are regenerated from the text, not exported as HTML
    return html.unescape("".join(texts)), files, component


def _molecule(smiles: str) -> dict[str, Any] | None:
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return None
    return {
        "smiles": smiles,
        "canonical_smiles": report.canonical_smiles,
        "formula": report.formula,
        "molecular_weight": report.descriptors.get("molecular_weight"),
        "svg": science_tools.draw_molecule_svg(report.canonical_smiles, legend=report.formula or ""),
    }


def _sequence(sequence: str) -> dict[str, Any] | None:
    import science_tools

    report = science_tools.check_sequence(sequence)
    if not report.ok:
        return None
    properties = {k: v for k, v in report.properties.items() if not isinstance(v, dict | list | tuple)}
    return {"sequence": report.sequence, "kind": report.kind, "properties": properties}


def _science(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import science_tools

    molecules, sequences, seen = [], [], set()
    for span in science_tools.find_spans(text):
        if span.text in seen or len(molecules) + len(sequences) >= MAX_SCIENCE_PER_MESSAGE:
            continue
        seen.add(span.text)
        if span.kind == "smiles":
            found = _molecule(span.text)
            if found:
                molecules.append(found)
        elif span.kind in _SEQUENCE_KINDS:
            found = _sequence(span.text)
            if found:
                sequences.append(found)
    return molecules, sequences


def _attachment(path: str, include_media: bool) -> dict[str, Any]:
    file = Path(path)
    entry: dict[str, Any] = {
        "name": file.name,
        "mime": mimetypes.guess_type(file.name)[0] or "application/octet-stream",
    }
    try:
        size = file.stat().st_size
    except OSError:
        return {**entry, "missing": True}
    if include_media and size <= MAX_ATTACHMENT_BYTES:
        entry["data"] = base64.b64encode(file.read_bytes()).decode("ascii")
    else:
        entry["omitted"] = f"{size} bytes, not embedded"
    return entry


def export_conversation(
    history: list[dict[str, Any]], *, model_id: str | None = None, include_media: bool = True
) -> dict[str, Any]:
    """The JSON-ready document for a Chatbot history (messages format, as Gradio passes it to callbacks)."""
    messages = []
    for message in history:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        text, files, component = _text_and_files(message.get("content"))
        if component and not text and not files:
            continue
        entry: dict[str, Any] = {"role": role, "content": text}
        metadata = message.get("metadata") or {}
        if metadata.get("title"):
            entry["title"] = str(metadata["title"])
            if isinstance(metadata.get("duration"), int | float):
                entry["duration"] = metadata["duration"]
        if files:
            entry["files"] = [_attachment(path, include_media) for path in files]
        if text and not entry.get("title"):
            molecules, sequences = _science(text)
            if molecules:
                entry["molecules"] = molecules
            if sequences:
                entry["sequences"] = sequences
        messages.append(entry)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": messages,
    }
    if model_id:
        document["model"] = model_id
    return document


def to_json(history: list[dict[str, Any]], **options: Any) -> str:
    """The conversation as a JSON string (see :func:`export_conversation`)."""
    return json.dumps(export_conversation(history, **options), ensure_ascii=False, indent=1)


def _markdown_science(entry: dict[str, Any]) -> list[str]:
    lines = []
    if entry.get("molecules"):
        lines += ["", "**Molecules**", "", "| structure | canonical SMILES | formula | MW |", "|---|---|---|---|"]
        for molecule in entry["molecules"]:
            picture = base64.b64encode(molecule["svg"].encode()).decode("ascii")
            weight = molecule["molecular_weight"]
            lines.append(
                f"| ![{molecule['formula']}](data:image/svg+xml;base64,{picture}) | `{molecule['canonical_smiles']}` "
                f"| {molecule['formula']} | {weight:.2f} |"
                if isinstance(weight, int | float)
                else f"| | `{molecule['canonical_smiles']}` | {molecule['formula']} | – |"
            )
    for sequence in entry.get("sequences", []):
        lines += ["", f"**{sequence['kind'].capitalize()} card** (`{sequence['sequence'][:40]}…`)" if len(sequence["sequence"]) > 40
                  else f"**{sequence['kind'].capitalize()} card** (`{sequence['sequence']}`)", "",
                  "| property | value |", "|---|---|"]  # fmt: skip
        for name, value in sequence["properties"].items():
            lines.append(f"| {name} | {round(value, 3) if isinstance(value, float) else value} |")
    return lines


def to_markdown(history: list[dict[str, Any]], *, model_id: str | None = None) -> str:
    """The conversation as Markdown: thinking and tool steps in ``<details>``, molecules drawn, cards as tables."""
    document = export_conversation(history, model_id=model_id, include_media=False)
    header = f"*Exported {document['exported_at']}" + (f" · model `{model_id}`" if model_id else "") + "*"
    lines = ["# Intern-S1 Studio conversation", "", header]
    previous_role = None
    for entry in document["messages"]:
        if entry["role"] != previous_role:
            lines += ["", "## 🧑 User" if entry["role"] == "user" else "## 🤖 Assistant"]
            previous_role = entry["role"]
        lines.append("")
        if entry.get("title"):
            duration = f" ({entry['duration']:g} s)" if "duration" in entry else ""
            lines += [f"<details><summary>{html.escape(entry['title'])}{duration}</summary>", "", entry["content"], "",
                      "</details>"]  # fmt: skip
        elif entry["content"]:
            lines.append(entry["content"])
        if entry.get("files"):
            lines += ["", "Attachments: " + ", ".join(f"`{f['name']}`" for f in entry["files"])]
        lines += _markdown_science(entry)
    return "\n".join(lines) + "\n"


def write_exports(history: list[dict[str, Any]], directory: str | None = None, **options: Any) -> tuple[str, str]:
    """Write ``conversation.md`` and ``conversation.json`` (for ``gr.DownloadButton``); returns both paths."""
    folder = Path(directory or tempfile.mkdtemp(prefix="intern-s1-export-"))
    markdown_path, json_path = folder / "conversation.md", folder / "conversation.json"
    markdown_path.write_text(to_markdown(history, model_id=options.get("model_id")), encoding="utf-8")
    json_path.write_text(to_json(history, **options), encoding="utf-8")
    return str(markdown_path), str(json_path)


# -- importing -----------------------------------------------------------------------------------------------------


def _restore_file(entry: Any, where: str, folder: Path) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ConversationImportError(f"{where}: an attachment needs a 'name'")
    if "data" not in entry:
        return None  # exported without its bytes; the text still says it was there
    name = _SAFE_NAME.sub("_", Path(entry["name"]).name).lstrip(".") or "attachment"
    if Path(name).suffix.lower() not in ACCEPTED_EXTENSIONS:
        raise ConversationImportError(f"{where}: attachment type of {entry['name']!r} is not accepted")
    try:
        data = base64.b64decode(entry["data"], validate=True)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ConversationImportError(f"{where}: attachment {entry['name']!r} is not valid base64") from error
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ConversationImportError(f"{where}: attachment {entry['name']!r} is larger than 20 MB")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    counter = 1
    while path.exists():
        path = folder / f"{path.stem}-{counter}{path.suffix}"
        counter += 1
    path.write_bytes(data)
    return str(path)


def _check_entry(index: int, entry: Any) -> None:
    where = f"message {index + 1}"
    if not isinstance(entry, dict):
        raise ConversationImportError(f"{where} is not an object")
    if entry.get("role") not in ("user", "assistant"):
        raise ConversationImportError(f"{where}: role must be 'user' or 'assistant', got {entry.get('role')!r}")
    if not isinstance(entry.get("content", ""), str):
        raise ConversationImportError(f"{where}: 'content' must be a string")
    if "title" in entry and not isinstance(entry["title"], str):
        raise ConversationImportError(f"{where}: 'title' must be a string")
    if "duration" in entry and (isinstance(entry["duration"], bool) or not isinstance(entry["duration"], int | float)):
        raise ConversationImportError(f"{where}: 'duration' must be a number")
    if not isinstance(entry.get("files", []), list):
        raise ConversationImportError(f"{where}: 'files' must be a list")


def _load_document(text: str | bytes) -> dict[str, Any]:
    if len(text) > MAX_IMPORT_BYTES:
        raise ConversationImportError(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConversationImportError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    except UnicodeDecodeError as error:
        raise ConversationImportError("not a text file (expected UTF-8 JSON)") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConversationImportError(f'not an Intern-S1 Studio conversation (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ConversationImportError(
            f"unsupported conversation version {document.get('version')!r} (this app reads {VERSION})"
        )
    messages = document.get("messages")
    if not isinstance(messages, list):
        raise ConversationImportError("'messages' must be a list")
    for index, entry in enumerate(messages):
        _check_entry(index, entry)
    return document


def from_json(text: str | bytes, *, with_cards: bool = True, upload_dir: str | None = None) -> list[dict[str, Any]]:
    """Rebuild a Chatbot history from an exported JSON conversation.

    Args:
        text: The file content.
        with_cards: Redraw the molecule / sequence cards under answers (RDKit, from the text; never the file's SVG).
        upload_dir: Where attachments are written (default: a new temporary folder).

    Returns:
        Chatbot messages: user turns with their attachments, answers, and collapsible steps with their titles.

    Raises:
        ConversationImportError: naming the first problem found.
    """
    from app.ui.rendering import sanitize_markdown

    document = _load_document(text)
    folder: Path | None = Path(upload_dir) if upload_dir else None
    history: list[dict[str, Any]] = []
    for index, entry in enumerate(document["messages"]):
        content = entry.get("content", "")
        if entry["role"] == "user":
            paths = []
            for file in entry.get("files", []):
                if folder is None:
                    folder = Path(tempfile.mkdtemp(prefix="intern-s1-import-"))
                path = _restore_file(file, f"message {index + 1}", folder)
                if path:
                    paths.append({"path": path})
            history.append({"role": "user", "content": [*paths, *([sanitize_markdown(content)] if content else [])]})
            continue
        message: dict[str, Any] = {"role": "assistant", "content": sanitize_markdown(content)}
        if entry.get("title"):
            metadata: dict[str, Any] = {"title": entry["title"], "status": "done"}
            if "duration" in entry:
                metadata["duration"] = entry["duration"]
            message["metadata"] = metadata
        history.append(message)
        if with_cards and content and not entry.get("title"):
            history += _cards(content)
    return history


def _cards(text: str) -> list[dict[str, Any]]:
    import gradio as gr

    from app.ui.rendering import science_items

    return [{"role": "assistant", "content": gr.HTML(value=item.html)} for item in science_items(text)]
