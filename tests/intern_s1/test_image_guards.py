"""The image processor refuses, from the header, what would make it allocate without bound (issue 16)."""

from __future__ import annotations

import PIL.Image
import pytest
from hostile_media import PeakMemory, eps_named_png, one_bit_png

from intern_s1.image_processing_intern_s1 import (
    InternS1ImageProcessor,
    InternS1MediaError,
    check_resize_buffer,
    load_image,
)


MB = 2**20


def test_a_1x60m_strip_is_refused_from_its_header(tmp_path):
    strip = one_bit_png(tmp_path / "strip.png", 1, 60_000_000)  # 117 kB; the first resize pass would need 107 GB
    processor = InternS1ImageProcessor(crop_to_patches=True)
    with PeakMemory() as used, pytest.raises(InternS1MediaError, match=r"100\.1 GiB resize buffer"):
        processor(images=[str(strip)], max_patches=6, return_tensors="pt")
    print(f"\nprocessor refused the 1×60,000,000 strip in {used.seconds:.3f} s, RSS +{used.growth / MB:.0f} MB")
    assert used.seconds < 2 and used.growth < 200 * MB


def test_eps_named_png_never_reaches_pillows_eps_plugin(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    def opened(*args, **kwargs):
        raise AssertionError("Pillow's EPS plugin was asked to open an input")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", opened)
    with pytest.raises(InternS1MediaError, match="not one of PNG, JPEG, WEBP, GIF, BMP, TIFF"):
        load_image(str(eps_named_png(tmp_path / "drawing.png")))


def test_ordinary_strips_are_processed(tmp_path):
    wide, tall = tmp_path / "wide.png", tmp_path / "tall.png"
    PIL.Image.new("RGB", (4000, 2), "red").save(wide)
    PIL.Image.new("RGB", (2, 4000), "blue").save(tall)
    out = InternS1ImageProcessor(crop_to_patches=True)(
        images=[str(wide), str(tall)], max_patches=6, return_tensors="pt"
    )
    assert out["pixel_values"].shape[1:] == (3, 448, 448)
    check_resize_buffer(1080, 100_000, 2**32)  # a long screenshot: its canvas is one tile wide (179 MB)


def test_video_frames_over_the_limit_are_refused_from_the_header(tmp_path):
    from hostile_media import large_frame_video

    from intern_s1.video_processing_intern_s1 import InternS1VideoProcessor

    clip = large_frame_video(tmp_path / "frames.mov", side=7000, frames=2)
    with PeakMemory() as used, pytest.raises(InternS1MediaError, match="frames of 7000x7000 = 49,000,000 pixels"):
        InternS1VideoProcessor()(videos=[str(clip)], return_tensors="pt")
    print(f"\nvideo processor refused 7,000² frames in {used.seconds:.3f} s, RSS +{used.growth / MB:.0f} MB")
    assert used.seconds < 2 and used.growth < 200 * MB
