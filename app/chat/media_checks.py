"""Images and videos checked from their headers, with allow-listed decoders only, before any pixel is decoded.

Every check here reads a file's header and nothing more, so a hostile file costs milliseconds and no memory:

* **decoders**: an image is opened only by the Pillow plugins of :data:`~app.config.IMAGE_FORMATS` (PNG, JPEG, WebP,
  GIF, BMP, TIFF) and a video only by the FFmpeg demuxers of :data:`~app.config.VIDEO_DEMUXERS`, so an EPS named
  ``.png`` never reaches Pillow's EPS plugin (Ghostscript) and a playlist named ``.mp4`` never reaches a
  network-capable demuxer;
* **pixels**: width × height against ``max_image_pixels``, read from the header (Pillow's own bomb ceiling, ~179 Mpx,
  is reported as the same limit, not as an unreadable file);
* **the processor's real cost**: decoding is cheap to describe but not to do — a 116 kB 1-bit PNG of 1×60,000,000
  pixels is under the pixel limit, yet the processor's first resize pass keeps its height at the tile canvas' width
  (60,000,000 × 448 × 4 bytes = 107 GB). :func:`image_decode_bytes` estimates that from the header and
  ``max_image_decode_mb`` bounds it;
* **video frames**: every frame's size from the container header against ``max_video_frame_pixels`` (eight 7,000²
  frames fit in a 1.3 MB ``.mov``), the duration against ``max_video_seconds``.

Shared by the chat's uploads (:mod:`app.chat.attachments`) and ``serve``'s ``data:`` URLs (:mod:`app.serving.media`).
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

from app.chat.errors import InputError
from app.config import IMAGE_FORMATS, TOKENS_PER_TILE, VIDEO_DEMUXERS, Limits


__all__ = [
    "BYTES_PER_DECODED_PIXEL",
    "count_tiles",
    "image_decode_bytes",
    "probe_image",
    "probe_video",
]

logger = logging.getLogger(__name__)

TILE_SIZE = 448
# Measured for the intern_s1 image processor (transformers 5.23, torchvision backend, tests/app/chat/
# test_media_checks.py prints the figures): about 14 bytes per decoded pixel (the RGB image, its array and tensor
# copies, the resize's 4-byte-per-pixel packing; a 4,000² image costs +215 MB) …
BYTES_PER_DECODED_PIXEL = 14
# … plus the first (horizontal) resize pass, which keeps the input's height: height × canvas width × 4 bytes
# (a 1×100,000 strip costs +200 MB = 100,000 × 448 × 4 bytes and 1.8 GB per million pixels of height).
RESIZE_BYTES_PER_PIXEL = 4
_PILLOW_FORMATS = list(dict.fromkeys(IMAGE_FORMATS.values()))
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def count_tiles(width: int, height: int, max_tiles: int) -> int:
    """Tiles (448 px, plus a thumbnail when more than one) the Intern-S1 image processor makes of such an image.

    The processor's own count (``get_number_of_image_patches``, the dynamic tiling with ``crop_to_patches`` on, as
    the Intern-S1 processor runs it), so the prompt budget matches what the model will see.
    """
    return _image_processor().get_number_of_image_patches(height, width, {"max_patches": max_tiles})


def _tile_columns(width: int, height: int, max_tiles: int) -> int:
    """Columns of the processor's tile grid for such an image (its canvas is that many tiles wide)."""
    from intern_s1.image_processing_intern_s1 import get_tile_grid

    columns, _ = get_tile_grid(height, width, (TILE_SIZE, TILE_SIZE), 1, max_tiles)
    return columns


@functools.lru_cache(maxsize=1)
def _image_processor():
    # Imported here: `import app` must stay light (no transformers, no torch).
    from intern_s1.image_processing_intern_s1 import InternS1ImageProcessorPil

    return InternS1ImageProcessorPil(crop_to_patches=True)


def image_decode_bytes(width: int, height: int, max_tiles: int) -> int:
    """Memory the image processor needs to prepare a ``width``×``height`` image, estimated from its size alone.

    The decoded pixels and their copies, plus the resize buffer of the tile canvas (the thumbnail's pass, made
    afterwards with a 448-px canvas, never needs more).
    """
    columns = _tile_columns(width, height, max_tiles)
    return width * height * BYTES_PER_DECODED_PIXEL + height * columns * TILE_SIZE * RESIZE_BYTES_PER_PIXEL


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 2**10:,.0f} kB"


