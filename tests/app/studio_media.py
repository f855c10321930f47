"""Small media files made on the fly for the app tests (images, a short video, molecule and FASTA files)."""

from __future__ import annotations

from pathlib import Path


def make_image(path: Path, size: tuple[int, int] = (96, 64), color: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path)
    return path


def make_video(
    path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), fps: int = 6, codec: str | None = None
) -> Path:
    """A video whose frames fade from black to white (PyAV: ``codec``, or libx264 falling back to mpeg4)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream(codec or "libx264", rate=fps)
        except (av.error.FFmpegError, ValueError):
            if codec:
                raise
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            level = int(255 * index / max(frames - 1, 1))
            array = np.full((size[1], size[0], 3), level, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
