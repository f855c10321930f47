"""Intern-S1 model tests on tiny random-weight configs.

The numerical oracle is transformers' own InternVLForConditionalGeneration with the same weights copied in: the
public reference implementation is numerically identical to it (intern_s1_spec.md, Appendix), so any difference
in logits or greedy tokens is a bug in our model.
"""

import copy
import importlib.util
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny_checkpoints import make_tiny_config
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    InternVLConfig,
    InternVLForConditionalGeneration,
    InternVLVisionConfig,
    InternVLVisionModel,
)
from transformers.activations import GELUActivation
from transformers.models.internvl.modeling_internvl import InternVLVisionRMSNorm

from intern_s1.auto_registration import register_auto_classes
from intern_s1.configuration_intern_s1 import InternS1Config
from intern_s1.modeling_intern_s1 import (
    InternS1ForConditionalGeneration,
    InternS1Model,
    InternS1VisionModel,
    pixel_shuffle,
)


REPO_ROOT = Path(__file__).resolve().parents[2]
TILE = 56  # 4x4 patches of 14 pixels → 4 image tokens per tile after the 2x2 pixel shuffle
IMAGE_TOKEN_ID = 1


@pytest.fixture(scope="module", autouse=True)
def _registered():
    register_auto_classes()  # what `import intern_s1` does


def tiny_config(text_model_type: str = "qwen3", **kwargs) -> InternS1Config:
    return make_tiny_config(text_model_type, image_size=TILE, image_token_id=IMAGE_TOKEN_ID, **kwargs)


def randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter (zero-initialised position tables and layer scales included) random values."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    return model.eval()


def build(config: InternS1Config, seed: int = 0, **kwargs) -> InternS1ForConditionalGeneration:
    return randomize(InternS1ForConditionalGeneration._from_config(config, **kwargs), seed)


def internvl_twin(model: InternS1ForConditionalGeneration, **kwargs) -> InternVLForConditionalGeneration:
    """transformers' InternVL with the same config values and weights (vision list renamed `layers` → `layer`)."""
    values = model.config.to_dict()
    for key in ("model_type", "image_seq_length", "auto_map", "tie_word_embeddings"):
        values.pop(key, None)
    vision = {k: v for k, v in values.pop("vision_config").items() if k not in ("model_type", "drop_path_rate")}
    peer_config = InternVLConfig(
        vision_config=InternVLVisionConfig(**vision), **values, tie_word_embeddings=False
    )  # InternVLConfig ties lm_head by default; Intern-S1 does not
    peer = InternVLForConditionalGeneration._from_config(peer_config, **kwargs).eval()
    state = {k.replace(".encoder.layers.", ".encoder.layer."): v for k, v in model.state_dict().items()}
    peer.load_state_dict(state, strict=True)
    return peer


def make_inputs(config: InternS1Config, batch: int = 2, text_length: int = 9, seed: int = 1) -> dict:
    generator = torch.Generator().manual_seed(seed)
    tokens = config.image_seq_length
    input_ids = torch.randint(4, config.text_config.vocab_size, (batch, text_length + tokens), generator=generator)
    input_ids[:, 2 : 2 + tokens] = config.image_token_id  # one tile per sample
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "pixel_values": torch.randn(batch, 3, *config.vision_config.image_size, generator=generator),
    }


def gpu_check_module():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO_ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


# --------------------------------------------------------------------------------------------------- forward


