"""B4 — Intern-S1 dynamic tiling (448 px tiles, 1..12 + thumbnail) versus transformers' GotOcr2 processors.

Peers, measured in the same process on the same images: ``GotOcr2ImageProcessorPil`` (PIL/NumPy backend) and the
torchvision ``GotOcr2ImageProcessor``, both configured like the Intern-S1 checkpoints (448², ImageNet mean/std,
``crop_to_patches=True``). Ours: ``InternS1ImageProcessorPil`` / ``InternS1ImageProcessor`` (same backends), which *are*
those processors (the tiling is theirs) plus our input handling (EXIF orientation, alpha / CMYK / 16-bit conversion,
the decompression-bomb guard): the ratio is the cost of that handling. torch runs single-threaded for everyone.

Workload (performance.md §5 B4): mixed sizes and aspects (320x240, 1024x768, 2048x1536, 4000x600, 768x1024
portrait), RGB / RGBA / L / CMYK, EXIF-rotated JPEG and PNG files. Rows with ``decode: false`` feed decoded, upright PIL
images; ``decode: true`` rows feed file paths (each side opens and decodes them itself).

Each line: ``{"name", "ours", "peer", "unit": "img/s", "better": "higher", "ratio", "outputs_identical", ...}``; outputs are identical
when every ``num_patches`` matches and ``max|Δ pixel_values|`` ≤ 1e-5. Times are the best of the repetitions,
ours and the peer alternating. Run from the repository root: ``python benchmarks/bench_image_processing.py [--quick]``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import PIL.ImageOps  # noqa: E402
import torch  # noqa: E402
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD  # noqa: E402
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor  # noqa: E402
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil  # noqa: E402

from intern_s1.image_processing_intern_s1 import InternS1ImageProcessor, InternS1ImageProcessorPil  # noqa: E402


SETTINGS = {
    "crop_to_patches": True,
    "size": {"height": 448, "width": 448},
    "image_mean": IMAGENET_DEFAULT_MEAN,
    "image_std": IMAGENET_DEFAULT_STD,
}
SIZES = [(320, 240), (1024, 768), (2048, 1536), (4000, 600), (768, 1024)]
MODES = ["RGB", "RGBA", "L", "CMYK"]


def _photo_like(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth gradients plus noise: compresses like a photo, unlike pure noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width * 255, yy / height * 255, (xx + yy) / (width + height) * 255], -1)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def make_workload(count: int, folder: Path) -> tuple[list[PIL.Image.Image], list[str]]:
    """``count`` images (decoded) and the same images as files (JPEG with EXIF orientation, or PNG)."""
    images, paths = [], []
    for index in range(count):
        width, height = SIZES[index % len(SIZES)]
        mode = MODES[(index // len(SIZES)) % len(MODES)]
        image = PIL.Image.fromarray(_photo_like(width, height, index)).convert(mode)
        if mode == "CMYK" or (index % 2 == 0 and mode in ("RGB", "L")):  # PNG cannot hold CMYK
            exif = PIL.Image.Exif()
            exif[0x0112] = 6 if index % 4 == 0 else 1  # half of the JPEGs need a 90° turn
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=90, exif=exif)
            path = folder / f"image_{index}.jpg"
        else:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=1)
            path = folder / f"image_{index}.png"
        path.write_bytes(buffer.getvalue())
        paths.append(str(path))
        # Decoded inputs are upright already: transformers applies EXIF orientation only when it opens files.
        images.append(PIL.ImageOps.exif_transpose(PIL.Image.open(path)))
    return images, paths


def _timed(processor, inputs, repetitions: int) -> tuple[float, dict]:
    best, output = float("inf"), None
    for _ in range(repetitions):
        start = time.perf_counter()
        output = processor(inputs, return_tensors="pt")
        best = min(best, time.perf_counter() - start)
    return best, output


def compare(name: str, ours, peer, inputs, repetitions: int, extra: dict) -> dict:
    ours_time = peer_time = float("inf")
    ours_out = peer_out = None
    for _ in range(repetitions):  # alternate, keep the best of each
        t, peer_out = _timed(peer, inputs, 1)
        peer_time = min(peer_time, t)
        t, ours_out = _timed(ours, inputs, 1)
        ours_time = min(ours_time, t)
    same_patches = ours_out["num_patches"].tolist() == peer_out["num_patches"].tolist()
    same_shape = ours_out["pixel_values"].shape == peer_out["pixel_values"].shape
    max_diff = float((ours_out["pixel_values"] - peer_out["pixel_values"]).abs().max()) if same_shape else None
    count = len(inputs)
    tiles = int(ours_out["pixel_values"].shape[0])
    return {
        "name": name,
        "ours": round(count / ours_time, 3),
        "peer": round(count / peer_time, 3),
        "unit": "img/s",
        "better": "higher",
        "ratio": round(peer_time / ours_time, 3),
        "outputs_identical": bool(same_patches and same_shape and max_diff is not None and max_diff <= 1e-5),
        "max_abs_diff": max_diff,
        "images": count,
        "tiles": tiles,
        "ours_tiles_per_s": round(tiles / ours_time, 1),
        "peer_tiles_per_s": round(tiles / peer_time, 1),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 images, best of two repetitions")
    args = parser.parse_args(argv)
    count, repetitions = (10, 2) if args.quick else (64, 3)
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as folder:
        images, paths = make_workload(count, Path(folder))
        backends = [
            ("pil", InternS1ImageProcessorPil, GotOcr2ImageProcessorPil),
            ("torchvision", InternS1ImageProcessor, GotOcr2ImageProcessor),
        ]
        for backend, ours_class, peer_class in backends:
            peer, ours = peer_class(**SETTINGS), ours_class(**SETTINGS)
            for decode, inputs in ((False, images), (True, paths)):
                name = f"image_tiling_{backend}" + ("_with_decode" if decode else "")
                extra = {"backend": backend, "decode": decode, "peer_class": peer_class.__name__}
                print(json.dumps(compare(name, ours, peer, inputs, repetitions, extra)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
