"""Video processor for Intern-S1: InternVL frame sampling, decord/PyAV decoding, 448 px frames, a frame budget.

Reused from transformers' ``InternVLVideoProcessor``: the resize/rescale/normalise pipeline and the
segment-centre sampling rule (``initial_shift``: indices ``int(shift + k · total / n)`` with
``shift = total / n / 2``). What we add:

* **Decoding without torchcodec.** transformers 5.23 decodes URLs and paths with torchcodec by default,
  which Intern-S1 users do not have; the model page tells them to install decord. We decode with decord when
  it is importable and with PyAV otherwise (both give the same uint8 frames, see the tests), or with the
  backend named by ``video_load_backend``. Only the sampled frames are converted to RGB.
* **A frame budget.** When the caller asks for neither ``num_frames`` nor ``fps`` the real checkpoints'
  configuration would feed *every* decoded frame (256 LLM tokens each). We keep every frame of clips up to
  ``max_frames`` frames (default 16, i.e. 4,096 visual tokens — about one 12-tile image) and sample
  ``max_frames`` segment centres from longer clips. Pass ``num_frames``/``fps`` or ``max_frames`` to change it.
* **Clear errors** (:class:`~intern_s1.image_processing_intern_s1.InternS1MediaError`) for missing, empty,
  unreadable or unreachable videos.
"""

from __future__ import annotations

import bisect
import contextvars
import importlib.util
import io
import logging
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from transformers.models.internvl.video_processing_internvl import (
    InternVLVideoProcessor,
    InternVLVideoProcessorInitKwargs,
)
from transformers.processing_utils import Unpack
from transformers.video_utils import VideoMetadata

from intern_s1.image_processing_intern_s1 import InternS1MediaError, read_media_bytes_or_path


logger = logging.getLogger(__name__)

DEFAULT_MAX_FRAMES = 16
# Frames larger than 8K UHD are refused from the container header, before any is decoded (every sampled frame is
# held as RGB: eight 7,000² frames of a 4 MB .mov would take 1.2 GB before resizing).
DEFAULT_MAX_FRAME_PIXELS = 7680 * 4320
VIDEO_BACKENDS = ("decord", "pyav")

# The backend chosen for the current `preprocess` call; a context variable keeps concurrent calls independent.
_requested_backend: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "intern_s1_video_backend", default=None
)


class InternS1VideoProcessorKwargs(InternVLVideoProcessorInitKwargs, total=False):
    r"""
    max_frames (`int`, *optional*, defaults to `self.max_frames`):
        Frame budget used when neither `num_frames` nor `fps` is given: clips with more frames are sampled down
        to `max_frames` segment centres, shorter clips keep every frame.
    video_load_backend (`str`, *optional*):
        `"decord"` or `"pyav"`; by default decord when installed, else PyAV. torchcodec is never required.
    """

    max_frames: int
    video_load_backend: str


def default_video_backend() -> str:
    """decord when importable (what the model page installs), else PyAV (a hard dependency)."""
    return "decord" if importlib.util.find_spec("decord") is not None else "pyav"


def _open_source(video: str) -> bytes | str:
    data = read_media_bytes_or_path(video, "video")
    if isinstance(data, bytes) and not data:
        raise InternS1MediaError(f"video {video!r} is empty (0 bytes)")
    if isinstance(data, str):
        with open(data, "rb") as handle:
            if not handle.read(1):
                raise InternS1MediaError(f"video file {video!r} is empty (0 bytes)")
    return data


class _DecordFailure(Exception):
    """decord could not open or decode a file; PyAV gets the final word (same frames, clearer errors)."""


def _read_with_decord(data: bytes | str, label: str, sample_indices_fn: Callable) -> tuple[np.ndarray, VideoMetadata]:
    import decord

    try:
        reader = decord.VideoReader(io.BytesIO(data) if isinstance(data, bytes) else data, ctx=decord.cpu(0))
        total = len(reader)
        fps = float(reader.get_avg_fps() or 0.0) or None
    except (decord.DECORDError, RuntimeError) as error:
        raise _DecordFailure(str(error).splitlines()[0]) from error
    if total == 0:
        raise _DecordFailure("no frames")
    metadata = VideoMetadata(
        total_num_frames=total, fps=fps, duration=total / fps if fps else None, video_backend="decord"
    )
    indices = np.asarray(sample_indices_fn(metadata=metadata), dtype=np.int64)
    try:
        # decord fails on some valid files here (e.g. tiny 16x16 MPEG-4 clips), not only on broken ones.
        frames = reader.get_batch(indices.tolist()).asnumpy()
    except (decord.DECORDError, RuntimeError) as error:
        raise _DecordFailure(str(error).splitlines()[0]) from error
    metadata.update({"frames_indices": indices, "height": frames.shape[1], "width": frames.shape[2]})
    return frames, metadata