@pytest.mark.parametrize("text_model_type", ["qwen3", "qwen3_moe"])
def test_forward_shapes(text_model_type):
    config = tiny_config(text_model_type)
    model = build(config)
    inputs = make_inputs(config)
    with torch.no_grad():
        out = model(**inputs)
    batch, length = inputs["input_ids"].shape
    assert out.logits.shape == (batch, length, config.text_config.vocab_size)
    assert out.logits.dtype == torch.float32
    assert out.image_hidden_states.shape == (batch, config.image_seq_length, config.text_config.hidden_size)
    assert out.past_key_values.get_seq_length() == length
    if text_model_type == "qwen3_moe":
        assert len(out.router_logits) == config.text_config.num_hidden_layers
        assert out.router_logits[0].shape == (batch * length, config.text_config.num_experts)
    else:
        assert out.router_logits is None and out.aux_loss is None


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_forward_keeps_dtype(dtype):
    config = tiny_config()
    model = build(config).to(dtype)
    inputs = make_inputs(config)  # float32 pixels are cast to the model dtype
    with torch.no_grad():
        out = model(**inputs)
    assert out.logits.dtype == dtype
    assert out.image_hidden_states.dtype == dtype
    assert torch.isfinite(out.logits.float()).all()


def test_logits_to_keep_returns_last_positions():
    config = tiny_config()
    model = build(config)
    inputs = make_inputs(config)
    with torch.no_grad():
        full = model(**inputs).logits
        last = model(**inputs, logits_to_keep=1).logits
    assert last.shape[1] == 1
    assert max_abs_diff(last[:, -1], full[:, -1]) <= 1e-6  # a different matmul shape may round differently


# --------------------------------------------------------------------------------------- parity with InternVL

PARITY_CASES = {
    # Intern-S1-mini's vision tower: LayerNorm, no qk-norm, qkv bias; dense Qwen3.
    "mini-dense": {
        "text_model_type": "qwen3",
        "norm_type": "layer_norm",
        "use_qk_norm": False,
        "attention_bias": True,
    },
    # Intern-S1's vision tower: RMSNorm with qk-norm, no bias; Qwen3-MoE.
    "s1-moe": {"text_model_type": "qwen3_moe", "norm_type": "rms_norm", "use_qk_norm": True, "attention_bias": False},
}


@pytest.mark.parametrize("case", PARITY_CASES)
def test_logits_equal_internvl(case):
    config = tiny_config(**PARITY_CASES[case])
    model = build(config)
    peer = internvl_twin(model)
    inputs = make_inputs(config)
    with torch.no_grad():
        ours = model(**inputs)
        theirs = peer(**inputs)
    assert max_abs_diff(ours.logits, theirs.logits) <= 1e-5
    assert max_abs_diff(ours.image_hidden_states, theirs.image_hidden_states) <= 1e-5


@pytest.mark.parametrize("case", PARITY_CASES)
def test_greedy_generate_equals_internvl(case):
    config = tiny_config(**PARITY_CASES[case])
    model = build(config)
    peer = internvl_twin(model)
    inputs = make_inputs(config)
    ours = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    theirs = peer.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert ours.shape == (2, inputs["input_ids"].shape[1] + 8)
    assert torch.equal(ours, theirs)


def test_other_vision_feature_layer_equals_internvl():
    config = tiny_config(vision_layers=3)
    model = build(config)
    peer = internvl_twin(model)
    inputs = make_inputs(config)
    with torch.no_grad():
        ours = model(**inputs, vision_feature_layer=-2).logits
        theirs = peer(**inputs, vision_feature_layer=-2).logits
        last = model(**inputs).logits
    assert max_abs_diff(ours, theirs) <= 1e-5
    assert max_abs_diff(ours, last) > 1e-3  # the option really selects another layer


