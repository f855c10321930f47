"""Hostile uploads are refused from their headers, in bounded time and memory (issue 16).

Each case prints its measured wall time and peak RSS growth (``-s`` shows them; docs/reliability.md quotes them).
The bounds are the issue's acceptance figures, generous on purpose: the machine is shared and noisy.
"""

from __future__ import annotations

import pytest
from hostile_media import PeakMemory, eps_named_png, large_frame_video, one_bit_png, smi_lines

from app.chat.attachments import InputError, prepare_user_turn
from app.chat.media_checks import count_tiles, image_decode_bytes, probe_image
from app.config import Limits


LIMITS = Limits()
MB = 2**20


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile files, built once: small on disk, huge to decode."""
    folder = tmp_path_factory.mktemp("hostile")
    return {
        "strip": one_bit_png(folder / "strip.png", 1, 60_000_000),  # 116 kB; the processor would allocate 107 GB
        "square": one_bit_png(folder / "square.png", 7999, 7999),  # 7.8 kB, under 64 Mpx; ~1 GB to prepare
        "bomb": one_bit_png(folder / "bomb.png", 30_000, 30_000),  # beyond Pillow's own bomb ceiling
        "eps": eps_named_png(folder / "drawing.png"),
        "video": large_frame_video(folder / "frames.mov"),  # eight 7,000² frames
        "smi": smi_lines(folder / "library.smi"),  # 300,000 lines
    }


@pytest.mark.parametrize(
    ("name", "message", "seconds", "megabytes"),
    [
        ("strip", r"'strip.png' \(1×60,000,000 pixels\) would need about 1\d\d\.\d GB of memory .* extreme aspect", 2, 200),
        ("square", r"'square.png' \(7,999×7,999 pixels\) would need about 8\d\d\.\d MB of memory", 2, 200),
        ("bomb", r"'bomb.png' has 900,000,000 pixels; the limit is 64,000,000 pixels", 2, 200),
        ("eps", r"'drawing.png' is not a readable image \(not a PNG/JPEG/WEBP/GIF/BMP/TIFF file\)", 2, 200),
        ("video", r"'frames.mov' has frames of 7,000×7,000 = 49,000,000 pixels; the limit is 8,294,400", 2, 200),
        ("smi", r"'library.smi' has more than 1,000 molecules; the limit is 1,000", 5, 200),
    ],
)  # fmt: skip
def test_hostile_upload_is_refused_from_its_header_in_bounded_time_and_memory(
    hostile, name, message, seconds, megabytes
):
    path = hostile[name]
    with PeakMemory() as used, pytest.raises(InputError, match=message):
        prepare_user_turn("What is this?", [str(path)], LIMITS)
    print(f"\n{name} ({path.stat().st_size:,} bytes): refused in {used.seconds:.3f} s, RSS +{used.growth / MB:.0f} MB")
    assert used.seconds < seconds
    assert used.growth < megabytes * MB


def test_eps_never_reaches_pillows_eps_plugin(hostile, monkeypatch):
    from PIL import EpsImagePlugin

    def opened(*args, **kwargs):
        raise AssertionError("Pillow's EPS plugin was asked to open an upload")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", opened)
    with pytest.raises(InputError, match="not a readable image"):
        probe_image(str(hostile["eps"]), LIMITS)


def test_the_decode_estimate_follows_the_processors_resize_buffer():
    # A tall strip keeps its height in the first resize pass: 60,000,000 rows × 448 px × 4 bytes = 107.5 GB.
    assert image_decode_bytes(1, 60_000_000, 6) == 60_000_000 * 14 + 60_000_000 * 448 * 4
    # The same strip lying down is cheap: its first pass is one row wide.
    assert image_decode_bytes(60_000_000, 1, 6) < 900 * MB
    # A 48-megapixel photo fits the default budget, a 7,999² image does not.
    assert image_decode_bytes(8000, 6000, 6) < LIMITS.max_image_decode_mb * MB < image_decode_bytes(7999, 7999, 6)


def test_ordinary_large_photo_and_wide_strip_are_accepted(tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (6000, 4000), "green").save(photo, quality=50)
    strip = tmp_path / "strip.png"
    Image.new("RGB", (4000, 2), "red").save(strip)
    turn = prepare_user_turn("?", [str(photo), str(strip)], LIMITS)
    assert [a.kind for a in turn.attachments] == ["image", "image"]
    assert f"{count_tiles(4000, 2, 6)} tile(s)" in turn.notes[1]


def test_a_video_is_opened_only_by_the_allowed_demuxers(tmp_path):
    playlist = tmp_path / "stream.mp4"
    playlist.write_bytes(b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    with pytest.raises(InputError, match=r"'stream.mp4' is not a readable video \(not a MP4/M4V/MOV/WEBM/MKV/AVI"):
        prepare_user_turn("?", [str(playlist)], LIMITS)
