"""Turn what the user typed and uploaded (and the chat history) into backend messages.

Files are routed by extension: images and videos become content items; molecule files (.smi, .sdf, .mol)
become ``<SMILES>``-tagged text; sequence files (.fasta, .fa, .pdb) become plain sequences, left for the
tokenizer's FASTA auto-detection (Intern-S1 has no explicit protein tag). Every budget in
:class:`~app.config.Limits` is checked here, before the model sees anything, with a message fit for the user.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import (
    ACCEPTED_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MOLECULE_EXTENSIONS,
    SEQUENCE_EXTENSIONS,
    TOKENS_PER_TILE,
    VIDEO_EXTENSIONS,
    Limits,
)


logger = logging.getLogger(__name__)

THINKING_TITLE = "Thinking"
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


def file_kind(path: str) -> str:
    """Return "image", "video", "sequence" or "molecule" for an upload, by extension."""
    suffix = Path(path).suffix.lower()
    for kind, extensions in (
        ("image", IMAGE_EXTENSIONS),
        ("video", VIDEO_EXTENSIONS),
        ("sequence", SEQUENCE_EXTENSIONS),
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
        raise InputError(
            f"'{Path(path).name}' is {size / 2**20:.1f} MB; the limit is {limits.max_file_size_mb:g} MB"
        )


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


def smiles_from_molecule_file(path: str) -> list[str]:
    """SMILES of every molecule in a .smi, .sdf or .mol file."""
    from rdkit import Chem, rdBase

    name = Path(path).name
    suffix = Path(path).suffix.lower()
    with rdBase.BlockLogs():
        if suffix == ".smi":
            smiles = _smiles_lines(Path(path).read_text(encoding="utf-8", errors="replace"), name)
        elif suffix == ".sdf":
            smiles = [Chem.MolToSmiles(mol) for mol in Chem.SDMolSupplier(path) if mol is not None]
        else:
            mol = Chem.MolFromMolFile(path)
            smiles = [Chem.MolToSmiles(mol)] if mol is not None else []
    if not smiles:
        raise InputError(f"no valid molecule could be read from '{name}'")
    return smiles


def _smiles_lines(text: str, name: str) -> list[str]:
    """Canonical SMILES of each line of a .smi file (first column); an invalid line is an error."""
    import science_tools

    smiles = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        report = science_tools.check_smiles(line.split()[0])
        if not report.ok:
            raise InputError(f"no valid molecule on line {number} of '{name}': {report.error}")
        smiles.append(report.canonical_smiles)
    return smiles


def sequences_from_file(path: str) -> list[str]:
    """Protein / DNA sequences of a FASTA or PDB file."""
    from Bio import SeqIO

    name = Path(path).name
    suffix = Path(path).suffix.lower()
    formats = ("pdb-seqres", "pdb-atom") if suffix == ".pdb" else ("fasta",)
    for fmt in formats:
        try:
            records = list(SeqIO.parse(path, fmt))
        except (ValueError, KeyError, IndexError, UnicodeDecodeError):
            continue
        sequences = [str(record.seq) for record in records if len(record.seq)]
        if sequences:
            return sequences
    raise InputError(f"no sequence could be read from '{name}' (expected FASTA records starting with '>')")


def prepare_user_turn(text: str, files: list[str], limits: Limits) -> PreparedTurn:
    """Validate one user turn against the limits and build its backend content items."""
    text = text or ""
    files = list(files or [])
    if not text.strip() and not files:
        raise InputError("the message is empty; type a question or attach a file")
    if len(text) > limits.max_text_chars:
        raise InputError(f"the message has {len(text):,} characters; the limit is {limits.max_text_chars:,}")
    kinds = [file_kind(path) for path in files]
    _check_counts(kinds, limits)
    media: list[dict[str, Any]] = []
    extra_text: list[str] = []
    notes: list[str] = []
    for path, kind in zip(files, kinds):
        _check_size(path, limits)
        if kind == "image":
            notes.append(probe_image(path, limits))
            media.append({"type": "image", "path": path})
        elif kind == "video":
            notes.append(probe_video(path, limits))
            media.append({"type": "video", "path": path})
        elif kind == "molecule":
            extra_text += [f"<SMILES>{smiles}</SMILES>" for smiles in smiles_from_molecule_file(path)]
        else:
            extra_text += sequences_from_file(path)
    # The limit bounds the text the model receives, so it is checked after neutralising typed control tokens
    # (each gains one invisible character).
    full_text = neutralize_control_tokens("\n".join(part for part in [text, *extra_text] if part))
    if len(full_text) > limits.max_text_chars:
        raise InputError(
            f"the message with its files has {len(full_text):,} characters; the limit is {limits.max_text_chars:,}"
        )
    _check_visual_budget(len([k for k in kinds if k == "image"]), len([k for k in kinds if k == "video"]), limits)
    content = media + ([{"type": "text", "text": full_text}] if full_text else [])
    return PreparedTurn(content=content, notes=notes)


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


def _content_items(content: Any) -> list[dict[str, Any]]:
    """Normalise a Gradio message's content (str, dict or list) to a list of typed items."""
    items = content if isinstance(content, list) else [content]
    normalised = []
    for item in items:
        if isinstance(item, str):
            normalised.append({"type": "text", "text": item})
        elif isinstance(item, dict) and "file" in item:
            normalised.append({"type": "file", "path": item["file"]["path"]})
        elif isinstance(item, dict) and "path" in item and item.get("type") != "component":
            normalised.append({"type": "file", "path": item["path"]})
        elif isinstance(item, dict):
            normalised.append(item)
    return normalised


def _plain_text(items: list[dict[str, Any]]) -> str:
    # Chat text was HTML-escaped for display (rendering.sanitize_markdown); the model gets the original.
    return "".join(html.unescape(item["text"]) for item in items if item.get("type") == "text")


def history_to_messages(history: list[dict[str, Any]], system_prompt: str | None = "") -> list[dict[str, Any]]:
    """Backend messages from the Chatbot's history (thinking blocks become ``reasoning_content``).

    Molecule cards and notices shown in the chat are for the user only and are not sent back.
    """
    system_prompt = (system_prompt or "").strip()
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    pending_reasoning = ""
    for message in history:
        items = _content_items(message.get("content"))
        title = (message.get("metadata") or {}).get("title")
        if message["role"] == "user":
            media = [
                {"type": file_kind(item["path"]), "path": item["path"]}
                for item in items
                if item["type"] == "file" and file_kind(item["path"]) in ("image", "video")
            ]
            text = neutralize_control_tokens(_plain_text(items))
            messages.append({"role": "user", "content": media + ([{"type": "text", "text": text}] if text else [])})
        elif title == THINKING_TITLE or (title or "").startswith(THINKING_TITLE):
            pending_reasoning += _plain_text(items)
        elif message["role"] == "assistant" and not title:
            text = _plain_text(items)
            if not text:
                continue  # a molecule card or other component
            if messages and messages[-1]["role"] == "assistant":
                messages[-1]["content"] += text
                continue
            turn: dict[str, Any] = {"role": "assistant", "content": text}
            if pending_reasoning:
                turn["reasoning_content"] = pending_reasoning
            messages.append(turn)
            pending_reasoning = ""
    return messages


def approx_tokens(text: str) -> int:
    """A cheap upper-bound-ish token estimate used before the real tokenizer runs (≈ 3 chars per token)."""
    return math.ceil(len(text) / 3)