def test_pixel_shuffle_channel_order_matches_spec_formula():
    tiles, side, channels = 2, 4, 3
    features = torch.arange(tiles * side * side * channels, dtype=torch.float32).reshape(tiles, side, side, channels)
    shuffled = pixel_shuffle(features, 0.5)
    assert shuffled.shape == (tiles, side // 2, side // 2, 4 * channels)
    # intern_s1_spec.md §4.3: Y[r, c, m] = X[2r + m // (2D), 2c + (m mod 2D) // D, m mod D]
    for r in range(side // 2):
        for c in range(side // 2):
            for m in range(4 * channels):
                source = features[
                    :, 2 * r + m // (2 * channels), 2 * c + (m % (2 * channels)) // channels, m % channels
                ]
                assert torch.equal(shuffled[:, r, c, m], source)


def test_pixel_shuffle_rejects_odd_grid():
    with pytest.raises(ValueError, match="not divisible"):
        pixel_shuffle(torch.zeros(1, 3, 3, 2), 0.5)


# ----------------------------------------------------------------------------------------------- vision tower


def test_projector_and_norm_constants():
    config = tiny_config(norm_type="rms_norm", use_qk_norm=True)
    model = InternS1ForConditionalGeneration(config)
    projector = model.model.multi_modal_projector
    assert projector.layer_norm.eps == 1e-5
    assert projector.layer_norm.normalized_shape == (4 * config.vision_config.hidden_size,)
    assert isinstance(projector.act, GELUActivation)  # exact erf GELU
    attention = model.model.vision_tower.encoder.layers[0].attention
    # qk-norm spans the full width (before the head split) and keeps its own eps, not layer_norm_eps.
    assert attention.q_norm.weight.shape == (config.vision_config.hidden_size,)
    assert attention.q_norm.variance_epsilon == 1e-6 and attention.k_norm.variance_epsilon == 1e-6
    assert isinstance(model.model.vision_tower.layernorm, torch.nn.Identity)  # use_mean_pooling


@pytest.mark.parametrize("norm_type", ["layer_norm", "rms_norm"])
@pytest.mark.parametrize("use_qk_norm", [False, True])
def test_vision_tower_variants_match_internvl(norm_type, use_qk_norm):
    config = tiny_config(norm_type=norm_type, use_qk_norm=use_qk_norm).vision_config
    ours = randomize(InternS1VisionModel(config))
    layer = ours.encoder.layers[0]
    expected_norm = torch.nn.LayerNorm if norm_type == "layer_norm" else InternVLVisionRMSNorm
    assert isinstance(layer.layernorm_before, expected_norm)
    assert isinstance(layer.attention.q_norm, InternVLVisionRMSNorm if use_qk_norm else torch.nn.Identity)
    values = {k: v for k, v in config.to_dict().items() if k not in ("model_type", "drop_path_rate")}
    peer = InternVLVisionModel(InternVLVisionConfig(**values)).eval()
    peer.load_state_dict({k.replace("encoder.layers.", "encoder.layer."): v for k, v in ours.state_dict().items()})
    pixels = torch.randn(2, 3, TILE, TILE)
    with torch.no_grad():
        assert max_abs_diff(ours(pixels).last_hidden_state, peer(pixels).last_hidden_state) <= 1e-5


def test_position_embeddings_are_interpolated_for_other_sizes():
    config = tiny_config().vision_config
    ours = randomize(InternS1VisionModel(config))
    values = {k: v for k, v in config.to_dict().items() if k not in ("model_type", "drop_path_rate")}
    peer = InternVLVisionModel(InternVLVisionConfig(**values)).eval()
    peer.load_state_dict({k.replace("encoder.layers.", "encoder.layer."): v for k, v in ours.state_dict().items()})
    pixels = torch.randn(1, 3, 84, 42)  # 6x3 patches from a 4x4 table: bicubic resize
    with torch.no_grad():
        out = ours(pixels).last_hidden_state
        assert out.shape == (1, 1 + 6 * 3, config.hidden_size)
        assert max_abs_diff(out, peer(pixels).last_hidden_state) <= 1e-5


def test_drop_path_only_in_training():
    config = tiny_config(drop_path_rate=0.5, vision_layers=4).vision_config
    tower = randomize(InternS1VisionModel(config))
    rates = [layer.drop_path.drop_prob for layer in tower.encoder.layers]
    assert rates == pytest.approx([0.0, 0.5 / 3, 1.0 / 3, 0.5])
    plain = InternS1VisionModel(tiny_config(vision_layers=4).vision_config).eval()
    plain.load_state_dict(tower.state_dict())
    pixels = torch.randn(8, 3, TILE, TILE)
    with torch.no_grad():
        evaluation = tower(pixels).last_hidden_state
        assert torch.equal(evaluation, plain(pixels).last_hidden_state)  # inactive in eval mode
        tower.train()
        torch.manual_seed(0)
        first = tower(pixels).last_hidden_state
        second = tower(pixels).last_hidden_state
    assert not torch.allclose(first, evaluation)
    assert not torch.allclose(first, second)  # a fresh draw per call


def test_attention_implementations_agree():
    config = tiny_config("qwen3_moe", norm_type="rms_norm", use_qk_norm=True)
    # Separate config objects: the attention choice is stored on the (shared) config and read at every call.
    eager = build(copy.deepcopy(config), attn_implementation="eager")
    sdpa = build(copy.deepcopy(config), attn_implementation="sdpa")
    assert eager.model.vision_tower.config._attn_implementation == "eager"
    assert sdpa.model.language_model.config._attn_implementation == "sdpa"
    inputs = make_inputs(config)
    with torch.no_grad():
        assert max_abs_diff(eager(**inputs).logits, sdpa(**inputs).logits) <= 1e-5


@pytest.mark.slow  # a fresh interpreter importing torch and transformers
def test_flash_attention_is_never_imported_on_cpu():
    code = (
        "import sys, torch; from transformers import AutoModel;"
        "sys.path.insert(0, 'tests'); from tiny_checkpoints import make_tiny_config;"
        "from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration as M;"
        "m = M(make_tiny_config(image_size=56)); m(input_ids=torch.tensor([[5, 6, 7]]));"
        "assert 'flash_attn' not in sys.modules, 'flash_attn imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_flash_attention_request_without_the_package_fails_clearly():
    pytest.importorskip("torch")
    try:
        import flash_attn  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("flash_attn is installed here; the missing-package error cannot be produced")
    with pytest.raises((ImportError, ValueError), match="(?i)flash"):
        InternS1ForConditionalGeneration._from_config(tiny_config(), attn_implementation="flash_attention_2")


# --------------------------------------------------------------------------------------------- bad inputs


def test_placeholder_count_mismatch_names_both_counts():
    config = tiny_config()
    model = build(config)
    inputs = make_inputs(config)
    inputs["input_ids"][0, 2] = 7  # one placeholder fewer
    with pytest.raises(ValueError, match=r"7 image placeholder tokens .* 8 image features \(2 tiles x 4 tokens\)"):
        model(**inputs)


def test_placeholder_mask_from_inputs_embeds():
    config = tiny_config()
    model = build(config)
    inputs = make_inputs(config)
    embeds = model.get_input_embeddings()(inputs.pop("input_ids"))
    with torch.no_grad():
        from_embeds = model(inputs_embeds=embeds, **inputs).logits
        from_ids = model(**make_inputs(config)).logits
    assert torch.equal(from_embeds, from_ids)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 3, TILE), "4 dimensions"),
        ((2, 1, TILE, TILE), "1 channels, the vision config expects 3"),
        ((2, 3, TILE + 3, TILE), "whole number of 14x14 patches"),
        ((2, 3, 28, 28), "tiles are 28x28 pixels, the model expects 56x56"),
    ],
)
def test_wrong_pixel_values_are_named(shape, message):
    config = tiny_config()
    model = build(config)
    inputs = make_inputs(config)
    inputs["pixel_values"] = torch.randn(shape)
    with pytest.raises(ValueError, match=message):
        model(**inputs)


