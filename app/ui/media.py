"""What the page says about an uploaded video: how many frames the model gets, and whether the browser can play it.

A browser shows a video it cannot decode (MPEG-4 Part 2, HEVC in most browsers, anything in AVI) as
"0:00 / NaN:NaN" without a word; the page shows such a video as a file chip with a note instead. The model is not
affected: the processor decodes the file itself, so the video is still sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


__all__ = ["BROWSER_VIDEO_CODECS", "VideoFacts", "video_facts"]

logger = logging.getLogger(__name__)

# Codecs every current desktop and mobile browser plays, in containers they open (MP4, WebM, QuickTime with H.264).
BROWSER_VIDEO_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})
BROWSER_VIDEO_CONTAINERS = frozenset({".mp4", ".m4v", ".webm", ".mov"})
_CODEC_NAMES = {"mpeg4": "MPEG-4 Part 2", "hevc": "HEVC (H.265)", "mpeg2video": "MPEG-2", "mjpeg": "Motion JPEG"}


@dataclass(frozen=True)
class VideoFacts:
    """What the page tells the user about one video.

    Attributes:
        frames: Frames in the file (None when the header does not say).
        sampled: Frames the model receives (the frame budget, or fewer for a short video).
        codec: The codec's name for people ("H264", "MPEG-4 Part 2"), or None when it could not be read.
        playable: Whether a browser can play it in the page.
    """

    frames: int | None
    sampled: int
    codec: str | None
    playable: bool

    @property
    def unplayable_note(self) -> str:
        """The words shown beside a video the browser cannot play ("" when it can)."""
        if self.playable:
            return ""
        codec = f" ({self.codec})" if self.codec else ""
        return f"your browser cannot play this video's format{codec}; the model still receives it"


@lru_cache(maxsize=128)
def video_facts(path: str, max_frames: int) -> VideoFacts:
    """Frames, codec and playability of a video (read from its header; cached, the chat re-renders often)."""
    import av

    frames: int | None = None
    codec: str | None = None
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            frames = stream.frames or None
            if frames is None and stream.duration and stream.time_base and stream.average_rate:
                frames = int(stream.duration * stream.time_base * stream.average_rate)
    except (av.error.FFmpegError, OSError, IndexError, ValueError) as error:
        logger.info("could not read the header of %s: %s", path, error)
    playable = codec in BROWSER_VIDEO_CODECS and Path(path).suffix.lower() in BROWSER_VIDEO_CONTAINERS
    sampled = min(max_frames, frames) if frames else max_frames
    shown = _CODEC_NAMES.get(codec or "", (codec or "").upper() or None)
    return VideoFacts(frames=frames, sampled=sampled, codec=shown, playable=playable)
