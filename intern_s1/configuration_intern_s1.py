"""Configurations of Intern-S1 and Intern-S1-mini: the InternViT vision tower and the whole model.

Both classes subclass the InternVL configs of the installed transformers (same fields, same defaults) and add
what Intern-S1 changes: a drop-path rate for the vision tower, a Qwen3 default language model, an untied
``lm_head``, stricter validation, and acceptance of the remote-code flavour (``model_type`` "interns1").

This module imports no torch, so configs can be read and validated anywhere.
"""

import logging
from typing import Any, ClassVar

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec
from transformers.generation.configuration_utils import GenerationConfig
from transformers.models.internvl.configuration_internvl import InternVLConfig, InternVLVisionConfig


logger = logging.getLogger(__name__)

# model_type values written by the remote-code checkpoints (internlm/Intern-S1, internlm/Intern-S1-mini).
REMOTE_CODE_MODEL_TYPE = "interns1"
REMOTE_CODE_VISION_MODEL_TYPE = "interns1_vision"

# Keys that PreTrainedConfig itself consumes from **kwargs, and hub bookkeeping keys that carry no model meaning;
# anything else that is not a declared field is reported as unknown.
_BENIGN_EXTRA_KEYS = frozenset(
    {
        "torch_dtype",
        "num_labels",
        "name_or_path",
        "_name_or_path",
        "_commit_hash",
        "output_attentions",
        "attn_implementation",
        "experts_implementation",
        "_attn_implementation_internal",
        "_experts_implementation_internal",
        "per_layer_config",
        "auto_map",
        "use_cache",
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
    }
)


def _warn_about_unknown_keys(config_name: str, kwargs: dict[str, Any]) -> None:
    generation_keys = GenerationConfig._get_default_generation_params().keys()
    unknown = sorted(key for key in kwargs if key not in _BENIGN_EXTRA_KEYS and key not in generation_keys)
    if unknown:
        logger.warning(
            "%s got keys it does not know and will not use: %s. Check them for typos.", config_name, unknown
        )


def _check_model_type(config_name: str, kwargs: dict[str, Any], accepted: tuple[str, ...]) -> None:
    """Drop a ``model_type`` passed as a value (as in a config.json dict) after checking it names this model."""
    model_type = kwargs.pop("model_type", None)
    if model_type is not None and model_type not in accepted:
        raise ValueError(
            f"{config_name} cannot be built from a config of model_type {model_type!r}; expected one of {accepted}."
        )


@strict
class InternS1VisionConfig(InternVLVisionConfig):
    r"""Configuration of the Intern-S1 vision tower (InternViT), `model_type` "intern_s1_vision".

    Same fields and defaults as transformers' `InternVLVisionConfig`, plus `drop_path_rate`. The defaults are
    InternViT-300M, the vision tower of Intern-S1-mini.

    Args:
        hidden_size (`int`, defaults to 1024): width Dv of the encoder; must be divisible by `num_attention_heads`.
        num_hidden_layers (`int`, defaults to 24): number of encoder layers.
        num_attention_heads (`int`, defaults to 16): attention heads (head_dim = hidden_size / heads).
        attention_bias (`bool`, defaults to False): bias on the q, k and v projections.
        use_qk_norm (`bool`, defaults to False): RMSNorm (eps 1e-6) over the full width of q and k, before the
            split into heads.
        intermediate_size (`int`, defaults to 4096): MLP width.
        hidden_act (`str`, defaults to "gelu"): MLP activation (exact erf GELU).
        hidden_dropout_prob (`float`, defaults to 0.0): dropout on the embeddings and after the MLP.
        attention_dropout (`float`, defaults to 0.0): dropout on attention probabilities (training only).
        projection_dropout (`float`, defaults to 0.0): dropout after the attention output projection.
        drop_path_rate (`float`, defaults to 0.0): stochastic-depth rate of the last layer; layer i of L uses
            `linspace(0, drop_path_rate, L)[i]`. Active in training only.
        initializer_range (`float`, defaults to 0.02): std of the weight initialisation.
        norm_type (`str`, defaults to "layer_norm"): "layer_norm" (LayerNorm) or "rms_norm" (RMSNorm).
        layer_norm_eps (`float`, defaults to 1e-6): eps of the per-layer norms (and of the final norm when used).
        image_size (`int | list[int]`, defaults to (448, 448)): tile size; an int means a square.
        patch_size (`int | list[int]`, defaults to (14, 14)): patch size; an int means a square.
        num_channels (`int`, defaults to 3): input channels.
        use_mask_token (`bool`, defaults to False): adds a `mask_token` parameter (masked image modelling).
        use_absolute_position_embeddings (`bool`, defaults to True): learned position table of
            (image_size / patch_size)^2 + 1 entries, bicubically resized for other input sizes.
        layer_scale_init_value (`float`, defaults to 0.1): initial value of the layer-scale vectors lambda_1/2.
        use_mean_pooling (`bool`, defaults to True): True leaves the final norm out (Identity), as in both real models.

    Real sizes:

    | | Intern-S1 (InternViT-6B) | Intern-S1-mini (InternViT-300M) |
    |---|---|---|
    | hidden_size / layers / heads | 3200 / 45 / 25 | 1024 / 24 / 16 |
    | intermediate_size | 12800 | 4096 |
    | norm_type / use_qk_norm | "rms_norm" / True | "layer_norm" / False |
    | attention_bias | False | True |
    | image_size / patch_size | 448 / 14 | 448 / 14 |
    """

    model_type: ClassVar[str] = "intern_s1_vision"
    base_config_key: ClassVar[str] = "vision_config"

    drop_path_rate: float | int = 0.0

    def __post_init__(self, **kwargs):
        _check_model_type(type(self).__name__, kwargs, (self.model_type, REMOTE_CODE_VISION_MODEL_TYPE))
        if self.norm_type not in ("layer_norm", "rms_norm"):
            raise ValueError(f"norm_type must be 'layer_norm' or 'rms_norm', got {self.norm_type!r}.")
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads})."
            )
        if not 0.0 <= self.drop_path_rate < 1.0:
            raise ValueError(f"drop_path_rate must be in [0, 1), got {self.drop_path_rate}.")
        _warn_about_unknown_keys(type(self).__name__, kwargs)
        super().__post_init__(**kwargs)