def test_vision_tower_rejects_bad_pixels_itself():
    tower = InternS1VisionModel(tiny_config().vision_config)
    with pytest.raises(ValueError, match="whole number of 14x14 patches"):
        tower(torch.randn(1, 3, 50, 56))


# -------------------------------------------------------------------------------------------- MoE and loss


def test_moe_aux_loss_is_added_only_with_labels():
    config = tiny_config("qwen3_moe")
    model = build(config)
    inputs = make_inputs(config)
    labels = inputs["input_ids"].masked_fill(inputs["input_ids"] == config.image_token_id, -100)
    with torch.no_grad():
        without_labels = model(**inputs)
        with_labels = model(**inputs, labels=labels)
        no_router = model(**inputs, labels=labels, output_router_logits=False)
    assert without_labels.loss is None
    assert torch.isfinite(without_labels.aux_loss) and without_labels.aux_loss > 0
    assert no_router.aux_loss is None and no_router.router_logits is None
    coefficient = config.text_config.router_aux_loss_coef
    assert with_labels.loss.item() == pytest.approx(no_router.loss.item() + coefficient * with_labels.aux_loss.item())


def test_dense_loss_ignores_masked_labels_and_backpropagates():
    config = tiny_config()
    model = build(config).train()
    inputs = make_inputs(config)
    labels = inputs["input_ids"].masked_fill(inputs["input_ids"] == config.image_token_id, -100)
    out = model(**inputs, labels=labels)
    assert out.aux_loss is None and torch.isfinite(out.loss)
    out.loss.backward()
    assert model.model.vision_tower.embeddings.patch_embeddings.projection.weight.grad is not None
    assert model.lm_head.weight.grad is not None


