"""InternS1VideoProcessor: sampling rule, decord/PyAV parity, 448 px frames, the frame budget and bad inputs."""

import importlib.util
import pathlib

import numpy as np
import pytest
import torch
from checkpoints import write_clip
from transformers.video_utils import load_video as transformers_load_video

import intern_s1  # noqa: F401  (registers the Auto classes)
from intern_s1.image_processing_intern_s1 import InternS1MediaError
from intern_s1.video_processing_intern_s1 import (
    DEFAULT_MAX_FRAMES,
    InternS1VideoProcessor,
    default_video_backend,
    load_video,
)


TOTAL_FRAMES, FPS = 48, 24
needs_decord = pytest.mark.skipif(importlib.util.find_spec("decord") is None, reason="decord is Linux x86-64 only")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return str(write_clip(tmp_path_factory.mktemp("video") / "clip.mp4"))


def _indices(processor, **kwargs):
    out = processor(kwargs.pop("video"), return_tensors="pt", return_metadata=True, do_sample_frames=True, **kwargs)
    return out["video_metadata"][0].frames_indices.tolist(), out["pixel_values_videos"]


def test_initial_shift_sampling_rule(clip):
    processor = InternS1VideoProcessor()
    for num_frames in (1, 5, 8, 16, 48):
        step = TOTAL_FRAMES / num_frames
        expected = [int(step / 2 + k * step) for k in range(num_frames)]
        indices, pixels = _indices(processor, video=clip, num_frames=num_frames, video_load_backend="pyav")
        assert indices == expected
        assert pixels.shape == (1, num_frames, 3, 448, 448)


def test_fps_sampling(clip):
    indices, _ = _indices(InternS1VideoProcessor(), video=clip, fps=2, video_load_backend="pyav")
    assert indices == [6, 18, 30, 42]  # 2 s at 2 fps -> 4 segment centres


def test_too_many_frames_requested(clip):
    with pytest.raises(ValueError, match="only 48 frames"):
        InternS1VideoProcessor()(clip, num_frames=49, video_load_backend="pyav")


def test_frame_budget_applies_without_num_frames(clip):
    processor = InternS1VideoProcessor()
    assert processor.max_frames == DEFAULT_MAX_FRAMES == 16
    out = processor(clip, return_tensors="pt", return_metadata=True, video_load_backend="pyav")
    step = TOTAL_FRAMES / 16
    assert out["video_metadata"][0].frames_indices.tolist() == [int(step / 2 + k * step) for k in range(16)]
    # A budget above the clip length keeps every frame.
    out = processor(clip, return_tensors="pt", max_frames=100, video_load_backend="pyav")
    assert out["pixel_values_videos"].shape[1] == TOTAL_FRAMES


@needs_decord
@pytest.mark.parametrize("sampling", [{"num_frames": 8}, {"num_frames": 48}, {"fps": 3}, {}], ids=str)
def test_decord_and_pyav_give_identical_frames(clip, sampling):
    processor = InternS1VideoProcessor()
    outputs = {}
    for backend in ("decord", "pyav"):
        outputs[backend] = processor(
            clip, return_tensors="pt", return_metadata=True, video_load_backend=backend, **sampling
        )
    assert outputs["decord"]["video_metadata"][0].frames_indices.tolist() == (
        outputs["pyav"]["video_metadata"][0].frames_indices.tolist()
    )
    assert torch.equal(outputs["decord"]["pixel_values_videos"], outputs["pyav"]["pixel_values_videos"])


@needs_decord
def test_raw_frames_equal_transformers_load_video(clip):
    def sampler(metadata, **kwargs):
        return np.array([0, 7, 20, 47])

    reference, _ = transformers_load_video(clip, backend="pyav", sample_indices_fn=sampler)
    for backend in ("decord", "pyav"):
        frames, metadata = load_video(clip, sampler, backend=backend)
        assert frames.dtype == np.uint8 and frames.shape == (4, 120, 160, 3)
        assert np.array_equal(frames, reference), backend
        assert metadata.total_num_frames == TOTAL_FRAMES and metadata.fps == FPS