def _count_frames_pyav(container) -> int:
    """Container frame count, or a demux-only count when the header has none (e.g. some MKV/WebM)."""
    stream = container.streams.video[0]
    if stream.frames:
        return int(stream.frames)
    count = sum(1 for packet in container.demux(stream) if packet.size)
    container.seek(0)
    return count


def _decode_sequentially(container, stream, wanted: list[int]) -> dict[int, np.ndarray]:
    """Decode from the start, counting frames; convert only the wanted ones to RGB."""
    wanted_set, last, decoded = set(wanted), wanted[-1], {}
    for position, frame in enumerate(container.decode(stream)):
        if position in wanted_set:
            decoded[position] = frame.to_ndarray(format="rgb24")
        if position >= last:
            break
    return decoded


def _pts_per_frame(stream) -> Fraction | None:
    """Timestamp units per frame of a constant-frame-rate stream, else None (then frames are counted)."""
    rate, time_base = stream.average_rate, stream.time_base
    if not rate or not time_base or (stream.guessed_rate and stream.guessed_rate != rate):
        return None
    return 1 / (Fraction(rate) * Fraction(time_base))


# A keyframe jump flushes the (frame-threaded) decoder; below this many skipped frames decoding through is cheaper.
SEEK_MIN_SKIP_FRAMES = 24


def _keyframe_positions(container, stream, step: Fraction, start: int) -> list[int] | None:
    """Frame indices of the keyframes, from one demux pass (no decoding); None if a keyframe has no timestamp."""
    positions = []
    for packet in container.demux(stream):
        if packet.is_keyframe and packet.size:
            if packet.pts is None:
                return None
            positions.append(round((packet.pts - start) / step))
    return sorted(positions) or None


def _decode_with_seeks(container, stream, wanted: list[int]) -> dict[int, np.ndarray] | None:
    """Frames by index, jumping to the last keyframe before a sampled frame whenever that skips decoding work.

    A frame's index comes from its timestamp. Returns None when timestamps cannot name frame indices exactly
    (variable frame rate, missing or off-grid timestamps); the caller then decodes sequentially, which gives the
    same frames more slowly.
    """
    step = _pts_per_frame(stream)
    if step is None:
        return None
    start = stream.start_time or 0
    keyframes = _keyframe_positions(container, stream, step, start)
    if keyframes is None:
        return None
    decoded: dict[int, np.ndarray] = {}
    frames, position = None, -1
    for target in wanted:
        keyframe = keyframes[max(0, bisect.bisect_right(keyframes, target) - 1)]
        # Jump when it skips enough frames that would be decoded for nothing to pay for the decoder flush.
        if frames is None or keyframe - position > SEEK_MIN_SKIP_FRAMES:
            container.seek(int(start + keyframe * step), stream=stream, backward=True, any_frame=False)
            frames = container.decode(stream)
        for frame in frames:
            if frame.pts is None:
                return None
            exact = (frame.pts - start) / step
            if abs(exact - round(exact)) > Fraction(1, 100):
                return None
            position = round(exact)
            if position == target:
                decoded[target] = frame.to_ndarray(format="rgb24")
                break
            if position > target:  # the seek landed after the frame: timestamps do not match the grid
                return None
        else:
            break  # stream ended; the caller reports the missing frames
    return decoded


def _read_with_pyav(data: bytes | str, label: str, sample_indices_fn: Callable) -> tuple[np.ndarray, VideoMetadata]:
    import av

    try:
        container = av.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    except av.error.FFmpegError as error:
        raise InternS1MediaError(f"{label!r} is not a readable video: {error}") from error
    with container:
        if not container.streams.video:
            raise InternS1MediaError(f"{label!r} has no video stream")
        stream = container.streams.video[0]
        total = _count_frames_pyav(container)
        if total == 0:
            raise InternS1MediaError(f"video {label!r} has no frames")
        fps = float(stream.average_rate) if stream.average_rate else None
        metadata = VideoMetadata(
            total_num_frames=total,
            fps=fps,
            duration=total / fps if fps else None,
            video_backend="pyav",
            height=stream.height,
            width=stream.width,
        )
        indices = np.asarray(sample_indices_fn(metadata=metadata), dtype=np.int64)
        wanted = sorted({int(index) for index in indices})
        stream.thread_type = "AUTO"  # frame-threaded decode; frames still come out in presentation order
        try:
            decoded = _decode_with_seeks(container, stream, wanted)
            if decoded is None:  # no usable timestamps: decode from the start and count frames
                container.seek(0)
                decoded = _decode_sequentially(container, stream, wanted)
        except av.error.FFmpegError as error:
            raise InternS1MediaError(f"video {label!r} is corrupt: {error}") from error
    missing = sorted(set(wanted) - decoded.keys())
    if missing:
        raise InternS1MediaError(f"video {label!r} ended before frame {missing[0]} (header claims {total} frames)")
    frames = np.stack([decoded[int(index)] for index in indices])
    metadata.frames_indices = indices
    return frames, metadata


