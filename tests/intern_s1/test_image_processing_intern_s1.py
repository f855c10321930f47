"""Intern-S1 image processing: the tiling grid, parity with transformers' GotOcr2 processors, input hygiene, errors."""

import io

import numpy as np
import PIL.Image
import PIL.ImageOps
import pytest
import torch
from transformers import AutoImageProcessor
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

import intern_s1  # noqa: F401  (registers the Auto classes)
from intern_s1.image_processing_intern_s1 import (
    InternS1ImageProcessor,
    InternS1ImageProcessorPil,
    InternS1MediaError,
    get_tile_grid,
    load_image,
)


SETTINGS = {
    "crop_to_patches": True,
    "size": {"height": 448, "width": 448},
    "image_mean": IMAGENET_DEFAULT_MEAN,
    "image_std": IMAGENET_DEFAULT_STD,
}
PAIRS = [(InternS1ImageProcessor, GotOcr2ImageProcessor), (InternS1ImageProcessorPil, GotOcr2ImageProcessorPil)]


def _noise(width: int, height: int, mode: str = "RGB", seed: int = 0) -> PIL.Image.Image:
    rng = np.random.default_rng(seed)
    channels = len(PIL.Image.new(mode, (1, 1)).getbands())
    array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return PIL.Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode=mode)


# (width, height) -> (columns, rows): spec §5.1 examples
GRID_TABLE = [
    ((448, 448), (1, 1)),
    ((128, 64), (2, 1)),
    ((640, 480), (4, 3)),
    ((1920, 1080), (4, 2)),
    ((200, 2000), (1, 10)),
]


@pytest.mark.parametrize(("size", "grid"), GRID_TABLE, ids=[f"{w}x{h}" for (w, h), _ in GRID_TABLE])
def test_tiling_grid_table(size, grid):
    width, height = size
    assert get_tile_grid(height, width) == grid
    columns, rows = grid
    expected_patches = 1 if columns * rows == 1 else columns * rows + 1  # + thumbnail
    out = InternS1ImageProcessorPil(**SETTINGS)(PIL.Image.new("RGB", size, (90, 30, 200)), return_tensors="pt")
    assert out["num_patches"].tolist() == [expected_patches]
    assert out["pixel_values"].shape == (expected_patches, 3, 448, 448)
    assert InternS1ImageProcessorPil(**SETTINGS).get_number_of_image_patches(height, width, {}) == expected_patches


def test_tiles_are_row_major_then_thumbnail():
    # Left half red, right half blue, 2x1 grid: tile 0 red, tile 1 blue, thumbnail half and half.
    array = np.zeros((64, 128, 3), dtype=np.uint8)
    array[:, :64, 0] = 255
    array[:, 64:, 2] = 255
    out = InternS1ImageProcessorPil(**{**SETTINGS, "image_mean": 0.0, "image_std": 1.0})(PIL.Image.fromarray(array))
    first, second, thumbnail = (np.asarray(tile) for tile in out["pixel_values"])
    assert first[0].mean() > 0.95 and first[2].mean() < 0.05
    assert second[2].mean() > 0.95 and second[0].mean() < 0.05
    assert abs(thumbnail[0, :, :200].mean() - 1.0) < 0.05 and abs(thumbnail[2, :, 248:].mean() - 1.0) < 0.05


@pytest.mark.parametrize(("ours", "peer"), PAIRS, ids=["torchvision", "pil"])
@pytest.mark.parametrize("crop_to_patches", [True, False])
def test_pixel_values_equal_transformers_got_ocr2(ours, peer, crop_to_patches):
    images = [
        _noise(640, 480),
        _noise(1024, 768, seed=1),
        _noise(300, 1000, mode="RGBA", seed=2),
        _noise(500, 200, mode="L", seed=3),
        _noise(100, 90, mode="CMYK", seed=4),
        _noise(448, 448, seed=5).convert("P"),
    ]
    settings = {**SETTINGS, "crop_to_patches": crop_to_patches}
    expected = peer(**settings)(images, return_tensors="pt")
    got = ours(**settings)(images, return_tensors="pt")
    assert got["num_patches"].tolist() == expected["num_patches"].tolist()
    assert got["pixel_values"].shape == expected["pixel_values"].shape
    assert torch.max(torch.abs(got["pixel_values"] - expected["pixel_values"])).item() <= 1e-5


@pytest.mark.parametrize(("ours", "peer"), PAIRS, ids=["torchvision", "pil"])
def test_array_inputs_and_no_tensor_output_match_peer(ours, peer):
    image = np.array(_noise(320, 240))
    expected = peer(**SETTINGS)(image)
    got = ours(**SETTINGS)(image)
    assert len(got["pixel_values"]) == len(expected["pixel_values"])
    for tile, reference in zip(got["pixel_values"], expected["pixel_values"]):
        assert np.max(np.abs(np.asarray(tile) - np.asarray(reference))) <= 1e-5


