"""Hostile media files for the input-limit tests, built cheaply (streamed PNG rows, planar video frames).

Each one is small on disk and expensive to decode: the point is that the app refuses them from their headers.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke showpage\n%%EOF\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def one_bit_png(path: Path, width: int, height: int) -> Path:
    """A real, fully decodable all-black 1-bit PNG, compressed row by row (never held whole in memory)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    rows_per_block = max(1, 4_000_000 // len(row))
    parts = []
    for start in range(0, height, rows_per_block):
        parts.append(compressor.compress(row * min(rows_per_block, height - start)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
    )
    return path


def eps_named_png(path: Path) -> Path:
    """A PostScript file with a .png name: only Pillow's EPS plugin (Ghostscript) would open it."""
    path.write_bytes(EPS)
    return path


def large_frame_video(path: Path, side: int = 7000, frames: int = 8) -> Path:
    """``frames`` solid ``side``² frames in a small .mov (mpeg4 at its coarsest quantiser)."""
    import av

    with av.open(str(path), "w", format="mov") as container:
        stream = container.add_stream("mpeg4", rate=8, options={"qscale": "31"})
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame(side, side, "yuv420p")
        for index in range(frames):
            for plane in frame.planes:
                plane.update(bytes([16 + 20 * index]) * plane.buffer_size)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def smi_lines(path: Path, lines: int = 300_000) -> Path:
    """A long .smi file (300,000 lines ≈ 5.6 MB): valid molecules, one per line, each with a name."""
    molecules = ("CCO", "CC(=O)O", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C")
    with path.open("w", encoding="utf-8") as handle:
        for number in range(lines):
            handle.write(f"{molecules[number % len(molecules)]} compound-{number}\n")
    return path


class PeakMemory:
    """Peak growth of this process' resident memory while the ``with`` block runs (sampled every 2 ms).

    A sampler, not ``ru_maxrss``: the process' all-time peak (set by whatever ran before) would hide the growth.
    """

    def __init__(self) -> None:
        self.growth = 0
        self.seconds = 0.0

    def __enter__(self) -> PeakMemory:
        import threading
        import time

        from reliability_helpers import rss_bytes

        self._rss = rss_bytes
        self._baseline = rss_bytes(trim=True)
        self._peak = self._baseline
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._started = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self._peak = max(self._peak, self._rss())

    def __exit__(self, *exc_info) -> None:
        import time

        self.seconds = time.perf_counter() - self._started
        self._done.set()
        self._thread.join()
        self._peak = max(self._peak, self._rss())
        self.growth = self._peak - self._baseline