# ------------------------------------------------------------------------------------------------ generation


def test_pixel_values_only_reach_the_vision_tower_on_prefill():
    config = tiny_config()
    model = build(config)
    calls = []
    model.model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    model.generate(**make_inputs(config), max_new_tokens=5, do_sample=False)
    assert len(calls) == 1


def test_generate_with_and_without_cache_agree():
    config = tiny_config()
    model = build(config)
    inputs = make_inputs(config)
    cached = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    uncached = model.generate(**inputs, max_new_tokens=4, do_sample=False, use_cache=False)
    assert torch.equal(cached, uncached)


def test_lm_head_is_untied_by_default_and_ties_on_request():
    untied = InternS1ForConditionalGeneration(tiny_config())
    assert untied.lm_head.weight.data_ptr() != untied.get_input_embeddings().weight.data_ptr()
    config = tiny_config()
    config.tie_word_embeddings = True
    tied = InternS1ForConditionalGeneration(config)
    assert tied.lm_head.weight.data_ptr() == tied.get_input_embeddings().weight.data_ptr()


def test_llama_text_model_through_auto_model():
    config = tiny_config("llama")
    model = build(config)
    assert type(model.model.language_model).__name__ == "LlamaModel"
    out = model(**make_inputs(config))
    assert out.logits.shape[-1] == config.text_config.vocab_size


def test_real_model_sizes_on_meta_device():
    """The real configs give the published sizes (built on the meta device: no memory is allocated)."""
    with torch.device("meta"):
        mini = InternS1ForConditionalGeneration(gpu_check_module().mini_config())
    total = sum(p.numel() for p in mini.parameters())
    vision = sum(p.numel() for p in mini.model.vision_tower.parameters())
    assert 8.4e9 < total < 8.7e9  # "≈8.5 B"
    assert 0.29e9 < vision < 0.32e9  # InternViT-300M
    assert mini.lm_head.weight.shape == (153216, 4096)


# ---------------------------------------------------------------------------------------------------- loading


def save(model: torch.nn.Module, directory: Path, **kwargs) -> Path:
    model.save_pretrained(directory, **kwargs)
    return directory


def rewrite_weights(directory: Path, rename) -> None:
    for file in directory.glob("*.safetensors"):
        tensors = load_file(file)
        save_file({rename(k): v for k, v in tensors.items()}, file, metadata={"format": "pt"})
    index = directory / "model.safetensors.index.json"
    if index.exists():
        data = json.loads(index.read_text())
        data["weight_map"] = {rename(k): v for k, v in data["weight_map"].items()}
        index.write_text(json.dumps(data))


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


