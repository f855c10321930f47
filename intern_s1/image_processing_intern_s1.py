"""Image processors for Intern-S1: transformers' GotOcr2 processors, with the input handling they lack.

The tiling (448 px tiles, up to ``max_patches`` + a thumbnail, grid choice and tie rule, spec §5.1), resizing and
normalisation are transformers' GotOcr2 processors, inherited unchanged; so is ``get_number_of_image_patches``, the
exact tile count of an image size, which the app uses for its prompt budget. What we add:

* input hygiene: EXIF orientation, RGBA/LA/P-with-transparency composited on white (as transformers does),
  CMYK/L/1/P converted, 16-bit and 32-bit greyscale scaled to 8 bit (transformers would saturate them);
* a decompression-bomb guard (``max_image_pixels``) checked from the file header, before decoding, and a guard on
  the memory the tiling's first resize pass will take (``max_resize_bytes``: that pass keeps the input's height at
  the canvas width, so a 116 kB 1 × 60,000,000 1-bit PNG under the pixel limit would need 107 GB);
* only the Pillow plugins of :data:`IMAGE_FORMATS` open a file (never EPS/PS/PDF, which would run Ghostscript);
* clear errors (:class:`InternS1MediaError`) for missing, unreachable, truncated or corrupt images;
* the Intern-S1 defaults of the real ``preprocessor_config.json`` (448 px, ImageNet mean/std).

Two backends mirror transformers v5: :class:`InternS1ImageProcessor` (torchvision, ``GotOcr2ImageProcessor``, which
is what the real checkpoints' ``GotOcr2ImageProcessorFast`` maps to) and :class:`InternS1ImageProcessorPil`
(PIL/NumPy, ``GotOcr2ImageProcessorPil``).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import warnings
from typing import Any

import httpx
import numpy as np
import PIL.Image
import PIL.ImageOps
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import (
    GotOcr2ImageProcessorKwargs,
    GotOcr2ImageProcessorPil,
    get_optimal_tiled_canvas,
)


logger = logging.getLogger(__name__)

# PIL raises DecompressionBombError above twice its warning limit (~179 MP); we use the same ceiling so that
# every image PIL itself would open without error is accepted, and apply it to in-memory inputs too.
DEFAULT_MAX_IMAGE_PIXELS = 2 * 89_478_485
# The tiling's first (horizontal) resize pass keeps the input's height at the canvas width: it needs
# height × canvas columns × 448 × 4 bytes (measured: a 1 × 100,000 strip costs +200 MB). Refused above this.
DEFAULT_MAX_RESIZE_BYTES = 2**32
# The Pillow plugins allowed to decode an input (by content; a JPEG named .png is fine, an EPS named .png is not).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
URL_TIMEOUT_S = 30.0
_EXIF_ORIENTATION = 0x0112
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class InternS1MediaError(ValueError):
    """An image or video input that cannot be used: missing, unreachable, corrupt, empty or too large."""


class InternS1ImageProcessorKwargs(GotOcr2ImageProcessorKwargs, total=False):
    r"""
    max_image_pixels (`int`, *optional*, defaults to `self.max_image_pixels`):
        Largest accepted width × height; larger inputs raise `InternS1MediaError` before being decoded.
    """

    max_image_pixels: int


# --------------------------------------------------------------------------------------------------------
# Loading and normalising inputs
# --------------------------------------------------------------------------------------------------------


def check_image_pixels(width: int, height: int, max_pixels: int | None, source: str = "image") -> None:
    """Refuse images larger than ``max_pixels`` (a decompression bomb or an unreasonable input)."""
    if max_pixels is not None and width * height > max_pixels:
        raise InternS1MediaError(
            f"{source} is {width}x{height} = {width * height:,} pixels, above the limit of {max_pixels:,} "
            "(decompression-bomb guard); downscale it or raise `max_image_pixels`."
        )


def check_resize_buffer(
    width: int, height: int, max_bytes: int | None, source: str = "image", max_patches: int = 12
) -> None:
    """Refuse an image whose tiling would need a resize buffer over ``max_bytes`` (an extreme aspect ratio)."""
    if max_bytes is None:
        return
    columns, _ = get_tile_grid(height, width, max_patches=max_patches)
    needed = height * columns * 448 * 4  # [height, canvas width, 4 channels] uint8, the first resize pass
    if needed > max_bytes:
        raise InternS1MediaError(
            f"{source} is {width}x{height} pixels: tiling it would need a {needed / 2**30:,.1f} GiB resize buffer, "
            f"above the limit of {max_bytes / 2**30:,.1f} GiB (extreme aspect ratio); crop it or raise "
            "`max_resize_bytes`."
        )


def _fetch_url_bytes(url: str, timeout: float, kind: str) -> bytes:
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as error:
        raise InternS1MediaError(f"could not fetch {kind} from {url}: {error}") from error
    if response.status_code >= 400:
        raise InternS1MediaError(f"could not fetch {kind} from {url}: HTTP {response.status_code}")
    return response.content


def read_media_bytes_or_path(source: str, kind: str, timeout: float = URL_TIMEOUT_S) -> bytes | str:
    """Resolve a URL (fetched, status checked), a ``data:`` URI or a local path; raise a clear error otherwise."""
    if source.startswith(("http://", "https://")):
        return _fetch_url_bytes(source, timeout, kind)
    if source.startswith("data:"):
        try:
            return base64.b64decode(source.split(",", 1)[1], validate=True)
        except (IndexError, binascii.Error) as error:
            raise InternS1MediaError(f"malformed data URI for {kind}: {error}") from error
    path = source.removeprefix("file://")
    if not os.path.isfile(path):
        raise InternS1MediaError(f"{kind} file not found: {source!r} (expected a local path, http(s) URL or data URI)")
    return path


def load_image(
    source: str | PIL.Image.Image,
    max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
    max_resize_bytes: int | None = DEFAULT_MAX_RESIZE_BYTES,
) -> PIL.Image.Image:
    """Open an image from a URL, data URI, path or PIL image and return it as an upright 8-bit RGB image.

    Files are opened only by the plugins of :data:`IMAGE_FORMATS`; the pixel count and the tiling's resize buffer
    are checked from the header, before any pixel is decoded.
    """
    if isinstance(source, PIL.Image.Image):
        check_image_pixels(*source.size, max_pixels)
        check_resize_buffer(*source.size, max_resize_bytes)
        return to_rgb_image(source)
    if not isinstance(source, str):
        raise TypeError(f"expected an image path, URL or PIL image, got {type(source).__name__}")
    data = read_media_bytes_or_path(source, "image")
    label = source if len(source) < 200 else source[:200] + "…"
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PIL.Image.DecompressionBombWarning)
            image = PIL.Image.open(stream, formats=IMAGE_FORMATS)
            # Size comes from the header: refuse a bomb (or an extreme strip) before decoding any pixel.
            check_image_pixels(*image.size, max_pixels, source=f"image {label!r}")
            check_resize_buffer(*image.size, max_resize_bytes, source=f"image {label!r}")
            image.load()
    except PIL.Image.DecompressionBombError as error:
        raise InternS1MediaError(
            f"image {label!r} is too large to decode safely (decompression-bomb guard): {error}"
        ) from error
    except PIL.UnidentifiedImageError as error:
        raise InternS1MediaError(
            f"{label!r} is not a readable image (unknown or corrupt, or not one of {', '.join(IMAGE_FORMATS)})"
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, InternS1MediaError):
            raise
        raise InternS1MediaError(f"image {label!r} is truncated or corrupt: {error}") from error
    return to_rgb_image(image)


def _scale_high_bit_depth(image: PIL.Image.Image) -> PIL.Image.Image:
    """16/32-bit greyscale → 8-bit greyscale by range (65535 → 255), instead of PIL's saturating convert."""
    array = np.asarray(image)
    if image.mode == "F":
        array = np.clip(array * 255.0 if array.max(initial=0.0) <= 1.0 else array, 0, 255)
    else:
        array = np.clip(array.astype(np.float64) / 257.0, 0, 255)
    return PIL.Image.fromarray(np.rint(array).astype(np.uint8))


