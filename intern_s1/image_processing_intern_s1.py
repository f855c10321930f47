"""Image processors for Intern-S1: GotOcr2 dynamic tiling plus safe input handling and a faster tiling path.

The tiling algorithm (448 px tiles, up to 12 + a thumbnail, grid choice and tie rule) is transformers'
GotOcr2 one and is reused as is (``get_optimal_tiled_canvas``). What we add:

* input hygiene: EXIF orientation, RGBA/LA/P-with-transparency composited on white (as transformers does),
  CMYK/L/1/P converted, 16-bit and 32-bit greyscale scaled to 8 bit (transformers would saturate them);
* a decompression-bomb guard (``max_image_pixels``) checked from the file header, before decoding;
* clear errors (:class:`InternS1MediaError`) for missing, unreachable, truncated or corrupt images;
* a faster tiling path with the same output as the GotOcr2 processor of the same backend (max |Δ| ≤ 1e-5):
  one resize of the whole image to the grid, tiles cut as views, one fused rescale+normalise into a
  preallocated float32 buffer, and several images processed by a small thread pool (PIL and torch release
  the GIL while resizing).

Two backends mirror transformers v5: :class:`InternS1ImageProcessor` (torchvision, matches
``GotOcr2ImageProcessor``, which is what the real checkpoints' ``GotOcr2ImageProcessorFast`` maps to) and
:class:`InternS1ImageProcessorPil` (PIL/NumPy, matches ``GotOcr2ImageProcessorPil``).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import PIL.Image
import PIL.ImageOps
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, SizeDict
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import (
    GotOcr2ImageProcessorKwargs,
    GotOcr2ImageProcessorPil,
    get_optimal_tiled_canvas,
)
from transformers.processing_utils import Unpack


logger = logging.getLogger(__name__)

# PIL raises DecompressionBombError above twice its warning limit (~179 MP); we use the same ceiling so that
# every image PIL itself would open without error is accepted, and apply it to in-memory inputs too.
DEFAULT_MAX_IMAGE_PIXELS = 2 * 89_478_485
URL_TIMEOUT_S = 30.0
_EXIF_ORIENTATION = 0x0112
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


class InternS1MediaError(ValueError):
    """An image or video input that cannot be used: missing, unreachable, corrupt, empty or too large."""


class InternS1ImageProcessorKwargs(GotOcr2ImageProcessorKwargs, total=False):
    r"""
    max_image_pixels (`int`, *optional*, defaults to `self.max_image_pixels`):
        Largest accepted width × height; larger inputs raise `InternS1MediaError` before being decoded.
    num_workers (`int`, *optional*, defaults to `self.num_workers`):
        Threads used to tile several images at once (`None`: up to 2, bounded by the CPU count).
    """

    max_image_pixels: int
    num_workers: int


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


def load_image(source: str | PIL.Image.Image, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS) -> PIL.Image.Image:
    """Open an image from a URL, data URI, path or PIL image and return it as an upright 8-bit RGB image."""
    if isinstance(source, PIL.Image.Image):
        check_image_pixels(*source.size, max_pixels)
        return to_rgb_image(source)
    if not isinstance(source, str):
        raise TypeError(f"expected an image path, URL or PIL image, got {type(source).__name__}")
    data = read_media_bytes_or_path(source, "image")
    label = source if len(source) < 200 else source[:200] + "…"
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PIL.Image.DecompressionBombWarning)
            image = PIL.Image.open(stream)
            # Size comes from the header: refuse a bomb before decoding any pixel.
            check_image_pixels(*image.size, max_pixels, source=f"image {label!r}")
            image.load()
    except PIL.Image.DecompressionBombError as error:
        raise InternS1MediaError(
            f"image {label!r} is too large to decode safely (decompression-bomb guard): {error}"
        ) from error
    except PIL.UnidentifiedImageError as error:
        raise InternS1MediaError(f"{label!r} is not a readable image (unknown or corrupt format)") from error
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
    """Input handling shared by both backends: our loader for strings, our conversion for PIL images."""

    max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS
    num_workers: int | None = None

    def _workers(self, num_workers: int | None = None) -> int:
        workers = num_workers if num_workers is not None else self.num_workers
        return workers if workers is not None else min(2, os.cpu_count() or 1)

    def fetch_images(self, image_url_or_urls):
        if isinstance(image_url_or_urls, (list, tuple)):
            items = list(image_url_or_urls)
            workers = self._workers()
            if workers > 1 and len(items) > 1 and all(isinstance(item, str) for item in items):
                # Decoding (PIL) releases the GIL: load several files at once.
                with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
                    return list(pool.map(lambda item: load_image(item, self.max_image_pixels), items))
            return [self.fetch_images(item) for item in items]
        if isinstance(image_url_or_urls, str):
            return load_image(image_url_or_urls, self.max_image_pixels)
        return image_url_or_urls

    def process_image(self, image, *args, **kwargs):
        if isinstance(image, PIL.Image.Image):
            image = load_image(image, self.max_image_pixels)
        else:
            _check_array_pixels(image, self.max_image_pixels)
        return super().process_image(image, *args, **kwargs)

    def _tile_all(
        self,
        images: Sequence,
        size: SizeDict,
        crop: bool,
        min_patches: int,
        max_patches: int,
        num_workers: int | None,
        new_buffer: Callable[[int], Any],
        tile_into: Callable[[Any, int, int, Any], None],
    ) -> tuple[Any, list[int]]:
        """Plan every image's grid, allocate one output buffer, fill each image's slice (threaded)."""
        grids = [_grid(*image.shape[-2:], size, min_patches, max_patches) if crop else (1, 1) for image in images]
        counts = [columns * rows + (1 if columns * rows > 1 else 0) for columns, rows in grids]
        out = new_buffer(sum(counts))
        ends = np.cumsum(counts).tolist()
        jobs = [
            (image, columns, rows, out[end - count : end])
            for image, (columns, rows), count, end in zip(images, grids, counts, ends)
        ]
        workers = self._workers(num_workers)
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                tile_into(*job)
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
                list(pool.map(lambda job: tile_into(*job), jobs))
        return out, counts


def get_tile_grid(
    height: int, width: int, tile_size: tuple[int, int] = (448, 448), min_patches: int = 1, max_patches: int = 12
) -> tuple[int, int]:
    """(columns, rows) of the dynamic-tiling grid for an image — transformers' GotOcr2 choice, reused (spec §5.1)."""
    return get_optimal_tiled_canvas((height, width), tuple(tile_size), min_patches, max_patches)


