"""Turn what the user typed and uploaded into checked attachments and backend content items.

Files are routed by extension: images and videos become content items; molecule files (.smi, .sdf, .mol) and
sequence files (.fasta, .fa) become text lines naming each record's file and name, with the structure in
``<SMILES>`` / ``<FASTA>`` tags (:mod:`app.chat.science_files`); structures (.pdb, .cif) become one FASTA block
per chain headed by the file and chain name (:mod:`app.chat.structures`). Every budget in
:class:`~app.config.Limits` is checked here, before the model sees anything, with a message fit for the user.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import science_tools
from app.chat.errors import InputError
from app.chat.media_checks import count_tiles, probe_image, probe_video
from app.chat.science_files import molecule_file_lines, sequence_file_lines
from app.chat.structures import structure_note, structure_prompt_text
from app.config import (
    ACCEPTED_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MOLECULE_EXTENSIONS,
    SEQUENCE_EXTENSIONS,
    STRUCTURE_EXTENSIONS,
    TOKENS_PER_TILE,
    VIDEO_EXTENSIONS,
    Limits,
)


__all__ = [
    "Attachment",
    "InputError",
    "PreparedTurn",
    "approx_tokens",
    "check_turn_text",
    "count_tiles",
    "file_kind",
    "model_text",
    "neutralize_control_tokens",
    "prepare_user_turn",
    "read_attachment",
    "user_content",
]

logger = logging.getLogger(__name__)

# Control tokens of the Intern-S1 vocabulary that typed text must never produce (fake turns, image placeholders,
# tool calls). A zero-width space after "<" keeps the text readable but stops the tokenizer matching the token.
_CONTROL_TOKEN = re.compile(r"<(?=\|[a-z_]+\|>|/?(?:IMG_CONTEXT|img|video|think)>)")


@dataclass
class PreparedTurn:
    """One user turn ready for a backend, plus notes the UI shows (tiles used, frames sampled)."""

    content: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def file_kind(path: str) -> str:
    """Return "image", "video", "sequence", "structure" or "molecule" for an upload, by extension."""
    suffix = Path(path).suffix.lower()
    for kind, extensions in (
        ("image", IMAGE_EXTENSIONS),
        ("video", VIDEO_EXTENSIONS),
        ("sequence", SEQUENCE_EXTENSIONS),
        ("structure", STRUCTURE_EXTENSIONS),
        ("molecule", MOLECULE_EXTENSIONS),
    ):
        if suffix in extensions:
            return kind
    shown = Path(path).name[:80]
    raise InputError(f"'{shown}' is not a supported file type; accepted: {', '.join(ACCEPTED_EXTENSIONS)}")


def _check_size(path: str, name: str, limits: Limits) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise InputError(f"the uploaded file '{name}' could not be read") from error
    if size == 0:
        raise InputError(f"'{name}' is empty")
    if size > limits.max_file_size_bytes:
        raise InputError(f"'{name}' is {size / 2**20:.1f} MB; the limit is {limits.max_file_size_mb:g} MB")


def neutralize_control_tokens(text: str) -> str:
    """Keep typed ``<|im_end|>``, ``<IMG_CONTEXT>``, ``<|action_start|>``… as plain text for the model."""
    return _CONTROL_TOKEN.sub("<\u200b", text)


@dataclass(frozen=True)
class Attachment:
    """One uploaded file of a user turn, as the history keeps it.

    Attributes:
        path: Where the file is stored (Gradio's upload folder, or the folder an import restored it to).
        name: The file's original name, as the user chose it.
        kind: "image", "video", "molecule", "sequence" or "structure" (see :func:`file_kind`).
        text: What a molecule, sequence or structure file adds to the prompt: one line (or block) per record,
            with where it came from (see :mod:`app.chat.science_files`); "" for media.
    """

    path: str
    name: str
    kind: str
    text: str = ""

    @property
    def is_media(self) -> bool:
        return self.kind in ("image", "video")


def read_attachment(path: str, limits: Limits, name: str | None = None) -> tuple[Attachment, str | None]:
    """Check one upload against the limits and read what it adds to the prompt.

    Returns:
        The attachment and a note for the user (tiles or frames used), or None.

    Raises:
        InputError: naming the file and the problem.
    """
    kind = file_kind(path)
    attachment = Attachment(path=path, name=name or Path(path).name, kind=kind)
    _check_size(path, attachment.name, limits)
    if kind == "image":
        return attachment, probe_image(path, limits, attachment.name)
    if kind == "video":
        return attachment, probe_video(path, limits, attachment.name)
    if kind == "structure":
        report = science_tools.read_structure(path, name=attachment.name)
        if not report.ok:
            raise InputError(report.error or f"'{attachment.name}' could not be read as a structure")
        return replace(attachment, text=structure_prompt_text(report)), structure_note(report)
    # The text a file adds must fit the message's character budget: reading stops as soon as it cannot.
    read_lines = molecule_file_lines if kind == "molecule" else sequence_file_lines
    lines = read_lines(path, attachment.name, max_chars=limits.max_text_chars)
    return replace(attachment, text="\n".join(lines)), None


def model_text(text: str, attachments: list[Attachment]) -> str:
    """The text the model reads for a user turn: what was typed, then the text of molecule / sequence files.

    Typed control tokens are neutralised here (and only here), so every path to the model shares the rule.
    """
    parts = [text, *(attachment.text for attachment in attachments)]
    return neutralize_control_tokens("\n".join(part for part in parts if part))


def user_content(text: str, attachments: list[Attachment]) -> list[dict[str, Any]]:
    """Backend content items of a user turn: images and videos first, then the text."""
    media = [{"type": attachment.kind, "path": attachment.path} for attachment in attachments if attachment.is_media]
    full_text = model_text(text, attachments)
    return media + ([{"type": "text", "text": full_text}] if full_text else [])


def _check_typed_text(text: str, has_files: bool, limits: Limits) -> None:
    if not text.strip() and not has_files:
        raise InputError("the message is empty; type a question or attach a file")
    if len(text) > limits.max_text_chars:
        raise InputError(f"the message has {len(text):,} characters; the limit is {limits.max_text_chars:,}")


def check_turn_text(text: str, attachments: list[Attachment], limits: Limits) -> None:
    """Refuse an empty turn, or one whose text (typed, or with its files' text) is over the limit.

    Raises:
        InputError: saying which limit and by how much.
    """
    _check_typed_text(text, bool(attachments), limits)
    # The limit bounds the text the model receives, so it is checked after neutralising typed control tokens
    # (each gains one invisible character).
    full_text = model_text(text, attachments)
    if len(full_text) > limits.max_text_chars:
        raise InputError(
            f"the message with its files has {len(full_text):,} characters; the limit is {limits.max_text_chars:,}"
        )


def prepare_user_turn(text: str, files: list[str], limits: Limits, names: list[str] | None = None) -> PreparedTurn:
    """Validate one user turn against the limits and build its attachments and backend content items.

    Args:
        text: What the user typed (kept byte for byte; only typed control tokens are neutralised for the model).
        files: Paths of the uploads.
        limits: The budgets to enforce.
        names: Original file names, when they differ from the paths' own names (imports).

    Raises:
        InputError: with a message fit for the user.
    """
    text = text or ""
    files = list(files or [])
    _check_typed_text(text, bool(files), limits)  # before any file is read
    kinds = [file_kind(path) for path in files]
    _check_counts(kinds, limits)
    attachments: list[Attachment] = []
    notes: list[str] = []
    for index, path in enumerate(files):
        attachment, note = read_attachment(path, limits, names[index] if names else None)
        attachments.append(attachment)
        notes += [note] if note else []
    check_turn_text(text, attachments, limits)
    _check_visual_budget(kinds.count("image"), kinds.count("video"), limits)
    return PreparedTurn(content=user_content(text, attachments), notes=notes, attachments=attachments)


def _check_counts(kinds: list[str], limits: Limits) -> None:
    images, videos = kinds.count("image"), kinds.count("video")
    if images > limits.max_images_per_message:
        raise InputError(f"{images} images attached; at most {limits.max_images_per_message} per message")
    if videos > limits.max_videos_per_message:
        raise InputError(f"{videos} videos attached; at most {limits.max_videos_per_message} per message")


def _check_visual_budget(images: int, videos: int, limits: Limits) -> None:
    worst_case = images * limits.max_visual_tokens_per_image() + videos * limits.max_video_frames * TOKENS_PER_TILE
    if worst_case > limits.max_prompt_tokens:
        raise InputError(
            f"these attachments may need up to {worst_case:,} image tokens, more than the prompt budget of "
            f"{limits.max_prompt_tokens:,}; attach fewer images or frames"
        )


def approx_tokens(text: str) -> int:
    """A cheap upper-bound-ish token estimate used before the real tokenizer runs (≈ 3 chars per token)."""
    return math.ceil(len(text) / 3)