def image_tokens_per_tile(vision_config: InternS1VisionConfig, downsample_ratio: float) -> int:
    """Visual tokens one tile becomes: (image_size / patch_size)^2 patches, pixel-shuffled by downsample_ratio.

    The one place this number is derived; the config, the model and the processor all read it from here
    (through `InternS1Config.image_seq_length`).
    """
    grid_height = vision_config.image_size[0] // vision_config.patch_size[0]
    grid_width = vision_config.image_size[1] // vision_config.patch_size[1]
    scale = round(1 / downsample_ratio)
    if grid_height % scale or grid_width % scale:
        raise ValueError(
            f"The patch grid {grid_height}x{grid_width} (image_size {tuple(vision_config.image_size)} / patch_size "
            f"{tuple(vision_config.patch_size)}) is not divisible by 1/downsample_ratio = {scale}."
        )
    return (grid_height // scale) * (grid_width // scale)


@strict
class InternS1Config(InternVLConfig):
    r"""Configuration of Intern-S1 / Intern-S1-mini (`model_type` "intern_s1"): InternViT → pixel shuffle →
    MLP projector → Qwen3 / Qwen3-MoE language model.

    The remote-code flavour of the checkpoints (`model_type` "interns1" with an `auto_map`, vision
    `model_type` "interns1_vision") is accepted too and loaded as this class, without remote code.

    Args:
        vision_config (`InternS1VisionConfig | dict | None`): the vision tower; None gives InternViT-300M.
        text_config (`PreTrainedConfig | dict | None`): the language model. A dict must name its `model_type`
            ("qwen3", "qwen3_moe", or any decoder transformers' `AutoModel` knows, such as "llama"); None gives a
            default Qwen3 config.
        image_token_id (`int`, defaults to 151667): id of the `<IMG_CONTEXT>` placeholder token (InternVL's
            default; both real models use 152957).
        image_seq_length (`int | None`): visual tokens per tile. Derived from the vision config and
            `downsample_ratio` (256 for 448-pixel tiles, patch 14, ratio 0.5); a given value must agree.
        downsample_ratio (`float`, defaults to 0.5): pixel-shuffle factor (0.5 merges 2x2 patches).
        projector_hidden_act (`str`, defaults to "gelu"): activation between the two projector layers.
        vision_feature_layer (`int`, defaults to -1): vision layer whose output is used (-1: the last).
        vision_feature_select_strategy (`str`, defaults to "default"): "default" drops the CLS token; the
            only strategy that keeps the square patch grid the pixel shuffle needs.
        tie_word_embeddings (`bool`, defaults to False): tie `lm_head` to the input embeddings. False in both
            real models (InternVLConfig defaults to True; Intern-S1 does not tie).

    Real sizes:

    | | Intern-S1 | Intern-S1-mini |
    |---|---|---|
    | text model_type | "qwen3_moe" (Qwen3-235B-A22B) | "qwen3" (Qwen3-8B) |
    | vocab_size / hidden_size / layers | 153216 / 4096 / 94 | 153216 / 4096 / 36 |
    | attention heads / kv heads / head_dim | 64 / 4 / 128 | 32 / 8 / 128 |
    | MLP | 128 experts, 8 per token, expert FFN 1536 | dense FFN 12288 |
    | vision | InternViT-6B (3200 wide, 45 layers) | InternViT-300M (1024 wide, 24 layers) |
    | projector | LN(12800) → 12800→4096 → GELU → 4096→4096 | LN(4096) → 4096→4096 → GELU → 4096→4096 |
    | image_token_id / image_seq_length | 152957 / 256 | 152957 / 256 |
    | parameters (total / active) | ≈241 B / ≈28 B | ≈8.5 B |
    """

    model_type: ClassVar[str] = "intern_s1"
    sub_configs_defaults = {
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen3"),
        "vision_config": InternS1VisionConfig,
    }

    # Typed Any so that a wrong type reaches our own check (a TypeError naming the type) instead of the strict
    # dataclass validator; __post_init__ turns dicts and None into config objects.
    vision_config: Any = None
    text_config: Any = None
    image_seq_length: int | None = None
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        _check_model_type(type(self).__name__, kwargs, (self.model_type, REMOTE_CODE_MODEL_TYPE))
        if kwargs.pop("auto_map", None) is not None:
            logger.info("Ignoring the remote-code `auto_map`: Intern-S1 is loaded with the intern_s1 package classes.")
        self._check_sub_config_types()
        _warn_about_unknown_keys(type(self).__name__, kwargs)
        super().__post_init__(**kwargs)
        self._check_vision_settings()

    def _check_sub_config_types(self) -> None:
        # Differs from InternVLConfig: a text dict must say which decoder it is, and a config object of the wrong
        # family is refused instead of being stored as is.
        if self.vision_config is not None and not isinstance(self.vision_config, (dict, InternS1VisionConfig)):
            raise TypeError(
                "vision_config must be an InternS1VisionConfig, a dict or None, got "
                f"{type(self.vision_config).__name__}."
            )
        if isinstance(self.text_config, dict) and "model_type" not in self.text_config:
            raise ValueError(
                "text_config given as a dict must contain 'model_type' (for example 'qwen3' or 'qwen3_moe')."
            )
        if isinstance(self.text_config, (InternS1VisionConfig, InternVLVisionConfig, InternVLConfig)):
            raise TypeError(f"text_config must be a language-model config, got {type(self.text_config).__name__}.")
        if self.text_config is not None and not isinstance(self.text_config, (dict, PreTrainedConfig)):
            raise TypeError(
                f"text_config must be a PreTrainedConfig, a dict or None, got {type(self.text_config).__name__}."
            )

    def _check_vision_settings(self) -> None:
        if self.vision_feature_select_strategy != "default":
            raise ValueError(
                "vision_feature_select_strategy must be 'default' (drop the CLS token): the pixel shuffle needs a "
                f"square patch grid, got {self.vision_feature_select_strategy!r}."
            )
        if not isinstance(self.vision_feature_layer, int):
            raise ValueError(f"vision_feature_layer must be a single layer index, got {self.vision_feature_layer!r}.")
        derived = image_tokens_per_tile(self.vision_config, self.downsample_ratio)
        if self.image_seq_length is None:
            self.image_seq_length = derived
        elif self.image_seq_length != derived:
            raise ValueError(
                f"image_seq_length={self.image_seq_length} disagrees with the vision config: tiles of "
                f"{tuple(self.vision_config.image_size)} pixels, patch {tuple(self.vision_config.patch_size)} and "
                f"downsample_ratio {self.downsample_ratio} give {derived} tokens per tile."
            )

    @property
    def is_moe(self) -> bool:
        """Whether the language model is a mixture of experts (it then reports router logits)."""
        return hasattr(self.text_config, "output_router_logits")


__all__ = ["InternS1Config", "InternS1VisionConfig", "image_tokens_per_tile"]