def _check_frame_size(data: bytes | str, label: str, max_pixels: int | None) -> None:
    """Refuse a video whose frames are over ``max_pixels``, from the container header (nothing decoded yet)."""
    import av

    if max_pixels is None:
        return
    try:
        with av.open(io.BytesIO(data) if isinstance(data, bytes) else data) as container:
            streams = container.streams.video
            width, height = (streams[0].width, streams[0].height) if streams else (0, 0)
    except av.error.FFmpegError:
        return  # not readable by PyAV: the decoder below words that error
    if width * height > max_pixels:
        raise InternS1MediaError(
            f"video {label!r} has frames of {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{max_pixels:,}; downscale it or raise `max_frame_pixels`."
        )


def load_video(
    video: str,
    sample_indices_fn: Callable,
    backend: str | None = None,
    max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS,
) -> tuple[np.ndarray, VideoMetadata]:
    """Decode the frames chosen by ``sample_indices_fn(metadata=...)`` from a path, URL or data URI.

    Returns ``(frames [F, H, W, 3] uint8 RGB, metadata)``. Raises :class:`InternS1MediaError` for bad input,
    including frames over ``max_frame_pixels`` (checked from the header first). A file decord cannot open or decode
    is decoded with PyAV (the same frames), which also words the error for files that are not videos at all.
    """
    backend = backend or default_video_backend()
    if backend not in VIDEO_BACKENDS:
        raise ValueError(
            f"video_load_backend must be one of {VIDEO_BACKENDS} (or None for automatic), got {backend!r}"
        )
    data = _open_source(video)
    label = video if len(video) < 200 else video[:200] + "…"
    _check_frame_size(data, label, max_frame_pixels)
    if backend == "decord":
        try:
            return _read_with_decord(data, label, sample_indices_fn)
        except _DecordFailure as error:
            logger.info("decord could not decode %r (%s); decoding it with PyAV", label, error)
    return _read_with_pyav(data, label, sample_indices_fn)


class InternS1VideoProcessor(InternVLVideoProcessor):
    """InternVL's video processor with Intern-S1's 448 px / ImageNet settings, decord-or-PyAV decoding and a budget."""

    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    size = {"height": 448, "width": 448}
    max_frames = DEFAULT_MAX_FRAMES
    max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS
    video_load_backend = None
    valid_kwargs = InternS1VideoProcessorKwargs

    def __init__(self, **kwargs: Unpack[InternS1VideoProcessorKwargs]):
        super().__init__(**kwargs)

    def preprocess(self, videos, **kwargs: Unpack[InternS1VideoProcessorKwargs]):
        # Always go through `sample_frames`: with no num_frames/fps it applies the frame budget.
        if not kwargs.get("do_sample_frames", self.do_sample_frames):
            kwargs["do_sample_frames"] = True
        backend = kwargs.pop("video_load_backend", None) or self.video_load_backend
        token = _requested_backend.set(backend)
        try:
            return super().preprocess(videos, **kwargs)
        finally:
            _requested_backend.reset(token)

    def sample_frames(
        self,
        metadata: VideoMetadata,
        num_frames: int | None = None,
        fps: int | float | None = None,
        initial_shift: bool | float | int | None = None,
        max_frames: int | None = None,
        **kwargs,
    ):
        """Segment-centre indices for ``num_frames`` (or ``fps``), else every frame up to the ``max_frames`` budget."""
        num_frames = num_frames if num_frames is not None else self.num_frames
        fps = fps if fps is not None else self.fps
        total = metadata.total_num_frames
        if num_frames is None and fps is not None:
            if not metadata.fps:
                raise InternS1MediaError("cannot sample by `fps`: the video has no frame rate; pass `num_frames`")
            num_frames = max(1, min(total, int(total / metadata.fps * fps)))
        if num_frames is None:
            budget = max_frames if max_frames is not None else self.max_frames
            if total <= budget:
                return np.arange(total)
            num_frames = budget
        if num_frames > total:
            raise ValueError(f"cannot sample num_frames={num_frames} from a video with only {total} frames")
        return super().sample_frames(metadata, num_frames=num_frames, initial_shift=initial_shift).numpy()

    def fetch_videos(self, video_url_or_urls, sample_indices_fn=None):
        if isinstance(video_url_or_urls, (list, tuple)):
            loaded = [self.fetch_videos(item, sample_indices_fn=sample_indices_fn) for item in video_url_or_urls]
            return [frames for frames, _ in loaded], [metadata for _, metadata in loaded]
        if sample_indices_fn is None:

            def sample_indices_fn(metadata):
                return self.sample_frames(metadata)

        return load_video(video_url_or_urls, sample_indices_fn, backend=_requested_backend.get(),
                          max_frame_pixels=self.max_frame_pixels)  # fmt: skip


__all__ = ["InternS1VideoProcessor", "load_video"]
