"""B5 — Intern-S1 video frame sampling and decoding versus transformers' ``video_utils.load_video``.

Peers, in the same process on the same files: ``transformers.video_utils.load_video(path, backend="pyav")`` and
``backend="decord"``. Both sides get the same sampling function (InternVL's segment centres for N frames), so the
frames must be byte-identical; ours is ``intern_s1.video_processing_intern_s1.load_video`` with the same backend.

Workload (performance.md §5 B5): H.264 clips written with PyAV — 20 s of 640x360 at 30 fps (600 frames), and in the
full run a 60 s 854x480 clip with GOP 60; N = 8 / 16 / 32 (quick: the short clip, N = 8).

Each line: ``{"name", "ours", "peer", "unit": "ms", "ratio" (peer/ours, >1 is faster), "outputs_identical", ...}``;
times are the best of the repetitions, ours and the peer alternating.
Run from the repository root: ``python benchmarks/bench_video.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
import numpy as np  # noqa: E402
from transformers.video_utils import load_video as transformers_load_video  # noqa: E402

from intern_s1.video_processing_intern_s1 import load_video  # noqa: E402


def write_clip(path: Path, seconds: int, width: int, height: int, fps: int = 30, gop: int | None = None) -> Path:
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": "ultrafast"}
    if gop:
        stream.codec_context.gop_size = gop
    yy, xx = np.mgrid[0:height, 0:width]
    for index in range(seconds * fps):
        rgb = np.stack([(xx + index * 4) % 256, (yy + index * 2) % 256, (xx // 2 + yy // 2 + index) % 256], -1)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")))
    container.mux(stream.encode())
    container.close()
    return path


def segment_centres(metadata, num_frames: int, **kwargs) -> np.ndarray:
    """InternVL's rule (initial shift = half a segment)."""
    total = metadata.total_num_frames
    step = total / num_frames
    return (np.arange(num_frames) * step + step / 2).astype(int)


def run_pair(name: str, path: Path, backend: str, num_frames: int, repetitions: int, extra: dict) -> dict:
    sampler = partial(segment_centres, num_frames=num_frames)
    ours_ms = peer_ms = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        peer_frames, _ = transformers_load_video(str(path), backend=backend, sample_indices_fn=sampler)
        peer_ms = min(peer_ms, (time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        ours_frames, _ = load_video(str(path), sampler, backend=backend)
        ours_ms = min(ours_ms, (time.perf_counter() - start) * 1e3)
    identical = peer_frames.shape == ours_frames.shape and np.array_equal(peer_frames, ours_frames)
    return {
        "name": name,
        "ours": round(ours_ms, 1),
        "peer": round(peer_ms, 1),
        "unit": "ms",
        "ratio": round(peer_ms / ours_ms, 3),
        "outputs_identical": bool(identical),
        "backend": backend,
        "num_frames": num_frames,
        "peer_function": f"transformers.video_utils.load_video(backend={backend!r})",
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the short clip, N = 8, one repetition")
    args = parser.parse_args(argv)
    repetitions = 1 if args.quick else 3
    backends = ["pyav"] + (["decord"] if importlib.util.find_spec("decord") else [])

    with tempfile.TemporaryDirectory() as folder:
        clips = [("short_20s_640x360", write_clip(Path(folder) / "short.mp4", 20, 640, 360), {"seconds": 20})]
        if not args.quick:
            long_clip = write_clip(Path(folder) / "long.mp4", 60, 854, 480, gop=60)
            clips.append(("long_60s_854x480_gop60", long_clip, {"seconds": 60}))
        for clip_name, path, extra in clips:
            for num_frames in (8,) if args.quick else (8, 16, 32):
                for backend in backends:
                    name = f"video_sampling_{clip_name}_{backend}_n{num_frames}"
                    print(json.dumps(run_pair(name, path, backend, num_frames, repetitions, extra)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