@pytest.mark.parametrize("text_model_type", ["qwen3", "qwen3_moe"])
def test_save_load_round_trip_is_bit_exact(tmp_path, text_model_type):
    model = build(tiny_config(text_model_type))
    save(model, tmp_path)
    on_disk = load_file(tmp_path / "model.safetensors")
    # Published layout on disk: vision list `encoder.layer.N`, MoE experts one tensor per expert.
    assert any(".vision_tower.encoder.layer.0." in k for k in on_disk)
    assert not any(".encoder.layers." in k for k in on_disk)
    if text_model_type == "qwen3_moe":
        assert "model.language_model.layers.0.mlp.experts.3.gate_proj.weight" in on_disk
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path)
    assert type(loaded) is InternS1ForConditionalGeneration
    assert_same_weights(model, loaded)
    inputs = make_inputs(model.config)
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, loaded(**inputs).logits)


def test_both_vision_key_layouts_load(tmp_path):
    model = build(tiny_config())
    save(model, tmp_path)
    rewrite_weights(tmp_path, lambda k: k.replace(".encoder.layer.", ".encoder.layers."))
    assert any(".encoder.layers.0." in k for k in load_file(tmp_path / "model.safetensors"))
    loaded, info = InternS1ForConditionalGeneration.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert_same_weights(model, loaded)
    # Saved again, it keeps the layout it was loaded from (transformers reverts only the renamings it applied).
    loaded.save_pretrained(tmp_path / "again")
    assert any(".encoder.layers.0." in k for k in load_file(tmp_path / "again" / "model.safetensors"))


def test_sharded_checkpoint_with_index_loads(tmp_path):
    model = build(tiny_config("qwen3_moe"))
    save(model, tmp_path, max_shard_size="20KB")
    assert (tmp_path / "model.safetensors.index.json").exists()
    assert len(list(tmp_path.glob("model-*.safetensors"))) > 1
    rewrite_weights(tmp_path, lambda k: k.replace(".encoder.layer.", ".encoder.layers."))
    assert_same_weights(model, AutoModelForImageTextToText.from_pretrained(tmp_path))


def make_remote_code_flavour(directory: Path) -> None:
    """Turn a saved checkpoint's config into the remote-code flavour of internlm/Intern-S1(-mini)."""
    config_file = directory / "config.json"
    config = json.loads(config_file.read_text())
    config["model_type"] = "interns1"
    config["vision_config"]["model_type"] = "interns1_vision"
    config["auto_map"] = {
        "AutoConfig": "configuration_interns1.InternS1Config",
        "AutoModel": "modeling_interns1.InternS1Model",
        "AutoModelForCausalLM": "modeling_interns1.InternS1ForConditionalGeneration",
    }
    config_file.write_text(json.dumps(config))


@pytest.mark.parametrize("auto_class", [AutoModelForImageTextToText, AutoModelForCausalLM])
def test_remote_code_flavour_loads_without_trust_remote_code(tmp_path, auto_class):
    model = build(tiny_config("qwen3_moe"))
    save(model, tmp_path)
    make_remote_code_flavour(tmp_path)
    config = AutoConfig.from_pretrained(tmp_path)
    assert type(config) is InternS1Config and config.model_type == "intern_s1"
    assert config.vision_config.model_type == "intern_s1_vision"
    loaded = auto_class.from_pretrained(tmp_path)
    assert type(loaded) is InternS1ForConditionalGeneration
    assert_same_weights(model, loaded)


def test_auto_model_gives_the_base_model(tmp_path):
    model = build(tiny_config())
    save(model, tmp_path)
    base = AutoModel.from_pretrained(tmp_path)
    assert type(base) is InternS1Model
    assert torch.equal(base.language_model.embed_tokens.weight, model.model.language_model.embed_tokens.weight)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_dtypes_load_without_upcasting(tmp_path, dtype):
    model = build(tiny_config()).to(dtype)
    save(model, tmp_path)
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path, dtype="auto")
    assert {p.dtype for p in loaded.parameters()} == {dtype}
    assert_same_weights(model, loaded)


