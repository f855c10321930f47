"""InternS1Processor loaded from a tiny checkpoint: placeholder expansion, prompt-order pixels, padding,
mm_token_type_ids, count checks without partial state, save/load in the published file layout."""

import copy
import json

import numpy as np
import PIL.Image
import pytest
import torch
from checkpoints import write_clip
from transformers import AutoProcessor
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor

import intern_s1  # noqa: F401  (registers the Auto classes)
from intern_s1.image_processing_intern_s1 import InternS1ImageProcessor, InternS1MediaError
from intern_s1.processing_intern_s1 import InternS1PlaceholderError, InternS1Processor
from intern_s1.video_processing_intern_s1 import InternS1VideoProcessor


IMAGE, VIDEO = "<IMG_CONTEXT>", "<video>"


@pytest.fixture(scope="module")
def processor(tiny_checkpoint):
    return AutoProcessor.from_pretrained(tiny_checkpoint)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return str(write_clip(tmp_path_factory.mktemp("video") / "clip.mp4", frames=24))


def _image(width=640, height=480, seed=0):
    rng = np.random.default_rng(seed)
    return PIL.Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_loaded_classes_and_token_ids(processor):
    assert type(processor) is InternS1Processor
    assert type(processor.image_processor) is InternS1ImageProcessor
    assert type(processor.video_processor) is InternS1VideoProcessor
    assert processor.image_seq_length == 256
    tokenizer = processor.tokenizer
    assert processor.image_token_id == tokenizer.convert_tokens_to_ids(IMAGE) == 152957
    assert tokenizer.convert_ids_to_tokens(
        [processor.start_image_token_id, processor.end_image_token_id, processor.video_token_id]
    ) == ["<img>", "</img>", "<video>"]


def test_image_expansion_counts(processor):
    out = processor(
        text=f"Look: {IMAGE} and {IMAGE}", images=[_image(640, 480), _image(448, 448)], return_tensors="pt"
    )
    ids = out["input_ids"][0]
    assert (ids == processor.image_token_id).sum().item() == 256 * (13 + 1)  # 4x3 grid + thumbnail, then 1 tile
    assert (ids == processor.start_image_token_id).sum().item() == 2
    assert (ids == processor.end_image_token_id).sum().item() == 2
    assert out["pixel_values"].shape == (14, 3, 448, 448)
    text = processor.decode(ids)
    assert text.startswith("Look: <img><IMG_CONTEXT>") and text.endswith("<IMG_CONTEXT></img>")
    assert processor._get_num_multimodal_tokens(image_sizes=[(480, 640)])["num_image_tokens"] == [2 + 256 * 13]


def test_video_expansion_per_frame(processor, clip):
    out = processor(text=f"{VIDEO}What happens?", videos=[clip], num_frames=3, do_sample_frames=True)
    text = processor.decode(out["input_ids"][0])
    frame = "<img>" + IMAGE * 256 + "</img>"
    assert text == f"Frame1: {frame}\nFrame2: {frame}\nFrame3: {frame}What happens?"
    assert out["pixel_values"].shape == (3, 3, 448, 448)


def test_pixels_follow_prompt_order_across_images_and_videos(processor, clip):
    image_a, image_b = _image(640, 480, seed=1), _image(448, 448, seed=2)
    out = processor(
        text=[f"{IMAGE} then {VIDEO}", f"{VIDEO}{IMAGE}"],
        images=[[image_a], [image_b]],
        videos=[clip, clip],
        num_frames=2,
        do_sample_frames=True,
        return_tensors="pt",
    )
    tiles_a = processor.image_processor(image_a, crop_to_patches=True, return_tensors="pt")["pixel_values"]
    tiles_b = processor.image_processor(image_b, crop_to_patches=True, return_tensors="pt")["pixel_values"]
    frames = processor.video_processor(clip, num_frames=2, do_sample_frames=True, return_tensors="pt")
    frames = frames["pixel_values_videos"][0]
    expected = torch.cat([tiles_a, frames, frames, tiles_b])
    assert torch.equal(out["pixel_values"], expected)


def test_videos_of_different_lengths_batch(processor, clip, tmp_path):
    short = str(write_clip(tmp_path / "short.mp4", frames=5))
    out = processor(text=[f"{VIDEO}a", f"{VIDEO}b"], videos=[clip, short], return_tensors="pt")
    # Frame budget: 24 frames -> 16 sampled; a 5-frame clip keeps its 5.
    assert out["pixel_values"].shape[0] == 16 + 5
    assert out["input_ids"].shape[0] == 2


def test_left_padding_of_a_batch(processor):
    out = processor(text=["short", "a much longer prompt than the first one"], return_tensors="pt")
    mask = out["attention_mask"]
    assert mask[1].all() and not mask[0].all()
    first_real = int(mask[0].nonzero()[0])
    assert not mask[0, :first_real].any() and mask[0, first_real:].all()
    assert (out["input_ids"][0, :first_real] == processor.tokenizer.pad_token_id).all()


