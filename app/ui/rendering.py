"""The history model rendered as Chatbot messages, at display time and only here.

Model text (answer, thinking, tool steps, and the same parts of an imported conversation) is untrusted: it is
rendered here to allow-listed HTML by :mod:`app.ui.safe_html` (a real Markdown parser's tokens, no raw HTML, links
with their URL shown, images never loaded), and Gradio's own sanitiser sees only that. The user's own text is shown
as typed (``{"type": "text"}`` items, so Gradio neither dedents nor re-escapes it) through the Chatbot's
``sanitize_html``, as Gradio's ``ChatInterface`` does; that way the edit box shows exactly what the user wrote and
an edit reaches the model byte for byte. Each turn renders as: the user's attachments, a caption naming them (and
what was read from molecule / sequence files, frames sent from a video, a video the browser cannot play), the user's
text, then a "preparing" note until the first token, the thinking block, the tool steps, the answer (science tags
hidden: ``<SMILES>CCO</SMILES>`` shows as ``CCO`` in code style, the history keeps the tags), one grid of science
thumbnails, and the end marker — one bubble each (the Chatbot is built with ``group_consecutive_messages=False``).
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
from typing import Any

import gradio as gr

from app.chat.attachments import Attachment
from app.chat.history import Answer, History, ToolStep, Turn
from app.chat.science_files import provenance_labels
from app.ui.cards import science_grid, svg_data_uri
from app.ui.media import video_facts
from app.ui.safe_html import escape_text, html_block, markdown_to_html, text_to_html


__all__ = [
    "ERROR_TITLE",
    "SCIENCE_TAGS",
    "THINKING_TITLE",
    "UNCLOSED_THINKING_NOTE",
    "attachment_caption",
    "hide_science_tags",
    "render_answer",
    "render_turn",
    "to_chatbot",
    "turn_at",
]

THINKING_TITLE = "Thinking"
ERROR_TITLE = "⚠️ Could not answer"
UNCLOSED_THINKING_NOTE = "(the model never closed its thinking, so its whole reply is shown as the answer)"
SCIENCE_TAGS = ("SMILES", "FASTA", "SELFIES", "IUPAC", "MOLFORMULA")  # Intern-S1's domain tags
_TAGGED = re.compile(r"<(" + "|".join(SCIENCE_TAGS) + r")>(.*?)</\1>")
_MAX_CAPTION_RECORDS = 12  # records named per molecule / sequence file in the caption
_FRAME_BUDGET = 8  # what the caption assumes when the handler does not say (Limits.max_video_frames' default)
_STEP_PREVIEW_CHARS = 1_500  # how much of a tool result a step shows in the chat
# Code spans and fences, where science tags are left as written (hide_science_tags only; safety is markdown_to_html's).
_CODE = re.compile(r"(```.*?(?:```|\Z)|`[^`\n]*`)", re.DOTALL)


def hide_science_tags(text: str) -> str:
    """``<SMILES>CCO</SMILES>`` → `` `CCO` `` in model text, outside code (the markdown shows it verbatim, in code style).

    Content holding a backtick or a line break keeps its place without the tags (the sanitiser escapes it as any
    other text). Run before :func:`~app.ui.safe_html.markdown_to_html`.
    """
    parts = _CODE.split(text)

    def untag(match: re.Match[str]) -> str:
        content = match.group(2)
        return content if "`" in content or "\n" in content or not content.strip() else f"`{content}`"

    return "".join(part if index % 2 else _TAGGED.sub(untag, part) for index, part in enumerate(parts))


def _file_item(attachment: Attachment, playable: bool) -> dict[str, Any]:
    # The MIME type tells the Chatbot to show an image or a video; a video the browser cannot play becomes a chip.
    mime = mimetypes.guess_type(attachment.path)[0] if playable else "application/octet-stream"
    return {"file": {"path": attachment.path, "orig_name": attachment.name, "mime_type": mime}}


def _caption_line(attachment: Attachment, max_frames: int) -> tuple[str, bool]:
    """(one caption line for an attachment, whether the browser can show it)."""
    name = escape_text(attachment.name)
    if attachment.kind == "video":
        facts = video_facts(attachment.path, max_frames)
        frames = f"{facts.sampled} of {facts.frames} frames" if facts.frames else f"up to {facts.sampled} frames"
        line = f"<b>{name}</b> · {frames} go to the model"
        if not facts.playable:
            line += f"<br><span class='attach-warning'>{escape_text(facts.unplayable_note)}</span>"
        return line, facts.playable
    labels = [label.replace(f"({attachment.name}, ", "(") for label in provenance_labels(attachment.text)]
    if not labels:
        return f"<b>{name}</b>", True
    shown = ", ".join(escape_text(label) for label in labels[:_MAX_CAPTION_RECORDS])
    more = f", … and {len(labels) - _MAX_CAPTION_RECORDS} more" if len(labels) > _MAX_CAPTION_RECORDS else ""
    return f"<b>{name}</b> → {shown}{more}", True


def attachment_caption(attachments: list[Attachment], max_frames: int = _FRAME_BUDGET) -> str:
    """HTML naming each attachment and what the model gets from it (records of science files, video frames)."""
    lines = [_caption_line(attachment, max_frames)[0] for attachment in attachments]
    return "<div class='attach-caption'>" + "".join(f"<div>{line}</div>" for line in lines) + "</div>"


def _user_messages(turn: Turn, max_frames: int = _FRAME_BUDGET) -> list[dict[str, Any]]:
    """The attachments, their caption and the text as three messages, each its own bubble.

    Kept apart because Gradio 6.31's edit walks every item of a bubble and fails on a file item, so a bubble of
    "image + text" could not be edited; a text-only bubble edits cleanly and its edit box shows the text as typed.
    The caption is an HTML component, which the Chatbot offers no edit button for.
    """
    messages: list[dict[str, Any]] = []
    if turn.attachments:
        playable = [_caption_line(a, max_frames)[1] if a.kind == "video" else True for a in turn.attachments]
        files = [_file_item(a, ok) for a, ok in zip(turn.attachments, playable)]
        messages.append({"role": "user", "content": files})
        caption = attachment_caption(turn.attachments, max_frames)
        messages.append({"role": "user", "content": gr.HTML(value=caption, padding=False)})
    if turn.text:
        messages.append({"role": "user", "content": [{"type": "text", "text": turn.text}]})
    return messages


def _step_messages(step: ToolStep) -> list[dict[str, Any]]:
    """A collapsed step titled with the call, the result inside; a picture it drew follows as a card."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in step.parameters.items())
    if len(arguments) > 80:
        arguments = arguments[:77] + "…"
    shown = json.dumps(step.model_view(), indent=2, ensure_ascii=False)
    if len(shown) > _STEP_PREVIEW_CHARS:
        shown = shown[:_STEP_PREVIEW_CHARS] + "\n… (truncated)"
    icon = "🛠️" if step.ok else "⚠️"
    title = text_to_html(f"{icon} {step.name}({arguments})")
    messages = [{
        "role": "assistant",
        "content": html_block(f'<pre><code class="language-json">{escape_text(shown)}</code></pre>'),
        "metadata": {"title": title, "status": "done", "duration": round(step.duration_s, 3)},
    }]  # fmt: skip
    if step.svg:
        picture = f"<div class='mol-card'><img alt='{html.escape(step.name, quote=True)}' src='{svg_data_uri(step.svg)}'></div>"
        messages.append({"role": "assistant", "content": gr.HTML(value=picture)})
    return messages


