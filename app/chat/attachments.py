"""Turn what the user typed and uploaded into checked attachments and backend content items.

Files are routed by extension: images and videos become content items; molecule files (.smi, .sdf, .mol) and
sequence files (.fasta, .fa) become text lines naming each record's file and name, with the structure in
``<SMILES>`` / ``<FASTA>`` tags (:mod:`app.chat.science_files`); structures (.pdb, .cif) become one FASTA block
per chain headed by the file and chain name (:mod:`app.chat.structures`). Every budget in
:class:`~app.config.Limits` is checked here, before the model sees anything, with a message fit for the user.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import science_tools
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


class InputError(ValueError):
    """Bad user input; the message is shown to the user as is."""


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


def count_tiles(width: int, height: int, max_tiles: int) -> int:
    """Tiles (448 px, plus a thumbnail when more than one) the Intern-S1 image processor makes of such an image.

    The processor's own count (``get_number_of_image_patches``, the dynamic tiling with ``crop_to_patches`` on, as
    the Intern-S1 processor runs it), so the prompt budget matches what the model will see.
    """
    return _image_processor().get_number_of_image_patches(height, width, {"max_patches": max_tiles})


@functools.lru_cache(maxsize=1)
def _image_processor():
    # Imported here: `import app` must stay light (no transformers, no torch).
    from intern_s1.image_processing_intern_s1 import InternS1ImageProcessorPil

    return InternS1ImageProcessorPil(crop_to_patches=True)


def _check_size(path: str, limits: Limits) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise InputError(f"the uploaded file '{Path(path).name}' could not be read") from error
    if size == 0:
        raise InputError(f"'{Path(path).name}' is empty")
    if size > limits.max_file_size_bytes:
        raise InputError(f"'{Path(path).name}' is {size / 2**20:.1f} MB; the limit is {limits.max_file_size_mb:g} MB")


def probe_image(path: str, limits: Limits) -> str:
    """Open the image header, refuse bombs and unreadable files, and describe its tile budget."""
    from PIL import Image, UnidentifiedImageError

    name = Path(path).name
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise InputError(
                    f"'{name}' has {width}×{height} pixels; the limit is {limits.max_image_pixels:,} pixels"
                )
            image.verify()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"'{name}' is not a readable image ({type(error).__name__})") from error
    tiles = count_tiles(width, height, limits.max_tiles_per_image)
    return f"{name}: {width}×{height} px → about {tiles} tile(s), {tiles * TOKENS_PER_TILE} image tokens"


def probe_video(path: str, limits: Limits) -> str:
    """Check that the video decodes and say how many of its frames will be sampled."""
    import av

    name = Path(path).name
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise InputError(f"'{name}' has no video stream")
            stream = container.streams.video[0]
            seconds = _video_seconds(container, stream)
            frames = stream.frames
            if not frames and seconds and stream.average_rate:
                frames = int(seconds * stream.average_rate)
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise InputError(f"'{name}' is not a readable video ({type(error).__name__})") from error
    if seconds is not None and seconds > limits.max_video_seconds:
        raise InputError(f"'{name}' lasts {_clock(seconds)}; the limit is {_clock(limits.max_video_seconds)}")
    if frames == 0 and seconds == 0:
        raise InputError(f"'{name}' has no frames")
    sampled = min(limits.max_video_frames, frames) if frames else limits.max_video_frames
    return (
        f"{name}: {frames or 'unknown number of'} frames → {sampled} sampled "
        f"(frame budget {limits.max_video_frames}, {TOKENS_PER_TILE} tokens per frame)"
    )


def _video_seconds(container, stream) -> float | None:
    """Duration from the stream header, else the container's (None when neither says)."""
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return None


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
    _check_size(path, limits)
    attachment = Attachment(path=path, name=name or Path(path).name, kind=kind)
    if kind == "image":
        return attachment, probe_image(path, limits)
    if kind == "video":
        return attachment, probe_video(path, limits)
    if kind == "structure":
        report = science_tools.read_structure(path, name=attachment.name)
        if not report.ok:
            raise InputError(report.error or f"'{attachment.name}' could not be read as a structure")
        return replace(attachment, text=structure_prompt_text(report)), structure_note(report)
    from app.chat.science_files import molecule_file_lines, sequence_file_lines  # it imports InputError from here

    lines = (molecule_file_lines if kind == "molecule" else sequence_file_lines)(path, attachment.name)
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