def test_default_backend_never_needs_torchcodec():
    expected = "decord" if importlib.util.find_spec("decord") is not None else "pyav"
    assert default_video_backend() == expected


def test_video_without_naming_a_backend(clip):
    out = InternS1VideoProcessor()(clip, num_frames=4, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 4, 3, 448, 448)


def test_decoded_arrays_are_sampled_too():
    video = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    out = InternS1VideoProcessor()(video, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 16, 3, 448, 448)
    out = InternS1VideoProcessor()(video, num_frames=5, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 5, 3, 448, 448)


def test_video_url(clip, local_file_server):
    (local_file_server.root / "served.mp4").write_bytes(pathlib.Path(clip).read_bytes())
    out = InternS1VideoProcessor()(local_file_server.url("served.mp4"), num_frames=3, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 3, 3, 448, 448)


def test_save_and_load(tmp_path):
    InternS1VideoProcessor(max_frames=8).save_pretrained(tmp_path)
    from transformers import AutoVideoProcessor

    loaded = AutoVideoProcessor.from_pretrained(tmp_path)
    assert type(loaded) is InternS1VideoProcessor
    assert loaded.max_frames == 8 and loaded.size.height == 448 and loaded.initial_shift is True


# ------------------------------------------------------------------------------------------------ errors

BACKENDS = ["pyav", pytest.param("decord", marks=needs_decord)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_byte_video(tmp_path, backend):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(InternS1MediaError, match=r"is empty \(0 bytes\)"):
        InternS1VideoProcessor()(str(path), video_load_backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_file_renamed_mp4(tmp_path, backend):
    path = tmp_path / "notes.mp4"
    path.write_text("these are meeting notes, not a video\n" * 20)
    with pytest.raises(InternS1MediaError, match="is not a readable video"):
        InternS1VideoProcessor()(str(path), video_load_backend=backend)


def test_missing_video_file(tmp_path):
    with pytest.raises(InternS1MediaError, match="video file not found"):
        InternS1VideoProcessor()(str(tmp_path / "nowhere.mp4"))


def test_video_url_that_404s(local_file_server):
    with pytest.raises(InternS1MediaError, match="HTTP 404"):
        InternS1VideoProcessor()(local_file_server.url("missing.mp4"))


def test_unknown_backend_is_refused(clip):
    with pytest.raises(ValueError, match="video_load_backend must be one of"):
        InternS1VideoProcessor()(clip, video_load_backend="torchcodec")


def test_keyframe_seeks_give_the_frames_of_a_sequential_decode(tmp_path):
    # Far-apart samples make the PyAV path seek to keyframes (GOP 12); transformers' loader decodes sequentially.
    path = str(write_clip(tmp_path / "long.mp4", frames=240, gop=12))

    def sampler(metadata, **kwargs):
        return np.array([5, 61, 62, 130, 200, 239])

    reference, _ = transformers_load_video(path, backend="pyav", sample_indices_fn=sampler)
    frames, _ = load_video(path, sampler, backend="pyav")
    assert np.array_equal(frames, reference)
    # Each sampled frame is a different picture (so an off-by-one index would be caught).
    assert len({frame.tobytes() for frame in frames}) == 6


@needs_decord
def test_clip_decord_cannot_decode_falls_back_to_pyav(tmp_path):
    # decord opens a 16x16 MPEG-4 clip but get_batch fails on it; the frames come from PyAV instead.
    import av

    path = tmp_path / "tiny.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=1)
    stream.width = stream.height = 16
    stream.pix_fmt = "yuv420p"
    for index in range(50):
        frame = np.full((16, 16, 3), index * 5, dtype=np.uint8)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
    container.mux(stream.encode())
    container.close()

    def sampler(metadata, **kwargs):
        return np.array([0, 10])

    via_decord, _ = load_video(str(path), sampler, backend="decord")
    via_pyav, _ = load_video(str(path), sampler, backend="pyav")
    assert np.array_equal(via_decord, via_pyav)
    out = InternS1VideoProcessor()(str(path), num_frames=2, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 2, 3, 448, 448)
