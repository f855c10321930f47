"""The history model rendered as Chatbot messages, at display time and only here.

Model text (answer, thinking, tool steps, and the same parts of an imported conversation) is untrusted: it is
rendered here to allow-listed HTML by :mod:`app.ui.safe_html` (a real Markdown parser's tokens, no raw HTML, links
with their URL shown, images never loaded), and Gradio's own sanitiser sees only that. The user's own text is shown
as typed (``{"type": "text"}`` items, so Gradio neither dedents nor re-escapes it) through the Chatbot's
``sanitize_html``, as Gradio's ``ChatInterface`` does; that way the edit box shows exactly what the user wrote and
an edit reaches the model byte for byte. Each turn renders as: the user's attachments (with their names), the user's
text, the thinking block, the tool steps, the answer, the science cards, and the end marker — one bubble each (the
Chatbot is built with ``group_consecutive_messages=False``).
"""

from __future__ import annotations

import html
import json
import mimetypes
from typing import Any

import gradio as gr

from app.chat.history import Answer, History, ToolStep, Turn
from app.ui.cards import card_for, svg_data_uri
from app.ui.safe_html import escape_text, html_block, markdown_to_html, text_to_html


__all__ = [
    "ERROR_TITLE",
    "THINKING_TITLE",
    "render_answer",
    "inert_text",
    "render_turn",
    "to_chatbot",
    "turn_at",
]

THINKING_TITLE = "Thinking"
ERROR_TITLE = "⚠️ Could not answer"
_STEP_PREVIEW_CHARS = 1_500  # how much of a tool result a step shows in the chat


def inert_text(text: str) -> str:
    """Plain text (an error that echoes input) for a place that renders Markdown: shown exactly, nothing parsed."""
    return text_to_html(text)


def _user_messages(turn: Turn) -> list[dict[str, Any]]:
    """The attachments (with their names) and the text as two messages, each its own bubble.

    Kept apart because Gradio 6.31's edit walks every item of a bubble and fails on a file item, so a bubble of
    "image + text" could not be edited; a text-only bubble edits cleanly and its edit box shows the text as typed.
    """
    files = [
        # the MIME type tells the Chatbot to show an image or a video rather than a file chip
        {"file": {"path": a.path, "orig_name": a.name, "mime_type": mimetypes.guess_type(a.path)[0]}}
        for a in turn.attachments
    ]
    messages = [{"role": "user", "content": files}] if files else []
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


def render_answer(answer: Answer) -> list[dict[str, Any]]:
    """Chatbot messages of one answer: thinking, tool steps, answer text, cards, end marker."""
    messages: list[dict[str, Any]] = []
    if answer.reasoning:
        metadata: dict[str, Any] = {
            "title": THINKING_TITLE,
            "status": "done" if answer.thinking_done or answer.done else "pending",
        }
        if answer.thinking_seconds is not None:
            metadata["duration"] = round(answer.thinking_seconds, 1)
        messages.append({"role": "assistant", "content": markdown_to_html(answer.reasoning), "metadata": metadata})
    messages += [message for step in answer.steps for message in _step_messages(step)]
    if answer.content:
        messages.append({"role": "assistant", "content": markdown_to_html(answer.content)})
    cards = [card for card in (card_for(found) for found in answer.found) if card]
    messages += [{"role": "assistant", "content": gr.HTML(value=card)} for card in cards]
    messages += _end_marker(answer)
    return messages


def _end_marker(answer: Answer) -> list[dict[str, Any]]:
    if answer.end is None or answer.end.state == "answered":
        return []
    if answer.end.state == "failed":
        reason = escape_text(answer.end.reason or "unknown error")
        return [{"role": "assistant", "content": html_block(f"<strong>{escape_text(ERROR_TITLE)}:</strong> {reason}")}]
    return [{"role": "assistant", "content": html_block(f"<em>{escape_text(answer.end.marker)}</em>")}]


def render_turn(turn: Turn) -> list[dict[str, Any]]:
    """Chatbot messages of one turn: the user's attachments and text, then the answer (if any)."""
    return [*_user_messages(turn), *(render_answer(turn.answer) if turn.answer else [])]


def to_chatbot(history: History) -> list[dict[str, Any]]:
    """The whole conversation as the Chatbot's value (messages format)."""
    return [message for turn in history.turns for message in render_turn(turn)]


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
