"""A conversation document (:func:`app.chat.transcript.export_conversation`) as Markdown for people.

The header says which model and backend answered, with which system prompt and sampling settings; each user turn
lists its attachments with the records read from them; each answer has its thinking and tool steps in
``<details>``, its text, how it ended, and its molecules, reactions and sequences drawn and tabulated with the
``science_tools`` display rows (labels with units). An answer made with other settings than the header's says so.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import science_tools
from app.chat.history import TurnEnd


__all__ = ["document_to_markdown"]

_SEQUENCE_KINDS = ("protein", "dna", "rna")
_SAMPLING_ORDER = ("thinking", "temperature", "top_p", "top_k", "min_p", "max_new_tokens", "tools")


def _details(summary: str, body: str) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", body, "", "</details>"]


def _report_rows(entry: dict[str, Any]) -> list[tuple[str, str]]:
    if entry["kind"] == "smiles":
        return science_tools.check_smiles(entry["text"]).display_rows()
    if entry["kind"] == "reaction":
        return science_tools.check_reaction(entry["text"]).display_rows()
    if entry["kind"] in _SEQUENCE_KINDS:
        return science_tools.check_sequence(entry["text"]).display_rows()
    return []


def _science_markdown(entry: dict[str, Any]) -> list[str]:
    lines = [""]
    if entry["svg"]:
        picture = base64.b64encode(entry["svg"].encode("utf-8")).decode("ascii")
        lines.append(f"![{entry['kind']}](data:image/svg+xml;base64,{picture})")
    title = entry["kind"].upper() if entry["kind"] in ("dna", "rna") else entry["kind"].capitalize()
    text = entry["text"] if len(entry["text"]) <= 60 else entry["text"][:57] + "…"
    lines.append(f"**{title}** `{text}`")
    rows = _report_rows(entry)
    if rows:
        lines += ["", "| property | value |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in rows]
    return lines


def _settings_line(settings: dict[str, Any]) -> str:
    """ "model `x` · backend local · temperature 0.8 · …" for a settings record (keys in the page's order)."""
    sampling = settings.get("sampling") or {}
    parts = [f"model `{settings['model']}`"] if settings.get("model") else []
    parts += [f"backend {settings['backend']}"] if settings.get("backend") else []
    parts += [f"{key.replace('_', ' ')} {sampling[key]}" for key in _SAMPLING_ORDER if key in sampling]
    return " · ".join(parts)


def _header(document: dict[str, Any]) -> list[str]:
    settings = {"model": document.get("model"), "backend": document.get("backend"),
                "sampling": document.get("sampling")}  # fmt: skip
    lines = [f"*Exported {document['exported_at']}" + (f" · {_settings_line(settings)}" if _settings_line(settings)
                                                        else "") + "*"]  # fmt: skip
    if document.get("system_prompt"):
        lines += ["", "**System prompt:**", "", document["system_prompt"]]
    return lines


def _attachments(files: list[dict[str, Any]]) -> list[str]:
    lines = ["", "Attachments:"]
    for file in files:
        records = [line.split(" → ", 1)[0] for line in (file.get("text") or "").splitlines() if " → " in line]
        lines.append(f"- `{file['name']}`" + (": " + "; ".join(records) if records else ""))
    return lines


def _answer(answer: dict[str, Any], document: dict[str, Any]) -> list[str]:
    lines = ["", "## 🤖 Assistant"]
    settings = answer.get("settings") or {}
    same = (settings.get("model") in (None, "", document.get("model"))
            and settings.get("sampling") in (None, document.get("sampling"))
            and settings.get("system_prompt", document.get("system_prompt")) == document.get("system_prompt"))  # fmt: skip
    if settings and not same:
        lines += ["", f"*Answered with {_settings_line(settings)}*"]
    if answer["reasoning"]:
        seconds = answer["thinking_seconds"]
        lines += _details("Thinking" + (f" ({seconds:g} s)" if seconds is not None else ""), answer["reasoning"])
    for step in answer["steps"]:
        shown = json.dumps(step["result"] if step["ok"] else {"error": step["error"]}, indent=2, ensure_ascii=False)
        lines += _details(f"{step['name']}({json.dumps(step['parameters'], ensure_ascii=False)})",
                          f"```json\n{shown}\n```")  # fmt: skip
    lines += ["", answer["content"]] if answer["content"] else []
    if (answer.get("usage") or {}).get("thinking_unclosed"):
        lines += ["", "*(the model never closed its thinking, so its whole reply is shown as the answer)*"]
    marker = TurnEnd.from_dict(answer["end"]).marker if answer["end"] else ""
    lines += ["", f"*{marker}*"] if marker else []
    for science in answer["science"]:
        lines += _science_markdown(science)
    return lines


def document_to_markdown(document: dict[str, Any]) -> str:
    """The Markdown form of an exported conversation document (see the module docstring)."""
    lines = ["# Intern-S1 Studio conversation", "", *_header(document)]
    for entry in document["turns"]:
        user, answer = entry["user"], entry["answer"]
        lines += ["", "## 🧑 User", "", user["text"]]
        if user["files"]:
            lines += _attachments(user["files"])
        if answer is not None:
            lines += _answer(answer, document)
    return "\n".join(lines) + "\n"