def to_rgb_image(image: PIL.Image.Image) -> PIL.Image.Image:
    """EXIF-upright, 8-bit RGB; transparency is composited on white (transformers' convention)."""
    if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        image = PIL.ImageOps.exif_transpose(image)
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "F":
        image = _scale_high_bit_depth(image)
    has_alpha = "A" in image.getbands() or image.info.get("transparency") is not None
    if has_alpha:
        rgba = image.convert("RGBA")
        white = PIL.Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return PIL.Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _check_array_pixels(image: Any, max_pixels: int | None) -> None:
    shape = getattr(image, "shape", None)
    if shape is None or len(shape) < 2:
        return
    # Channels-first or channels-last: the two largest of the last three dims are height and width.
    spatial = sorted(shape[-3:])[-2:] if len(shape) >= 3 else shape
    check_image_pixels(int(spatial[-1]), int(spatial[-2]), max_pixels)


class _InternS1InputsMixin:
    """Shared by both backends: the Intern-S1 defaults, our loader for strings, our conversion for PIL images."""

    valid_kwargs = InternS1ImageProcessorKwargs
    model_input_names = ["pixel_values"]
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    size = {"height": 448, "width": 448}
    crop_to_patches = False  # as in the real preprocessor_config.json; the processor turns it on
    max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS
    max_resize_bytes: int | None = DEFAULT_MAX_RESIZE_BYTES

    def fetch_images(self, image_url_or_urls):
        if isinstance(image_url_or_urls, (list, tuple)):
            return [self.fetch_images(item) for item in image_url_or_urls]
        if isinstance(image_url_or_urls, str):
            return load_image(image_url_or_urls, self.max_image_pixels, self.max_resize_bytes)
        return image_url_or_urls

    def process_image(self, image, *args, **kwargs):
        if isinstance(image, PIL.Image.Image):
            image = load_image(image, self.max_image_pixels, self.max_resize_bytes)
        else:
            _check_array_pixels(image, self.max_image_pixels)
        return super().process_image(image, *args, **kwargs)


