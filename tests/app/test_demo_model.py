"""The embedded offline default: SmolLM2-135M-Instruct inside a real Intern-S1 checkpoint (slow: real weights).

The first run builds the checkpoint into the user cache (minutes on a small CPU); later runs reuse it.
"""

import json

import pytest
from studio_media import make_image, make_video

from app.backends.base import SamplingParams
from app.config import Limits, ModelOptions


pytestmark = pytest.mark.slow

GREEDY = SamplingParams(temperature=0.0, max_new_tokens=24, enable_thinking=False)


@pytest.fixture(scope="module")
def demo():
    import torch

    from app.backends.local import TransformersBackend

    torch.set_num_threads(2)
    backend = TransformersBackend(ModelOptions(device="cpu"), limits=Limits(max_tiles_per_image=1, max_video_frames=2))
    yield backend
    backend.close()


def test_demo_checkpoint_is_a_real_intern_s1_checkpoint(demo):
    from app.demo_model import default_cache_dir, ensure_demo_model, is_built

    path = ensure_demo_model()
    assert path == default_cache_dir() and is_built(path)
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "intern_s1" and config["text_config"]["model_type"] == "llama"
    assert config["vision_config"]["image_size"] in (448, [448, 448])
    assert config["vision_config"]["patch_size"] in (14, [14, 14])
    assert {p.name for p in path.glob("tokenizer_*.model")} == {
        "tokenizer_SMILES.model",
        "tokenizer_IUPAC.model",
        "tokenizer_FASTA.model",
    }
    assert type(demo.processor.tokenizer).__name__ == "InternS1Tokenizer"
    assert demo.info.is_demo_model and demo.info.default_sampling.enable_thinking is False


def test_water_question_mentions_h2o(demo):
    messages = [{"role": "user", "content": "What is the chemical formula of water?"}]
    answer = "".join(d.text for d in demo.stream_chat(messages, GREEDY) if d.kind in ("reasoning", "content"))
    assert "H2O" in answer.replace("₂", "2"), answer


def test_smiles_passes_through_the_smiles_sub_vocabulary(demo):
    rows = demo.explain_tokens("Ethanol is <SMILES>CCO</SMILES>.")
    smiles_rows = [row for row in rows if row[2] == "SMILES"]
    assert smiles_rows and "".join(token for token, _, _ in smiles_rows).replace("▁", "") == "CCO"
    inputs = demo.encode([{"role": "user", "content": "Is <SMILES>CCO</SMILES> an alcohol?"}], GREEDY)
    assert {token_id for _, token_id, _ in smiles_rows} <= set(inputs["input_ids"][0].tolist())
    # Without the tag the same letters are ordinary text tokens.
    assert all(row[2] == "text" for row in demo.explain_tokens("Ethanol is CCO."))


def test_image_and_video_run_through_the_vision_tower(demo, tmp_path):
    image = make_image(tmp_path / "img.png", (64, 64))
    video = make_video(tmp_path / "clip.mp4", frames=6)
    short = GREEDY.with_updates(max_new_tokens=2)
    for item in ({"type": "image", "path": str(image)}, {"type": "video", "path": str(video)}):
        messages = [{"role": "user", "content": [item, {"type": "text", "text": "Describe."}]}]
        inputs = demo.encode(messages, short)
        assert inputs["pixel_values"].shape[-2:] == (448, 448)
        deltas = list(demo.stream_chat(messages, short))
        assert deltas[-1].kind == "usage" and deltas[-1].data["completion_tokens"] >= 1
