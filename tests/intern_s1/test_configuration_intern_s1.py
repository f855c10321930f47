"""InternS1Config / InternS1VisionConfig: defaults of intern_s1_spec.md §3, validation, both config flavours."""

import ast
import json
import logging
from pathlib import Path

import pytest
from tiny_checkpoints import make_tiny_config
from transformers import AutoConfig, LlamaConfig, Qwen3Config, Qwen3MoeConfig

from intern_s1.auto_registration import register_auto_classes
from intern_s1.configuration_intern_s1 import (
    InternS1Config,
    InternS1VisionConfig,
    image_tokens_per_tile,
)


CONFIG_MODULE = Path(__file__).resolve().parents[2] / "intern_s1" / "configuration_intern_s1.py"


@pytest.fixture(scope="module", autouse=True)
def _registered():
    register_auto_classes()  # what `import intern_s1` does


def test_vision_defaults_are_spec_3_1():
    config = InternS1VisionConfig()
    assert config.model_type == "intern_s1_vision"
    expected = {
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "attention_bias": False,
        "use_qk_norm": False,
        "intermediate_size": 4096,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_dropout": 0.0,
        "projection_dropout": 0.0,
        "drop_path_rate": 0.0,
        "initializer_range": 0.02,
        "norm_type": "layer_norm",
        "layer_norm_eps": 1e-6,
        "num_channels": 3,
        "use_mask_token": False,
        "use_absolute_position_embeddings": True,
        "layer_scale_init_value": 0.1,
        "use_mean_pooling": True,
    }
    assert {key: getattr(config, key) for key in expected} == expected
    assert tuple(config.image_size) == (448, 448) and tuple(config.patch_size) == (14, 14)


def test_int_sizes_become_pairs():
    config = InternS1VisionConfig(image_size=224, patch_size=16)
    assert tuple(config.image_size) == (224, 224) and tuple(config.patch_size) == (16, 16)


def test_top_level_defaults_are_spec_3_2():
    config = InternS1Config()
    assert config.model_type == "intern_s1"
    assert isinstance(config.vision_config, InternS1VisionConfig)
    assert isinstance(config.text_config, Qwen3Config)
    assert config.image_token_id == 151667
    assert config.image_seq_length == 256
    assert config.downsample_ratio == 0.5
    assert config.projector_hidden_act == "gelu"
    assert config.vision_feature_layer == -1
    assert config.vision_feature_select_strategy == "default"
    assert config.tie_word_embeddings is False  # InternVLConfig defaults to True; Intern-S1 does not tie
    assert not config.is_moe


def real_mini_config() -> InternS1Config:
    """Intern-S1-mini's shapes (spec §3.3); constructing the config allocates nothing."""
    return InternS1Config(
        vision_config={"model_type": "intern_s1_vision", "attention_bias": True},
        text_config={
            "model_type": "qwen3",
            "vocab_size": 153216,
            "hidden_size": 4096,
            "intermediate_size": 12288,
            "num_hidden_layers": 36,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 128,
        },
        image_token_id=152957,
    )


def real_s1_config() -> InternS1Config:
    return InternS1Config(
        vision_config=InternS1VisionConfig(
            hidden_size=3200,
            num_hidden_layers=45,
            num_attention_heads=25,
            intermediate_size=12800,
            norm_type="rms_norm",
            use_qk_norm=True,
        ),
        text_config=Qwen3MoeConfig(
            vocab_size=153216,
            hidden_size=4096,
            num_hidden_layers=94,
            num_attention_heads=64,
            num_key_value_heads=4,
            head_dim=128,
            num_experts=128,
            num_experts_per_tok=8,
            moe_intermediate_size=1536,
        ),
        image_token_id=152957,
    )


def test_real_model_configs_build():
    mini, s1 = real_mini_config(), real_s1_config()
    assert mini.image_seq_length == s1.image_seq_length == 256
    assert not mini.is_moe and s1.is_moe
    assert s1.vision_config.hidden_size * 4 == 12800  # projector input width after the pixel shuffle


def test_image_tokens_per_tile_is_derived_in_one_place():
    assert image_tokens_per_tile(InternS1VisionConfig(), 0.5) == 256
    assert image_tokens_per_tile(InternS1VisionConfig(image_size=64, patch_size=4), 0.5) == 64  # reference tester
    assert InternS1Config(vision_config={"image_size": 224}).image_seq_length == 64
    with pytest.raises(ValueError, match="not divisible by 1/downsample_ratio = 2"):
        image_tokens_per_tile(InternS1VisionConfig(image_size=42, patch_size=14), 0.5)


def test_image_seq_length_must_agree():
    assert InternS1Config(image_seq_length=256).image_seq_length == 256
    with pytest.raises(ValueError, match="image_seq_length=300 disagrees .* give 256 tokens per tile"):
        InternS1Config(image_seq_length=300)