def test_mm_token_type_ids(processor):
    out = processor(text=f"x {IMAGE} y", images=[_image(448, 448)], return_mm_token_type_ids=True, return_tensors="pt")
    ids, types = out["input_ids"][0], out["mm_token_type_ids"][0]
    visual = torch.isin(ids, torch.tensor(processor.image_token_ids))
    assert torch.equal(types.bool(), visual) and int(types.sum()) == 256 + 2


def test_apply_chat_template_with_image_and_video_items(processor, clip, local_file_server):
    _image(320, 320).save(local_file_server.root / "item.png")
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image", "url": local_file_server.url("item.png")},
                {"type": "video", "path": clip},
                {"type": "text", "text": "Describe both."},
            ],
        }
    ]
    out = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt", num_frames=4
    )
    assert out["pixel_values"].shape == (1 + 4, 3, 448, 448)  # square -> 1x1 grid (no thumbnail), 4 frames
    assert (out["input_ids"] == processor.image_token_id).sum().item() == 256 * 5


# ------------------------------------------------------------------------------------------------ errors


def test_more_placeholders_than_images_leaves_no_partial_state(processor, local_file_server):
    _image(64, 64).save(local_file_server.root / "counted.png")
    url = local_file_server.url("counted.png")
    requests_before = len(local_file_server.requests)
    images = [url]
    with pytest.raises(InternS1PlaceholderError, match=r"2 <IMG_CONTEXT> image placeholder\(s\) .* but 1 image"):
        processor(text=f"{IMAGE}{IMAGE}", images=images)
    assert len(local_file_server.requests) == requests_before  # nothing was fetched for a mismatched request
    assert images == [url]
    out = processor(text=f"{IMAGE}", images=images)  # the processor is unaffected
    assert len(out["input_ids"][0]) > 256


def test_other_count_mismatches(processor, clip):
    with pytest.raises(InternS1PlaceholderError, match="0 <IMG_CONTEXT> image placeholder"):
        processor(text="no placeholder", images=[_image()])
    with pytest.raises(InternS1PlaceholderError, match="1 <video> video placeholder"):
        processor(text=f"{VIDEO}")
    with pytest.raises(InternS1PlaceholderError, match=r"per prompt: \[1, 1\]"):
        processor(text=[f"{VIDEO}", f"{VIDEO}"], videos=[clip])
    with pytest.raises(ValueError, match="needs `text`"):
        processor(images=[_image()])


def test_chat_template_with_image_url_that_404s(processor, local_file_server):
    messages = [{"role": "user", "content": [{"type": "image", "url": local_file_server.url("gone.jpg")}]}]
    original = copy.deepcopy(messages)
    with pytest.raises(InternS1MediaError, match="HTTP 404"):
        processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
    assert messages == original


# ------------------------------------------------------------------------------------------------ save / load


def test_save_and_load_round_trip(processor, tmp_path, clip):
    processor.save_pretrained(tmp_path)
    for name in (
        "preprocessor_config.json",
        "video_preprocessor_config.json",
        "processor_config.json",
        "chat_template.jinja",
    ):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "processor_config.json").read_text()) == {
        "image_seq_length": 256,
        "processor_class": "InternS1Processor",
    }
    reloaded = AutoProcessor.from_pretrained(tmp_path)
    assert type(reloaded) is InternS1Processor and reloaded.chat_template == processor.chat_template
    kwargs = {"text": f"{IMAGE}{VIDEO}hi", "images": [_image()], "videos": [clip], "return_tensors": "pt"}
    first, second = processor(**kwargs), reloaded(**kwargs)
    assert torch.equal(first["input_ids"], second["input_ids"])
    assert torch.equal(first["pixel_values"], second["pixel_values"])


def test_stock_got_ocr2_image_processor_is_upgraded(tiny_checkpoint, tmp_path):
    # Real checkpoints name "GotOcr2ImageProcessorFast"; we load it and swap in our class (same pixels).
    import shutil

    shutil.copytree(tiny_checkpoint, tmp_path, dirs_exist_ok=True)
    config_path = tmp_path / "preprocessor_config.json"
    config = json.loads(config_path.read_text())
    config["image_processor_type"] = "GotOcr2ImageProcessorFast"
    config_path.write_text(json.dumps(config))
    processor = AutoProcessor.from_pretrained(tmp_path)
    assert type(processor.image_processor) is InternS1ImageProcessor
    image = _image(1024, 768)
    stock = GotOcr2ImageProcessor(**{k: v for k, v in config.items() if k != "image_processor_type"})
    expected = stock(image, crop_to_patches=True, return_tensors="pt")["pixel_values"]
    got = processor(text=IMAGE, images=[image], return_tensors="pt")["pixel_values"]
    assert torch.max(torch.abs(got - expected)).item() <= 1e-5