def get_tile_grid(
    height: int, width: int, tile_size: tuple[int, int] = (448, 448), min_patches: int = 1, max_patches: int = 12
) -> tuple[int, int]:
    """(columns, rows) of the dynamic-tiling grid for an image — transformers' GotOcr2 choice (spec §5.1)."""
    return get_optimal_tiled_canvas((height, width), tuple(tile_size), min_patches, max_patches)


class InternS1ImageProcessorPil(_InternS1InputsMixin, GotOcr2ImageProcessorPil):
    """PIL/NumPy Intern-S1 image processor: `GotOcr2ImageProcessorPil` with safe inputs and Intern-S1 defaults."""


try:
    from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor

    _HAS_TORCHVISION = True
except ImportError:  # torchvision missing or not importable beside this torch: the PIL backend still works
    _HAS_TORCHVISION = False


__all__ = [
    "IMAGE_FORMATS",
    "InternS1ImageProcessorPil",
    "InternS1MediaError",
    "check_resize_buffer",
    "get_tile_grid",
    "load_image",
    "to_rgb_image",
]

if _HAS_TORCHVISION:

    class InternS1ImageProcessor(_InternS1InputsMixin, GotOcr2ImageProcessor):
        """Torchvision Intern-S1 image processor: `GotOcr2ImageProcessor` with safe inputs and Intern-S1 defaults."""

    __all__ += ["InternS1ImageProcessor"]