@pytest.mark.parametrize(
    ("text_config", "expected"),
    [
        ({"model_type": "qwen3", "hidden_size": 64}, Qwen3Config),
        ({"model_type": "qwen3_moe"}, Qwen3MoeConfig),
        ({"model_type": "llama"}, LlamaConfig),
        (Qwen3MoeConfig(num_experts=4), Qwen3MoeConfig),
        (None, Qwen3Config),
    ],
)
def test_text_config_forms(text_config, expected):
    config = InternS1Config(text_config=text_config)
    assert type(config.text_config) is expected
    assert config.is_moe == (expected is Qwen3MoeConfig)


def test_text_config_dict_needs_model_type():
    with pytest.raises(ValueError, match="must contain 'model_type'"):
        InternS1Config(text_config={"hidden_size": 64})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vision_config": [1, 2]}, "vision_config must be an InternS1VisionConfig, a dict or None, got list"),
        ({"vision_config": Qwen3Config()}, "got Qwen3Config"),
        ({"text_config": 5}, "text_config must be a PreTrainedConfig, a dict or None, got int"),
        ({"text_config": InternS1VisionConfig()}, "text_config must be a language-model config"),
    ],
)
def test_wrong_sub_config_types_raise_type_error(kwargs, message):
    with pytest.raises(TypeError, match=message):
        InternS1Config(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"norm_type": "batch_norm"}, "norm_type must be 'layer_norm' or 'rms_norm'"),
        ({"hidden_size": 100, "num_attention_heads": 16}, r"hidden_size \(100\) must be divisible"),
        ({"drop_path_rate": 1.0}, r"drop_path_rate must be in \[0, 1\)"),
        ({"model_type": "siglip_vision_model"}, "model_type 'siglip_vision_model'"),
    ],
)
def test_bad_vision_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InternS1VisionConfig(**kwargs)


def test_bad_top_level_values():
    with pytest.raises(ValueError, match="vision_feature_select_strategy must be 'default'"):
        InternS1Config(vision_feature_select_strategy="full")
    with pytest.raises(ValueError, match="cannot be built from a config of model_type 'llava'"):
        InternS1Config.from_dict({"model_type": "llava"})


def test_unknown_keys_are_named_in_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="intern_s1.configuration_intern_s1"):
        config = InternS1Config(downsample_ration=0.5, vision_config={"hiden_size": 8})
    assert "InternS1Config got keys it does not know and will not use: ['downsample_ration']" in caplog.text
    assert "InternS1VisionConfig got keys it does not know and will not use: ['hiden_size']" in caplog.text
    assert config.downsample_ratio == 0.5


def test_known_hub_keys_do_not_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="intern_s1.configuration_intern_s1"):
        InternS1Config(torch_dtype="bfloat16", use_cache=True, max_length=20)
    assert "does not know" not in caplog.text


def test_dict_round_trip():
    config = make_tiny_config("qwen3_moe", norm_type="rms_norm", use_qk_norm=True, drop_path_rate=0.1)
    values = config.to_dict()
    again = InternS1Config.from_dict(values)
    assert again.to_dict() == values
    assert again.vision_config.drop_path_rate == 0.1


@pytest.mark.parametrize("flavour", ["hf", "remote-code"])
def test_both_config_flavours_load_with_auto_config(tmp_path, flavour):
    make_tiny_config("qwen3_moe").save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "intern_s1" and saved["vision_config"]["model_type"] == "intern_s1_vision"
    if flavour == "remote-code":
        saved["model_type"] = "interns1"
        saved["vision_config"]["model_type"] = "interns1_vision"
        saved["auto_map"] = {"AutoConfig": "configuration_interns1.InternS1Config"}
        (tmp_path / "config.json").write_text(json.dumps(saved))
    config = AutoConfig.from_pretrained(tmp_path)  # no trust_remote_code
    assert type(config) is InternS1Config
    assert config.model_type == "intern_s1" and config.vision_config.model_type == "intern_s1_vision"
    assert isinstance(config.text_config, Qwen3MoeConfig)
    assert not hasattr(config, "auto_map")  # the remote code is not used, so it is not written back either


def test_auto_config_knows_both_model_types():
    assert type(AutoConfig.for_model("intern_s1")) is InternS1Config
    assert type(AutoConfig.for_model("interns1")) is InternS1Config
    assert type(AutoConfig.for_model("intern_s1_vision")) is InternS1VisionConfig
    assert type(AutoConfig.for_model("interns1_vision")) is InternS1VisionConfig


def test_configuration_module_does_not_import_torch():
    tree = ast.parse(CONFIG_MODULE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "torch" not in imported
