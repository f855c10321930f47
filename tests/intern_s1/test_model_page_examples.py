"""The model page's three usage examples (text, image by URL, video by URL), copied verbatim, run end to end.

Only two things are swapped, by exact string replacement before the code runs: the model name becomes a tiny random
checkpoint directory (built by the `tiny_checkpoint` fixture in the real on-disk layout), and the two internet URLs
become files served by a temporary HTTP server on 127.0.0.1, so the `url` code path itself runs.

`max_new_tokens=1024` stays as written. Generating 1,024 tokens with the 153,216-row LM head takes ~30 s per example
on a shared 2-core CPU, so the copied checkpoint's `generation_config.json` lists every id as an end-of-sequence id:
`generate` stops after its first new token and the examples still run prefill (with the image tiles / video frames),
one sampling step and `processor.decode` exactly as written.
"""

import json
import pathlib
import shutil

import numpy as np
import PIL.Image
import pytest
from checkpoints import write_clip


MODEL_NAME = '"internlm/Intern-S1-hf"'
IMAGE_URL = "http://images.cocodataset.org/val2017/000000039769.jpg"
VIDEO_URL = "https://huggingface.co/datasets/hf-internal-testing/fixtures_videos/resolve/main/tennis.mp4"
MODEL_PAGE = pathlib.Path(__file__).resolve().parents[3] / "shared" / "model_page" / "intern_s1.md"

# ---- verbatim from the model page, section "Usage example" -------------------------------------------------------

TEXT_SNIPPET = """\
from transformers import AutoProcessor, AutoModelForImageTextToText
import torch

model_name = "internlm/Intern-S1-hf"
processor = AutoProcessor.from_pretrained(model_name)
model = AutoModelForImageTextToText.from_pretrained(model_name, device_map="auto", dtype="auto")

messages = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "tell me about an interesting physical phenomenon."},
        ],
    }
]

inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt").to(model.device, dtype=torch.bfloat16)

generate_ids = model.generate(**inputs, max_new_tokens=1024)
decoded_output = processor.decode(generate_ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
print(decoded_output)
"""

IMAGE_SNIPPET = """\
from transformers import AutoProcessor, AutoModelForImageTextToText
import torch

model_name = "internlm/Intern-S1-hf"
processor = AutoProcessor.from_pretrained(model_name)
model = AutoModelForImageTextToText.from_pretrained(model_name, device_map="auto", dtype="auto")

messages = [
    {
        "role": "user",
        "content": [
            {"type": "image", "url": "http://images.cocodataset.org/val2017/000000039769.jpg"},
            {"type": "text", "text": "Please describe the image explicitly."},
        ],
    }
]

inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt").to(model.device, dtype=torch.bfloat16)

generate_ids = model.generate(**inputs, max_new_tokens=1024)
decoded_output = processor.decode(generate_ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
print(decoded_output)
"""

VIDEO_SNIPPET = """\
from transformers import AutoProcessor, AutoModelForImageTextToText
import torch

model_name = "internlm/Intern-S1-hf"
processor = AutoProcessor.from_pretrained(model_name)
model = AutoModelForImageTextToText.from_pretrained(model_name, device_map="auto", dtype="auto")

messages = [
        {
            "role": "user",
            "content": [
                {
                    "type": "video",
                    "url": "https://huggingface.co/datasets/hf-internal-testing/fixtures_videos/resolve/main/tennis.mp4",
                },
                {"type": "text", "text": "What type of shot is the man performing?"},
            ],
        }
    ]

inputs = processor.apply_chat_template(
        messages,
        return_tensors="pt",
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
    ).to(model.device, dtype=torch.float16)

generate_ids = model.generate(**inputs, max_new_tokens=1024)
decoded_output = processor.decode(generate_ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
print(decoded_output)
"""
# ---- end of the verbatim copies ----------------------------------------------------------------------------------

SNIPPETS = {"text": TEXT_SNIPPET, "image": IMAGE_SNIPPET, "video": VIDEO_SNIPPET}


def test_snippets_are_verbatim_copies_of_the_model_page():
    assert MODEL_NAME in TEXT_SNIPPET and IMAGE_URL in IMAGE_SNIPPET and VIDEO_URL in VIDEO_SNIPPET
    if MODEL_PAGE.is_file():  # the shared docs sit beside the repository on the development machines
        page = MODEL_PAGE.read_text(encoding="utf-8")
        for snippet in SNIPPETS.values():
            assert f"```python\n{snippet}```" in page


@pytest.fixture(scope="module")
def stopping_checkpoint(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint with every token id an end-of-sequence id (see the module docstring)."""
    path = tmp_path_factory.mktemp("model-page-checkpoint")
    shutil.copytree(tiny_checkpoint, path, dirs_exist_ok=True)
    vocab_size = json.loads((path / "config.json").read_text())["text_config"]["vocab_size"]
    generation_config = json.loads((path / "generation_config.json").read_text())
    generation_config["eos_token_id"] = list(range(vocab_size))
    (path / "generation_config.json").write_text(json.dumps(generation_config))
    return path


@pytest.fixture(scope="module")
def served_media(local_file_server):
    rng = np.random.default_rng(39769)
    PIL.Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(
        local_file_server.root / "000000039769.jpg", quality=90
    )
    write_clip(local_file_server.root / "tennis.mp4", frames=60, fps=30, width=320, height=240)
    return {IMAGE_URL: local_file_server.url("000000039769.jpg"), VIDEO_URL: local_file_server.url("tennis.mp4")}


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(SNIPPETS))
def test_model_page_example_runs(example, stopping_checkpoint, served_media, local_file_server, capsys):
    import intern_s1  # noqa: F401  (what a user imports once; it registers the Auto classes)

    code = SNIPPETS[example].replace(MODEL_NAME, repr(str(stopping_checkpoint)))
    for url, local_url in served_media.items():
        code = code.replace(url, local_url)
    requests_before = len(local_file_server.requests)

    namespace = {"__name__": f"model_page_{example}"}
    exec(compile(code, f"<model page: {example} input>", "exec"), namespace)  # noqa: S102 - the point of the test

    decoded_output = namespace["decoded_output"]
    assert isinstance(decoded_output, str)
    assert namespace["generate_ids"].shape[1] > namespace["inputs"]["input_ids"].shape[1]
    assert capsys.readouterr().out == decoded_output + "\n"
    pixel_values = namespace["inputs"].get("pixel_values")
    if example == "text":
        assert pixel_values is None
    else:
        assert len(local_file_server.requests) > requests_before  # fetched over HTTP
        # image: 640x480 -> 4x3 grid + thumbnail; video: 60 frames -> the 16-frame budget
        assert pixel_values.shape[0] == (13 if example == "image" else 16)