def _jpeg_with_orientation(image: PIL.Image.Image, orientation: int) -> bytes:
    exif = PIL.Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    path.write_bytes(_jpeg_with_orientation(_noise(200, 100), orientation=6))  # 6: rotate 90° clockwise to view
    loaded = load_image(str(path))
    assert loaded.size == (100, 200) and loaded.mode == "RGB"
    reference = PIL.ImageOps.exif_transpose(PIL.Image.open(path)).convert("RGB")
    assert np.array_equal(np.asarray(loaded), np.asarray(reference))
    # The processor applies it to PIL inputs too: one 100x200 image is a 1x2 grid, not 2x1.
    out = InternS1ImageProcessorPil(**SETTINGS)(PIL.Image.open(path))
    assert out["num_patches"] == [3]


def test_sixteen_bit_greyscale_is_scaled_not_saturated():
    array = np.array([[0, 257 * 128, 65535]], dtype=np.uint16).repeat(4, axis=0)
    image = PIL.Image.fromarray(array)
    assert image.mode == "I;16"
    rgb = np.asarray(load_image(image))
    assert rgb.shape == (4, 3, 3)
    assert rgb[0, :, 0].tolist() == [0, 128, 255]
    assert np.all(rgb[..., 0] == rgb[..., 2])


def test_transparency_is_composited_on_white():
    image = PIL.Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert np.all(np.asarray(load_image(image)) == 255)


def test_cmyk_and_palette_become_rgb():
    for image in (_noise(8, 8, mode="CMYK"), _noise(8, 8).convert("P"), _noise(8, 8, mode="L")):
        converted = load_image(image)
        assert converted.mode == "RGB"
        assert np.array_equal(np.asarray(converted), np.asarray(image.convert("RGB")))


# ------------------------------------------------------------------------------------------------ errors


def test_decompression_bomb_file_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    PIL.Image.new("1", (20000, 20000)).save(path)  # ~50 kB on disk, 400 megapixels
    with pytest.raises(InternS1MediaError, match="decompression-bomb guard"):
        load_image(str(path))
    with pytest.raises(InternS1MediaError, match="decompression-bomb guard"):
        InternS1ImageProcessor(**SETTINGS)(str(path))


def test_pixel_limit_applies_to_in_memory_images():
    processor = InternS1ImageProcessor(**SETTINGS, max_image_pixels=100 * 100)
    with pytest.raises(InternS1MediaError, match="above the limit of 10,000"):
        processor(_noise(200, 200))
    with pytest.raises(InternS1MediaError, match="above the limit"):
        processor(np.zeros((200, 200, 3), dtype=np.uint8))
    assert processor(_noise(100, 100))["num_patches"] == [1]


def test_truncated_image_file(tmp_path):
    buffer = io.BytesIO()
    _noise(300, 300).save(buffer, format="JPEG")
    path = tmp_path / "truncated.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InternS1MediaError, match="truncated or corrupt"):
        load_image(str(path))


def test_corrupt_image_file(tmp_path):
    path = tmp_path / "corrupt.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(InternS1MediaError, match="corrupt"):
        load_image(str(path))
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n")
    with pytest.raises(InternS1MediaError, match="not a readable image"):
        load_image(str(path))


def test_missing_image_file(tmp_path):
    with pytest.raises(InternS1MediaError, match="image file not found"):
        load_image(str(tmp_path / "nowhere.png"))


def test_image_url_that_404s(local_file_server):
    url = local_file_server.url("missing-image.jpg")
    with pytest.raises(InternS1MediaError, match="HTTP 404"):
        load_image(url)


def test_image_url_is_loaded(local_file_server):
    _noise(64, 48).save(local_file_server.root / "served.png")
    loaded = load_image(local_file_server.url("served.png"))
    assert loaded.size == (64, 48)


# ------------------------------------------------------------------------------------------------ save / load


@pytest.mark.parametrize(
    ("backend", "expected_class"), [("torchvision", InternS1ImageProcessor), ("pil", InternS1ImageProcessorPil)]
)
def test_save_and_load_with_auto_image_processor(tmp_path, backend, expected_class):
    InternS1ImageProcessorPil(**SETTINGS).save_pretrained(tmp_path)
    loaded = AutoImageProcessor.from_pretrained(tmp_path, backend=backend)
    assert type(loaded) is expected_class
    assert loaded.crop_to_patches is True and loaded.size.height == 448
    assert tuple(loaded.image_mean) == tuple(IMAGENET_DEFAULT_MEAN)