def _grid(height: int, width: int, size: SizeDict, min_patches: int, max_patches: int) -> tuple[int, int]:
    return get_tile_grid(int(height), int(width), (size.height, size.width), min_patches, max_patches)


def _fused_scale_and_bias(
    rescale_factor: float, do_rescale: bool, do_normalize: bool, mean: Sequence[float], std: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, bias) so that ``x * scale + bias`` == normalise(rescale(x))."""
    factor = rescale_factor if do_rescale else 1.0
    if do_normalize:  # mean/std may be scalars or per-channel sequences
        std_array = np.broadcast_to(np.asarray(std, dtype=np.float64), (3,))
        scale = factor / std_array
        bias = -np.broadcast_to(np.asarray(mean, dtype=np.float64), (3,)) / std_array
    else:
        scale = np.full(3, factor)
        bias = np.zeros(3)
    return scale.astype(np.float32), bias.astype(np.float32)


# --------------------------------------------------------------------------------------------------------
# PIL backend
# --------------------------------------------------------------------------------------------------------


class InternS1ImageProcessorPil(_InternS1InputsMixin, GotOcr2ImageProcessorPil):
    """PIL/NumPy Intern-S1 image processor: same output as `GotOcr2ImageProcessorPil`, faster, safer inputs."""

    valid_kwargs = InternS1ImageProcessorKwargs
    model_input_names = ["pixel_values"]
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    size = {"height": 448, "width": 448}
    crop_to_patches = False  # as in the real preprocessor_config.json; the processor turns it on

    def __init__(self, **kwargs: Unpack[InternS1ImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _can_use_fast_path(self, images: list, do_resize: bool, size: SizeDict) -> bool:
        return (
            do_resize
            and size.height is not None
            and size.width is not None
            and all(image.dtype == np.uint8 and image.ndim == 3 and image.shape[0] == 3 for image in images)
        )

    @staticmethod
    def _tile_into(image: np.ndarray, columns: int, rows: int, out: np.ndarray, size, resample, scale, bias) -> None:
        """One CHW uint8 image → ``out`` [tiles, 3, H, W] float32 (grid tiles row-major, then the thumbnail)."""
        pil_image = PIL.Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0)))
        grid = np.asarray(pil_image.resize((columns * size.width, rows * size.height), resample=resample))
        # [rows*H, cols*W, 3] -> [rows, H, cols, W, 3] -> [rows, cols, 3, H, W]
        tiles = grid.reshape(rows, size.height, columns, size.width, 3).transpose(0, 2, 4, 1, 3)
        num_tiles = rows * columns
        channel_scale = scale[:, None, None]
        np.multiply(tiles.reshape(num_tiles, 3, size.height, size.width), channel_scale, out=out[:num_tiles])
        if len(out) > num_tiles:
            thumbnail = np.asarray(pil_image.resize((size.width, size.height), resample=resample)).transpose(2, 0, 1)
            np.multiply(thumbnail, channel_scale, out=out[-1])
        out += bias[None, :, None, None]

    def _preprocess(
        self,
        images: list[np.ndarray],
        do_resize: bool,
        size: SizeDict,
        resample,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean,
        image_std,
        return_tensors,
        crop_to_patches: bool = False,
        min_patches: int = 1,
        max_patches: int = 12,
        num_workers: int | None = None,
        **kwargs,
    ) -> BatchFeature:
        if not self._can_use_fast_path(images, do_resize, size):
            return super()._preprocess(
                images, do_resize, size, resample, do_rescale, rescale_factor, do_normalize, image_mean, image_std,
                return_tensors, crop_to_patches=crop_to_patches, min_patches=min_patches, max_patches=max_patches,
                **kwargs,
            )  # fmt: skip
        scale, bias = _fused_scale_and_bias(rescale_factor, do_rescale, do_normalize, image_mean, image_std)
        crop = crop_to_patches and max_patches > 1

        def tile_into(image: np.ndarray, columns: int, rows: int, out: np.ndarray) -> None:
            self._tile_into(image, columns, rows, out, size, resample, scale, bias)

        def new_buffer(count: int) -> np.ndarray:
            return np.empty((count, 3, size.height, size.width), dtype=np.float32)

        pixel_values, num_patches = self._tile_all(
            images, size, crop, min_patches, max_patches, num_workers, new_buffer, tile_into
        )
        if not return_tensors:
            pixel_values = list(pixel_values)
        return BatchFeature(
            data={"pixel_values": pixel_values, "num_patches": num_patches}, tensor_type=return_tensors
        )


# --------------------------------------------------------------------------------------------------------
# torchvision backend
# --------------------------------------------------------------------------------------------------------

try:
    import torch
    from torchvision.transforms.v2 import functional as tvF
    from transformers.image_utils import pil_torch_interpolation_mapping
    from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor

    _HAS_TORCHVISION = True
except ImportError:  # torchvision missing or not importable beside this torch: the PIL backend still works
    _HAS_TORCHVISION = False


if _HAS_TORCHVISION:

    class InternS1ImageProcessor(_InternS1InputsMixin, GotOcr2ImageProcessor):
        """Torchvision Intern-S1 image processor: same output as `GotOcr2ImageProcessor`, faster, safer inputs."""

        valid_kwargs = InternS1ImageProcessorKwargs
        model_input_names = ["pixel_values"]
        image_mean = IMAGENET_DEFAULT_MEAN
        image_std = IMAGENET_DEFAULT_STD
        size = {"height": 448, "width": 448}
        crop_to_patches = False  # as in the real preprocessor_config.json; the processor turns it on

        def __init__(self, **kwargs: Unpack[InternS1ImageProcessorKwargs]):
            super().__init__(**kwargs)

        @staticmethod
        def _tile_into(image, columns: int, rows: int, out, size, interpolation, scale, bias) -> None:
            """One CHW uint8 tensor → ``out`` [tiles, 3, H, W] float32 (grid tiles row-major, then the thumbnail)."""
            grid = tvF.resize(
                image, [rows * size.height, columns * size.width], interpolation=interpolation, antialias=True
            )
            # [3, rows*H, cols*W] -> [3, rows, H, cols, W] -> [rows, cols, 3, H, W]
            tiles = grid.view(3, rows, size.height, columns, size.width).permute(1, 3, 0, 2, 4)
            num_tiles = rows * columns
            out[:num_tiles].view(rows, columns, 3, size.height, size.width).copy_(tiles)
            if len(out) > num_tiles:
                out[-1].copy_(
                    tvF.resize(image, [size.height, size.width], interpolation=interpolation, antialias=True)
                )
            out.mul_(scale.view(1, 3, 1, 1)).add_(bias.view(1, 3, 1, 1))

        def _preprocess(
            self,
            images: list[torch.Tensor],
            do_resize: bool,
            size: SizeDict,
            resample,
            do_rescale: bool,
            rescale_factor: float,
            do_normalize: bool,
            image_mean,
            image_std,
            disable_grouping: bool | None,
            return_tensors,
            crop_to_patches: bool = False,
            min_patches: int = 1,
            max_patches: int = 12,
            num_workers: int | None = None,
            **kwargs,
        ) -> BatchFeature:
            fast = do_resize and all(
                image.dtype == torch.uint8 and image.ndim == 3 and image.shape[0] == 3 and image.device.type == "cpu"
                for image in images
            )
            if not fast:
                return super()._preprocess(
                    images, do_resize, size, resample, do_rescale, rescale_factor, do_normalize, image_mean,
                    image_std, disable_grouping, return_tensors, crop_to_patches=crop_to_patches,
                    min_patches=min_patches, max_patches=max_patches, **kwargs,
                )  # fmt: skip
            interpolation = (
                pil_torch_interpolation_mapping[resample]
                if not isinstance(resample, tvF.InterpolationMode)
                else resample
            )
            scale, bias = (
                torch.from_numpy(v)
                for v in _fused_scale_and_bias(rescale_factor, do_rescale, do_normalize, image_mean, image_std)
            )
            crop = crop_to_patches and max_patches > 1

            def tile_into(image: torch.Tensor, columns: int, rows: int, out: torch.Tensor) -> None:
                self._tile_into(image, columns, rows, out, size, interpolation, scale, bias)

            def new_buffer(count: int) -> torch.Tensor:
                return torch.empty((count, 3, size.height, size.width), dtype=torch.float32)

            pixel_values, num_patches = self._tile_all(
                images, size, crop, min_patches, max_patches, num_workers, new_buffer, tile_into
            )
            if not return_tensors:
                pixel_values = list(pixel_values)
            return BatchFeature(
                data={"pixel_values": pixel_values, "num_patches": num_patches}, tensor_type=return_tensors
            )

    __all__ = [
        "InternS1ImageProcessor",
        "InternS1ImageProcessorPil",
        "InternS1MediaError",
        "get_tile_grid",
        "load_image",
        "to_rgb_image",
    ]
else:
    __all__ = ["InternS1ImageProcessorPil", "InternS1MediaError", "get_tile_grid", "load_image", "to_rgb_image"]
