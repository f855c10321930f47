"""Images and videos sent as ``data:`` URLs: checked, written to a private temp folder, removed after the answer.

The server never fetches a URL on a client's behalf (``http(s)://`` media are refused). Each item is checked
before anything heavy runs: the MIME type against an allow-list (:data:`~app.config.IMAGE_MIME_TYPES`,
:data:`~app.config.VIDEO_MIME_TYPES`), the size from the base64 length (before decoding), then the decoded file with
the app's own header probes (:mod:`app.chat.media_checks`: only the allowed Pillow plugins and FFmpeg demuxers — so
an EPS labelled PNG never reaches Pillow's EPS plugin and an HLS playlist labelled MP4 never reaches FFmpeg's
network-capable demuxers —, the pixel limit, the processor's memory estimate, every frame's size, the video length).
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from app.chat.errors import InputError
from app.chat.media_checks import probe_image, probe_video
from app.config import IMAGE_MIME_TYPES, VIDEO_MIME_TYPES, Limits
from app.serving.errors import APIError


__all__ = ["IMAGE_TYPES", "VIDEO_TYPES", "MediaKind", "MediaStore"]

logger = logging.getLogger(__name__)

MediaKind = Literal["image", "video"]
# The accepted MIME types, in the order the refusal message lists them (the tables live in app.config).
IMAGE_TYPES = tuple(IMAGE_MIME_TYPES)
VIDEO_TYPES = tuple(VIDEO_MIME_TYPES)


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
        suffix = (IMAGE_MIME_TYPES if kind == "image" else VIDEO_MIME_TYPES)[mime]
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
        self._check(str(path), kind, where)
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

    def _check(self, path: str, kind: MediaKind, where: str) -> None:
        try:  # named by its place in the request: the stored file's name means nothing to the client
            (probe_image if kind == "image" else probe_video)(path, self.limits, name=where)
        except InputError as error:
            raise APIError(str(error), param=where, code="invalid_media") from error
