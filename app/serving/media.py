"""Images and videos sent as ``data:`` URLs: checked, written to a private temp folder, removed after the answer.

The server never fetches a URL on a client's behalf (``http(s)://`` media are refused). Each item is checked
before anything heavy runs: the MIME type against an allow-list, the size from the base64 length (before
decoding), then the decoded file with a content check restricted to the allowed formats (Pillow's ``formats=``,
PyAV's forced demuxer — so an EPS labelled PNG never reaches Pillow's EPS plugin and an HLS playlist labelled MP4
never reaches FFmpeg's network-capable demuxers) and the app's own probes (pixel limit, video length).
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from app.chat.attachments import InputError, probe_image, probe_video
from app.config import Limits
from app.serving.errors import APIError


__all__ = ["IMAGE_TYPES", "VIDEO_TYPES", "MediaKind", "MediaStore"]

logger = logging.getLogger(__name__)

MediaKind = Literal["image", "video"]
# MIME type → (file suffix, Pillow format name). Only these decoders ever see a client's bytes.
IMAGE_TYPES = {
    "image/png": (".png", "PNG"),
    "image/jpeg": (".jpg", "JPEG"),
    "image/webp": (".webp", "WEBP"),
    "image/gif": (".gif", "GIF"),
    "image/bmp": (".bmp", "BMP"),
    "image/tiff": (".tiff", "TIFF"),
}
_PILLOW_FORMATS = [fmt for _, fmt in IMAGE_TYPES.values()]
# MIME type → (file suffix, FFmpeg demuxer forced when the file is opened).
VIDEO_TYPES = {
    "video/mp4": (".mp4", "mp4"),
    "video/quicktime": (".mov", "mov"),
    "video/webm": (".webm", "webm"),
    "video/x-matroska": (".mkv", "matroska"),
    "video/x-msvideo": (".avi", "avi"),
}


class MediaStore:
    """The decoded media of one request; :meth:`close` removes them (safe to call more than once)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.folder: str | None = None  # the private temp folder once a file was written (kept for path scrubbing)

    def save(self, url: str, kind: MediaKind, where: str) -> str:
        """Decode a ``data:`` URL into a checked file and return its path.

        Args:
            url: the part's URL as the client sent it.
            kind: "image" or "video".
            where: the part's place in the request (``messages[0].content[1]``), used in messages and file names.

        Raises:
            APIError: 400 (or 413 for size) naming ``where`` and the rule that was broken.
        """
        mime, payload = self._split(url, kind, where)
        suffix = (IMAGE_TYPES if kind == "image" else VIDEO_TYPES)[mime][0]
        if len(payload) * 3 // 4 > self.limits.max_file_size_bytes:
            raise APIError(f"{where}: the {kind} is larger than the limit of {self.limits.max_file_size_mb:g} MB "
                           "(max_file_size_mb)", 413, param=where, code="file_too_large")  # fmt: skip
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise APIError(f"{where}: the {kind} data URL is not valid base64", param=where) from error
        if not data:
            raise APIError(f"{where}: the {kind} is empty", param=where)
        path = Path(self._ensure_folder()) / (where.replace("[", "-").replace("]", "").replace(".", "_") + suffix)
        path.write_bytes(data)
        self._check(str(path), kind, mime, where)
        return str(path)

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _ensure_folder(self) -> str:
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="intern-s1-serve-")  # mode 0700: private to this user
        return self.folder

    @staticmethod
    def _split(url: str, kind: MediaKind, where: str) -> tuple[str, str]:
        """(MIME type, base64 payload) of a data URL, or a refusal saying what to send instead."""
        if url.lower().startswith(("http://", "https://")):
            raise APIError(f"this server does not fetch remote {kind}s ({where}); send the {kind} as a data: URL "
                           f"(data:{kind}/…;base64,…)", param=where, code="remote_media_refused")  # fmt: skip
        header, comma, payload = url.partition(",")
        if not header.startswith("data:") or not comma:
            raise APIError(f"{where}: the {kind} URL must be a data: URL (data:{kind}/…;base64,…)", param=where)
        mime, _, encoding = header[5:].partition(";")
        mime = mime.strip().lower()
        if encoding.strip().lower() != "base64":
            raise APIError(f"{where}: the {kind} data URL must be base64-encoded (;base64,)", param=where)
        accepted = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
        if mime not in accepted:
            raise APIError(f"{where}: {kind} type {mime!r} is not accepted; send one of {', '.join(accepted)}",
                           param=where, code="unsupported_media_type")  # fmt: skip
        return mime, payload

    def _check(self, path: str, kind: MediaKind, mime: str, where: str) -> None:
        try:
            if kind == "image":
                _open_allowed_image(path, self.limits)
                probe_image(path, self.limits)
            else:
                _open_allowed_video(path, VIDEO_TYPES[mime][1])
                probe_video(path, self.limits)
        except InputError as error:
            raise APIError(f"{where}: {error}", param=where, code="invalid_media") from error


def _open_allowed_image(path: str, limits: Limits) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=_PILLOW_FORMATS):
            pass
    except Image.DecompressionBombError as error:
        raise InputError(f"the image has more pixels than the limit of {limits.max_image_pixels:,}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InputError(f"not a readable {'/'.join(_PILLOW_FORMATS)} image") from error


def _open_allowed_video(path: str, demuxer: str) -> None:
    import av

    try:
        with av.open(path, format=demuxer):
            pass
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise InputError(f"not a readable {demuxer} video") from error