def _image_header(path: str, name: str, limits: Limits) -> tuple[int, int]:
    """(width, height) from the header, opened only by the allowed Pillow plugins; the file structure is verified."""
    from PIL import Image, UnidentifiedImageError

    allowed = "/".join(_PILLOW_FORMATS)
    try:
        with Image.open(path, formats=_PILLOW_FORMATS) as image:
            width, height = image.size
            _check_pixels(name, width, height, limits)
            image.verify()  # chunk structure and checksums, without decoding pixels
    except Image.DecompressionBombError as error:  # Pillow's own ceiling (~179 Mpx), reached before ours is read
        found = _BOMB_PIXELS.search(str(error))
        count = f"{int(found.group(1)):,} pixels" if found else f"more than {Image.MAX_IMAGE_PIXELS * 2:,} pixels"
        raise InputError(f"'{name}' has {count}; the limit is {limits.max_image_pixels:,} pixels") from error
    except UnidentifiedImageError as error:
        raise InputError(f"'{name}' is not a readable image (not a {allowed} file)") from error
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"'{name}' is not a readable image (damaged {type(error).__name__})") from error
    return width, height


def _check_pixels(name: str, width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_image_pixels:
        raise InputError(
            f"'{name}' has {width:,}×{height:,} = {width * height:,} pixels; the limit is {limits.max_image_pixels:,} "
            "pixels"
        )
    cost = image_decode_bytes(width, height, limits.max_tiles_per_image)
    budget = int(limits.max_image_decode_mb * 2**20)
    if cost > budget:
        shape = "its extreme aspect ratio and size" if max(width, height) > 20 * min(width, height) else "its size"
        raise InputError(
            f"'{name}' ({width:,}×{height:,} pixels) would need about {_size_text(cost)} of memory to prepare for the "
            f"model ({shape}); the limit is {_size_text(budget)}: downscale or crop it"
        )


def probe_image(path: str, limits: Limits, name: str | None = None) -> str:
    """Check an image from its header (format, pixels, preparation cost) and describe its tile budget.

    Args:
        path: the stored file.
        limits: the budgets (``max_image_pixels``, ``max_image_decode_mb``, ``max_tiles_per_image``).
        name: the name to show (default: the file's own name; never a server path).

    Returns:
        A note for the user: the size, the tiles and the image tokens it will take.

    Raises:
        InputError: naming the file and the rule it breaks.
    """
    name = name or Path(path).name
    width, height = _image_header(path, name, limits)
    tiles = count_tiles(width, height, limits.max_tiles_per_image)
    return f"{name}: {width}×{height} px → about {tiles} tile(s), {tiles * TOKENS_PER_TILE} image tokens"


def _open_video(path: str, name: str):
    """The container, opened only by allowed demuxers (the suffix's first, then the others: a mislabelled MP4/MKV)."""
    import av

    suffix_demuxer = VIDEO_DEMUXERS.get(Path(path).suffix.lower())
    demuxers = dict.fromkeys([suffix_demuxer, *VIDEO_DEMUXERS.values()] if suffix_demuxer else VIDEO_DEMUXERS.values())
    for demuxer in demuxers:
        try:
            return av.open(path, format=demuxer)
        except (av.error.FFmpegError, OSError, ValueError):
            continue
    containers = "/".join(suffix[1:].upper() for suffix in VIDEO_DEMUXERS)
    raise InputError(f"'{name}' is not a readable video (not a {containers} file)")


def probe_video(path: str, limits: Limits, name: str | None = None) -> str:
    """Check a video from its container header (demuxer, frame size, length) and say how many frames are sampled.

    Raises:
        InputError: naming the file and the rule it breaks.
    """
    name = name or Path(path).name
    import av

    try:
        with _open_video(path, name) as container:
            if not container.streams.video:
                raise InputError(f"'{name}' has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            seconds = _video_seconds(container, stream)
            frames = stream.frames
            if not frames and seconds and stream.average_rate:
                frames = int(seconds * stream.average_rate)
    except (av.error.FFmpegError, OSError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"'{name}' is not a readable video ({type(error).__name__})") from error
    if width * height > limits.max_video_frame_pixels:
        raise InputError(
            f"'{name}' has frames of {width:,}×{height:,} = {width * height:,} pixels; the limit is "
            f"{limits.max_video_frame_pixels:,} pixels per frame (4K)"
        )
    if seconds is not None and seconds > limits.max_video_seconds:
        raise InputError(f"'{name}' lasts {_clock(seconds)}; the limit is {_clock(limits.max_video_seconds)}")
    if (frames == 0 and seconds == 0) or not width or not height:
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