def test_device_map_auto_loads(tmp_path):
    pytest.importorskip("accelerate")
    model = build(tiny_config())
    save(model, tmp_path)
    loaded = AutoModelForImageTextToText.from_pretrained(tmp_path, device_map="auto", dtype=torch.float32)
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    inputs = make_inputs(model.config)
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, loaded(**inputs).logits)


def test_missing_and_unexpected_tensors_are_reported(tmp_path, caplog):
    model = build(tiny_config())
    save(model, tmp_path)

    def corrupt(key: str) -> str:
        return "model.vision_tower.encoder.layer.0.bogus.weight" if key == "lm_head.weight" else key

    rewrite_weights(tmp_path, corrupt)
    with caplog.at_level(logging.WARNING, logger="intern_s1.modeling_intern_s1"):
        _, info = InternS1ForConditionalGeneration.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == {"lm_head.weight"}
    assert info["unexpected_keys"] == {"model.vision_tower.encoder.layers.0.bogus.weight"}
    assert "missing from the checkpoint (randomly initialised): lm_head.weight" in caplog.text
    assert "not in the model (ignored): model.vision_tower.encoder.layers.0.bogus.weight" in caplog.text


# ------------------------------------------------------------------------------ shared on-disk fixtures (conftest)


def test_shared_fixture_checkpoints_load_and_match_internvl(tiny_checkpoint_variant):
    """The model page's call on each tiny checkpoint (448-pixel tiles, real vocabulary size), checked against
    InternVL holding the loaded weights."""
    model = AutoModelForImageTextToText.from_pretrained(tiny_checkpoint_variant, device_map="auto", dtype="auto")
    assert type(model) is InternS1ForConditionalGeneration
    peer = internvl_twin(model)
    inputs = make_inputs(model.config, batch=1, text_length=6)
    with torch.no_grad():
        assert max_abs_diff(model(**inputs).logits, peer(**inputs).logits) <= 1e-5
    ours = model.generate(**inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert torch.equal(ours, peer.generate(**inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False))


def test_shared_remote_code_fixture_loads_the_same_weights(tiny_checkpoint, tiny_remote_code_checkpoint):
    assert json.loads((tiny_remote_code_checkpoint / "config.json").read_text())["model_type"] == "interns1"
    hf_flavour = AutoModelForImageTextToText.from_pretrained(tiny_checkpoint)
    remote_flavour = AutoModelForImageTextToText.from_pretrained(tiny_remote_code_checkpoint)
    assert type(remote_flavour) is InternS1ForConditionalGeneration
    assert_same_weights(hf_flavour, remote_flavour)


# ------------------------------------------------------------------------------------------------- GPU check


@pytest.mark.slow  # builds a tiny model and runs every measurement of the GPU check on CPU
def test_gpu_check_logic_runs_on_cpu_with_tiny(capsys):
    gpu_check = gpu_check_module()
    assert gpu_check.main(["--tiny", "--new-tokens", "3"]) == 0
    rows = {row["name"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["gpu_decode_bs1_sdpa"]["outputs_identical"] is True
    assert rows["gpu_decode_bs8_sdpa"]["outputs_identical"] is True
    assert rows["gpu_decode_bs1_sdpa"]["ours"] > 0 and rows["gpu_decode_bs1_sdpa"]["bound_tok_s"] > 0
    prefill = rows["gpu_image_prefill"]
    assert prefill["tiles"] == 13 and prefill["prompt_tokens"] == 13 * 256 + 32 and prefill["ours"] > 0
    compiled = rows["gpu_decode_bs1_compiled"]
    assert compiled["outputs_identical"] is True and compiled["compile_s"] > 0 and compiled["better"] == "higher"
    # The real Intern-S1-mini shapes the GPU run uses (≈8.5 B parameters, spec §3.3).
    mini = gpu_check.mini_config()
    assert mini.text_config.num_hidden_layers == 36 and mini.vision_config.hidden_size == 1024