def _thinking_message(answer: Answer) -> dict[str, Any]:
    finished = answer.thinking_done or answer.done or bool(answer.content) or bool(answer.steps)
    metadata: dict[str, Any] = {"title": THINKING_TITLE, "status": "done" if finished else "pending"}
    if answer.thinking_seconds is not None:
        metadata["duration"] = round(answer.thinking_seconds, 1)
    return {"role": "assistant", "content": markdown_to_html(answer.reasoning), "metadata": metadata}


def render_answer(answer: Answer, preparing: str = "") -> list[dict[str, Any]]:
    """Chatbot messages of one answer: thinking, tool steps, answer text, science grid, end marker.

    Args:
        answer: The answer, running or ended.
        preparing: Shown with a spinner while nothing has arrived yet ("decoding 8 frames of titration.mp4…").
    """
    if preparing and not (answer.done or answer.reasoning or answer.content or answer.steps):
        return [{"role": "assistant", "content": "", "metadata": {"title": preparing, "status": "pending"}}]
    messages: list[dict[str, Any]] = [_thinking_message(answer)] if answer.reasoning else []
    messages += [message for step in answer.steps for message in _step_messages(step)]
    if answer.content:
        messages.append({"role": "assistant", "content": markdown_to_html(hide_science_tags(answer.content))})
    if answer.thinking_unclosed and answer.content:
        messages.append(
            {"role": "assistant", "content": html_block(f"<em>{escape_text(UNCLOSED_THINKING_NOTE)}</em>")}
        )
    grid = science_grid(answer.found)
    if grid:
        messages.append({"role": "assistant", "content": gr.HTML(value=grid, padding=False)})
    messages += _end_marker(answer)
    return messages


def _end_marker(answer: Answer) -> list[dict[str, Any]]:
    if answer.end is None or answer.end.state == "answered":
        return []
    if answer.end.state == "failed":
        reason = escape_text(answer.end.reason or "unknown error")
        return [{"role": "assistant", "content": html_block(f"<strong>{escape_text(ERROR_TITLE)}:</strong> {reason}")}]
    return [{"role": "assistant", "content": html_block(f"<em>{escape_text(answer.end.marker)}</em>")}]


def render_turn(turn: Turn, preparing: str = "", max_frames: int = _FRAME_BUDGET) -> list[dict[str, Any]]:
    """Chatbot messages of one turn: the user's attachments, caption and text, then the answer (if any)."""
    answer = render_answer(turn.answer, preparing) if turn.answer else []
    return [*_user_messages(turn, max_frames), *answer]


def to_chatbot(history: History, max_frames: int = _FRAME_BUDGET) -> list[dict[str, Any]]:
    """The whole conversation as the Chatbot's value (messages format)."""
    return [message for turn in history.turns for message in render_turn(turn, max_frames=max_frames)]


def turn_at(history: History, message_index: int) -> int:
    """The turn that Chatbot message ``message_index`` belongs to (retry, edit, undo and like name messages).

    Raises:
        IndexError: when the index is outside the rendered chat.
    """
    position = 0
    for number, turn in enumerate(history.turns):
        position += len(render_turn(turn))
        if message_index < position:
            return number
    raise IndexError(f"message {message_index} is not in this chat ({position} messages)")
