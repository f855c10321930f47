"""Tiny checkpoint directories: the real layout, the user's from_pretrained path, and save/load round trips."""

import json

import pytest
import torch
from safetensors import safe_open
from tiny_checkpoints import REAL_VOCAB_SIZE, build_tiny_checkpoint, make_tiny_config
from transformers import AutoModelForImageTextToText, AutoProcessor

import intern_s1  # noqa: F401  (registers the Auto classes)


EXPECTED_FILES = {
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "tokenizer_SMILES.model",
    "tokenizer_IUPAC.model",
    "tokenizer_FASTA.model",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "processor_config.json",
    "chat_template.jinja",
}


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_dense_checkpoint_layout_and_values(tiny_checkpoint):
    assert EXPECTED_FILES <= {p.name for p in tiny_checkpoint.iterdir()}
    config = _read(tiny_checkpoint / "config.json")
    assert config["model_type"] == "intern_s1" and config["text_config"]["model_type"] == "qwen3"
    assert config["image_token_id"] == 152957 and config["image_seq_length"] == 256
    assert config["text_config"]["vocab_size"] == REAL_VOCAB_SIZE
    assert config["vision_config"]["image_size"] == [448, 448] and config["vision_config"]["patch_size"] == [14, 14]
    assert config["vision_config"]["norm_type"] == "layer_norm" and not config["vision_config"]["use_qk_norm"]
    generation = _read(tiny_checkpoint / "generation_config.json")
    assert (generation["bos_token_id"], generation["eos_token_id"]) == (151643, 151645)
    preprocessor = _read(tiny_checkpoint / "preprocessor_config.json")
    assert preprocessor["size"] == {"height": 448, "width": 448} and preprocessor["max_patches"] == 12
    assert preprocessor["image_mean"] == [0.485, 0.456, 0.406]
    assert (
        _read(tiny_checkpoint / "video_preprocessor_config.json")["video_processor_type"] == "InternS1VideoProcessor"
    )


def test_moe_checkpoint_has_rms_norm_and_qk_norm(tiny_moe_checkpoint):
    config = _read(tiny_moe_checkpoint / "config.json")
    assert config["text_config"]["model_type"] == "qwen3_moe"
    assert config["vision_config"]["norm_type"] == "rms_norm" and config["vision_config"]["use_qk_norm"]
    with safe_open(tiny_moe_checkpoint / "model.safetensors", "pt") as weights:
        names = set(weights.keys())
    assert any(".attention.q_norm." in name for name in names)
    assert any(".mlp.experts." in name or ".mlp.gate." in name for name in names)


@pytest.mark.slow
def test_every_variant_loads_and_runs_through_the_processor(tiny_checkpoint_variant):
    processor = AutoProcessor.from_pretrained(tiny_checkpoint_variant)
    model = AutoModelForImageTextToText.from_pretrained(tiny_checkpoint_variant, dtype="auto")
    inputs = processor(
        text="<IMG_CONTEXT>hi", images=[torch.zeros(3, 448, 448, dtype=torch.uint8)], return_tensors="pt"
    )
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (1, inputs["input_ids"].shape[1], REAL_VOCAB_SIZE)
    assert torch.isfinite(logits).all()


@pytest.mark.slow
def test_save_pretrained_from_pretrained_round_trip(tiny_checkpoint, tmp_path):
    processor = AutoProcessor.from_pretrained(tiny_checkpoint)
    model = AutoModelForImageTextToText.from_pretrained(tiny_checkpoint, dtype="auto").eval()
    inputs = processor(
        text="<IMG_CONTEXT>Describe.", images=[torch.zeros(3, 600, 900, dtype=torch.uint8)], return_tensors="pt"
    )
    with torch.no_grad():
        before = model(**inputs).logits

    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    assert EXPECTED_FILES <= {p.name for p in tmp_path.iterdir()}
    reloaded_processor = AutoProcessor.from_pretrained(tmp_path)
    reloaded_model = AutoModelForImageTextToText.from_pretrained(tmp_path, dtype="auto").eval()
    reloaded_inputs = reloaded_processor(
        text="<IMG_CONTEXT>Describe.", images=[torch.zeros(3, 600, 900, dtype=torch.uint8)], return_tensors="pt"
    )
    assert torch.equal(inputs["input_ids"], reloaded_inputs["input_ids"])
    with torch.no_grad():
        after = reloaded_model(**reloaded_inputs).logits
    assert torch.equal(before, after)


def test_remote_code_flavour(tiny_remote_code_checkpoint):
    config = _read(tiny_remote_code_checkpoint / "config.json")
    assert config["model_type"] == "interns1" and "AutoConfig" in config["auto_map"]
    with safe_open(tiny_remote_code_checkpoint / "model.safetensors", "pt") as weights:
        names = list(weights.keys())
    assert any(".encoder.layer.0." in name for name in names)
    assert not any(".encoder.layers." in name for name in names)
    model = AutoModelForImageTextToText.from_pretrained(tiny_remote_code_checkpoint, dtype="auto")
    assert type(model).__name__ == "InternS1ForConditionalGeneration"
    # auto_maps point at hub code; our registered classes are used without trust_remote_code.
    processor = AutoProcessor.from_pretrained(tiny_remote_code_checkpoint)
    assert type(processor).__name__ == "InternS1Processor"
    assert type(processor.image_processor).__name__ == "InternS1ImageProcessor"  # upgraded from GotOcr2
    assert type(processor.tokenizer).__name__ == "InternS1Tokenizer"
    assert type(processor.video_processor).__name__ == "InternS1VideoProcessor"


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    def first_weight(path):
        with safe_open(path / "model.safetensors", "pt") as weights:
            return weights.get_tensor("model.multi_modal_projector.linear_1.weight")

    small = {"vocab_size": 152960 + 64, "max_position_embeddings": 4096}
    a = build_tiny_checkpoint(tmp_path / "a", seed=1, **small)
    b = build_tiny_checkpoint(tmp_path / "b", seed=1, **small)
    c = build_tiny_checkpoint(tmp_path / "c", seed=2, **small)
    assert torch.equal(first_weight(a), first_weight(b))
    assert not torch.equal(first_weight(a), first_weight(c))


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match="text_model_type must be one of"):
        build_tiny_checkpoint(tmp_path, text_model_type="llama4")
    with pytest.raises(ValueError, match="norm_type must be one of"):
        build_tiny_checkpoint(tmp_path, norm_type="batch_norm")
    with pytest.raises(ValueError, match="does not cover <IMG_CONTEXT>"):
        build_tiny_checkpoint(tmp_path, vocab_size=1000)


def test_make_tiny_config_variants():
    dense = make_tiny_config()
    moe = make_tiny_config("qwen3_moe", norm_type="rms_norm", use_qk_norm=True, image_size=56)
    assert not dense.is_moe and moe.is_moe and moe.text_config.output_router_logits
    assert moe.vision_config.norm_type == "rms_norm" and moe.vision_config.use_qk_norm
    assert moe.image_seq_length == 4 and dense.image_seq_length == 256
    assert make_tiny_config(pad_token_id=7).text_config.pad_token_id == 7
    with pytest.raises(ValueError, match="must be inside the vocabulary"):
        make_tiny_config(vocab_size=10, image_token_id=10)
