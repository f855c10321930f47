"""Intern-S1 / Intern-S1-mini models: InternViT vision tower, pixel-shuffle projector and a Qwen3 / Qwen3-MoE decoder.

Read side by side with transformers' InternVL folder: the vision attention, MLP and norms *are* InternVL's modules
(identical computation), the layer, embeddings and projector subclass InternVL's and call their constructors; the
model classes derive from `InternS1PreTrainedModel` only and build their own parts. The language model is whatever
`AutoModel.from_config(text_config)` builds (Qwen3Model, Qwen3MoeModel, LlamaModel, ...), not a re-implementation.
What differs from InternVL is marked "Differs from InternVL" where it happens: drop-path in the vision layers, the
`layers` list name, input checks, the pixel-shuffle written out with its channel order, and MoE router logits with the
auxiliary loss.

Generation: `InternS1ForConditionalGeneration` is a `GenerationMixin`; the vision tower runs once, on the prefill step,
and every decode step is a plain decoder step with static shapes, so `cache_implementation="static"` and
`torch.compile` of the decode step work (`_can_compile_fullgraph = True`, as for InternVL).

One file for the whole model, as in a transformers model folder (hence ~500 lines).
"""

import logging
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutput
from transformers.modeling_utils import slice_logits_to_keep
from transformers.models.internvl.modeling_internvl import (
    InternVLCausalLMOutputWithPast,
    InternVLModelOutputWithPast,
    InternVLMultiModalProjector,
    InternVLPreTrainedModel,
    InternVLVisionAttention,
    InternVLVisionEmbeddings,
    InternVLVisionLayer,
    InternVLVisionModelOutputWithPooling,
    InternVLVisionPreTrainedModel,
)
from transformers.models.qwen3_moe.modeling_qwen3_moe import load_balancing_loss_func
from transformers.utils.generic import can_return_tuple, merge_with_config_defaults
from transformers.utils.import_utils import torch_compilable_check
from transformers.utils.output_capturing import capture_outputs

from intern_s1.configuration_intern_s1 import InternS1Config, InternS1VisionConfig


logger = logging.getLogger(__name__)


class InternS1VisionEmbeddings(InternVLVisionEmbeddings):
    """CLS token + 2-D patch embedding + absolute position table (bicubically resized for other sizes)."""

    def forward(self, pixel_values: torch.Tensor, bool_masked_pos: torch.BoolTensor | None = None) -> torch.Tensor:
        # Differs from InternVL: a badly shaped input is named here instead of failing deep inside the conv.
        check_pixel_values(pixel_values, self.patch_embeddings.num_channels, self.patch_size)
        return super().forward(pixel_values, bool_masked_pos=bool_masked_pos)


def check_pixel_values(pixel_values: torch.Tensor, num_channels: int, patch_size: tuple[int, int]) -> None:
    """Raise a ValueError unless pixel_values is [tiles, channels, H, W] with H and W whole numbers of patches."""
    if pixel_values.ndim != 4:
        raise ValueError(
            f"pixel_values must have 4 dimensions [tiles, channels, height, width], got shape {tuple(pixel_values.shape)}."
        )
    _, channels, height, width = pixel_values.shape
    if channels != num_channels:
        raise ValueError(f"pixel_values has {channels} channels, the vision config expects {num_channels}.")
    if height % patch_size[0] or width % patch_size[1]:
        raise ValueError(
            f"pixel_values of size {height}x{width} is not a whole number of {patch_size[0]}x{patch_size[1]} patches."
        )


class InternS1VisionDropPath(nn.Module):
    """Stochastic depth: in training, drops a residual branch for whole samples, scaling the kept ones by 1/keep."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return hidden_states
        keep_prob = 1.0 - self.drop_prob
        # One Bernoulli draw per sample, broadcast over tokens and channels: [B, 1, 1].
        mask_shape = (hidden_states.shape[0],) + (1,) * (hidden_states.ndim - 1)
        keep = torch.empty(mask_shape, dtype=hidden_states.dtype, device=hidden_states.device).bernoulli_(keep_prob)
        return hidden_states * keep / keep_prob

    def extra_repr(self) -> str:
        return f"p={self.drop_prob}"


class InternS1VisionLayer(InternVLVisionLayer):
    """InternVL's pre-norm ViT block with layer scale (lambda_1, lambda_2), plus drop-path on both residual branches."""

    def __init__(self, config: InternS1VisionConfig, drop_path_rate: float = 0.0) -> None:
        super().__init__(config)
        # Differs from InternVL: stochastic depth, with a rate per layer (identity at inference).
        self.drop_path = InternS1VisionDropPath(drop_path_rate)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        attention_output, _ = self.attention(self.layernorm_before(hidden_states))
        hidden_states = self.drop_path(self.lambda_1 * attention_output) + hidden_states
        mlp_output = self.dropout(self.mlp(self.layernorm_after(hidden_states)))
        return self.drop_path(self.lambda_2 * mlp_output) + hidden_states


class InternS1VisionEncoder(nn.Module):
    """The stack of vision layers, with drop-path rates rising linearly from 0 to `drop_path_rate`."""

    def __init__(self, config: InternS1VisionConfig) -> None:
        super().__init__()
        self.config = config
        # On CPU explicitly: the model may be built under a meta or cuda device context.
        rates = torch.linspace(0, config.drop_path_rate, config.num_hidden_layers, device="cpu").tolist()
        # Differs from InternVL (`layer`): the newest Intern-S1 code names the list `layers`. Checkpoints with
        # `encoder.layer.N.` are renamed on load (see auto_registration); save_pretrained writes a model back in the
        # layout it was loaded from, and a newly built one in the published `encoder.layer.N.` layout.
        self.layers = nn.ModuleList([InternS1VisionLayer(config, rate) for rate in rates])
        self.gradient_checkpointing = False

    def forward(self, hidden_states: torch.Tensor) -> BaseModelOutput:
        for layer in self.layers:
            hidden_states = layer(hidden_states)
        return BaseModelOutput(last_hidden_state=hidden_states)


def _warn_about_loading_problems(class_name: str, loading_info: dict) -> None:
    problems = {
        "missing from the checkpoint (randomly initialised)": sorted(loading_info.get("missing_keys", ())),
        "in the checkpoint but not in the model (ignored)": sorted(loading_info.get("unexpected_keys", ())),
        "of a different shape in the checkpoint (randomly initialised)": sorted(
            str(key) for key in loading_info.get("mismatched_keys", ())
        ),
    }
    for what, keys in problems.items():
        if keys:
            logger.warning("%s: %d tensors %s: %s", class_name, len(keys), what, ", ".join(keys))


class LoadingReportMixin:
    """Repeats transformers' load report (missing / unexpected / mismatched tensors) on this package's logger."""

    @classmethod
    def from_pretrained(cls, *args, output_loading_info: bool = False, **kwargs):
        """transformers' from_pretrained, plus a warning on this package's logger for every tensor the checkpoint
        lacks (left randomly initialised), has in excess (ignored) or has with another shape.

        transformers prints its own load report, but only through its private logger; repeating the names here
        puts them where the application's logging sees them.
        """
        model, loading_info = super().from_pretrained(*args, output_loading_info=True, **kwargs)
        _warn_about_loading_problems(cls.__name__, loading_info)
        return (model, loading_info) if output_loading_info else model


class InternS1VisionPreTrainedModel(LoadingReportMixin, InternVLVisionPreTrainedModel):
    config: InternS1VisionConfig
    config_class = InternS1VisionConfig
    base_model_prefix = "intern_s1_vision"
    _no_split_modules = ["InternS1VisionLayer"]
    _can_record_outputs = {"hidden_states": InternS1VisionLayer, "attentions": InternVLVisionAttention}


class InternS1VisionModel(InternS1VisionPreTrainedModel):
    """InternViT: InternViT-300M for Intern-S1-mini, InternViT-6B for Intern-S1 (see InternS1VisionConfig)."""

    def __init__(self, config: InternS1VisionConfig) -> None:
        super().__init__(config)
        self.embeddings = InternS1VisionEmbeddings(config)
        self.encoder = InternS1VisionEncoder(config)
        # Both real models use mean pooling, so no final norm (and no weights for it).
        self.layernorm = (
            nn.Identity() if config.use_mean_pooling else nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        )
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.patch_embeddings

    @merge_with_config_defaults
    @capture_outputs(tie_last_hidden_states=False)
    def forward(
        self, pixel_values: torch.Tensor, bool_masked_pos: torch.BoolTensor | None = None, **kwargs
    ) -> InternVLVisionModelOutputWithPooling:
        """pixel_values [tiles, 3, H, W] → last_hidden_state [tiles, 1 + (H/14)·(W/14), Dv] (CLS first)."""
        embeddings = self.embeddings(pixel_values, bool_masked_pos=bool_masked_pos)
        sequence_output = self.layernorm(self.encoder(embeddings).last_hidden_state)
        return InternVLVisionModelOutputWithPooling(last_hidden_state=sequence_output)


class InternS1MultiModalProjector(InternVLMultiModalProjector):
    """LayerNorm(4·Dv, eps 1e-5) → Linear(4·Dv, Dt) → GELU → Linear(Dt, Dt)."""


@dataclass
class InternS1ModelOutputWithPast(InternVLModelOutputWithPast):
    """InternVL's outputs plus `router_logits` (one [tokens, experts] tensor per layer) for a MoE decoder."""

    router_logits: tuple[torch.Tensor, ...] | None = None


@dataclass
class InternS1CausalLMOutputWithPast(InternVLCausalLMOutputWithPast):
    """InternVL's outputs plus the MoE `aux_loss` (load balancing) and `router_logits`."""

    aux_loss: torch.Tensor | None = None
    router_logits: tuple[torch.Tensor, ...] | None = None


class InternS1PreTrainedModel(LoadingReportMixin, InternVLPreTrainedModel):
    config: InternS1Config
    config_class = InternS1Config
    base_model_prefix = "model"
    # Decode steps are plain decoder steps (the image is consumed at prefill) with static shapes, also for the MoE
    # decoder (Qwen3-MoE compiles full-graph in transformers); differs from the reference, which sets False.
    _can_compile_fullgraph = True


def pixel_shuffle(features: torch.Tensor, downsample_ratio: float) -> torch.Tensor:
    """Merge s×s neighbouring patches into one token (s = 1/downsample_ratio), InternVL's "v2" order.

    features [T, H, W, D] → [T, H/s, W/s, s·s·D]. Output cell (r, c) concatenates input cells (s·r + a, s·c + b)
    for a (row offset) in the outer and b (column offset) in the inner loop; for s = 2 that is (2r, 2c),
    (2r, 2c+1), (2r+1, 2c), (2r+1, 2c+1), each with its D channels.
    """
    tiles, height, width, channels = features.shape
    scale = round(1 / downsample_ratio)
    if height % scale or width % scale:
        raise ValueError(f"The {height}x{width} patch grid is not divisible by 1/downsample_ratio = {scale}.")
    # [T, H/s, s(a), W/s, s(b), D]: split rows and columns into (block, offset)
    features = features.reshape(tiles, height // scale, scale, width // scale, scale, channels)
    # [T, H/s, W/s, s(a), s(b), D]: bring both offsets next to the channels, row offset outermost
    features = features.permute(0, 1, 3, 2, 4, 5)
    # [T, H/s, W/s, s·s·D]
    return features.reshape(tiles, height // scale, width // scale, scale * scale * channels)


class InternS1Model(InternS1PreTrainedModel):
    """Vision tower + projector + language model (no LM head)."""

    def __init__(self, config: InternS1Config) -> None:
        super().__init__(config)
        self.vision_tower = InternS1VisionModel._from_config(config.vision_config)
        self.multi_modal_projector = InternS1MultiModalProjector(config)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    @merge_with_config_defaults
    @can_return_tuple
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        vision_feature_layer: int | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs,
    ) -> InternVLVisionModelOutputWithPooling:
        """pixel_values [T, 3, 448, 448] → `pooler_output` [T, image_seq_length, Dt], the projected image tokens.

        Differs from InternVL: the tile size is checked (the placeholder count of the prompt depends on it),
        any `vision_feature_layer` works, and the pixel shuffle is `pixel_shuffle` above.
        """
        self._check_tiles(pixel_values)
        if vision_feature_select_strategy != "default":
            raise ValueError(
                f"vision_feature_select_strategy must be 'default', got {vision_feature_select_strategy!r}."
            )
        pixel_values = pixel_values.to(dtype=self.dtype)
        if vision_feature_layer == -1:
            vision_outputs = self.vision_tower(pixel_values=pixel_values, return_dict=True, **kwargs)
            features = vision_outputs.last_hidden_state
        else:
            kwargs["output_hidden_states"] = True
            vision_outputs = self.vision_tower(pixel_values=pixel_values, return_dict=True, **kwargs)
            features = vision_outputs.hidden_states[vision_feature_layer]
        features = features[:, 1:, :]  # drop CLS: [T, N, Dv]
        tiles, num_patches, _ = features.shape
        side = round(num_patches**0.5)
        features = features.reshape(tiles, side, side, -1)  # [T, √N, √N, Dv]
        features = pixel_shuffle(features, self.config.downsample_ratio)  # [T, √N/2, √N/2, 4·Dv]
        features = features.reshape(tiles, -1, features.shape[-1])  # [T, N/4, 4·Dv]
        vision_outputs.pooler_output = self.multi_modal_projector(features)  # [T, N/4, Dt]
        return vision_outputs

    def _check_tiles(self, pixel_values: torch.Tensor) -> None:
        vision_config = self.config.vision_config
        check_pixel_values(pixel_values, vision_config.num_channels, vision_config.patch_size)
        expected = tuple(vision_config.image_size)
        if tuple(pixel_values.shape[-2:]) != expected:
            raise ValueError(
                f"pixel_values tiles are {pixel_values.shape[-2]}x{pixel_values.shape[-1]} pixels, the model expects "
                f"{expected[0]}x{expected[1]} tiles (vision_config.image_size, {self.config.image_seq_length} "
                "image tokens each); let the processor cut images into tiles."
            )

    def get_placeholder_mask(
        self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor, image_features: torch.Tensor
    ) -> torch.Tensor:
        """Boolean mask [B, S, 1] of the `<IMG_CONTEXT>` positions; their number must equal the feature rows."""
        if input_ids is None:
            image_embedding = self.get_input_embeddings()(
                torch.tensor(self.config.image_token_id, dtype=torch.long, device=inputs_embeds.device)
            )
            special_image_mask = (inputs_embeds == image_embedding).all(-1)
        else:
            special_image_mask = input_ids == self.config.image_token_id
        num_placeholders = special_image_mask.sum()
        num_features = image_features.shape[0] * image_features.shape[1]
        # A tensor condition (no host sync, traceable by torch.compile); the message is only built on failure.
        torch_compilable_check(
            num_placeholders == num_features,
            lambda: (
                "Image features and image tokens do not match: the input has "
                f"{int(num_placeholders)} image placeholder tokens (image_token_id {self.config.image_token_id}) but "
                f"pixel_values gave {num_features} image features ({image_features.shape[0]} tiles x "
                f"{image_features.shape[1]} tokens)."
            ),
        )
        return special_image_mask.unsqueeze(-1).to(inputs_embeds.device)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | None = None,
        vision_feature_select_strategy: str | None = None,
        output_router_logits: bool | None = None,
        **kwargs,
    ) -> InternS1ModelOutputWithPast:
        """Embed the text, put the projected image tokens at the placeholders, run the language model."""
        # Differs from InternVL: MoE router logits are requested from and returned by the language model.
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds.")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)

        image_features = None
        if pixel_values is not None:
            image_features = self.get_image_features(
                pixel_values=pixel_values,
                vision_feature_layer=vision_feature_layer,
                vision_feature_select_strategy=vision_feature_select_strategy,
            ).pooler_output
            image_features = image_features.to(inputs_embeds.device, inputs_embeds.dtype)
            image_mask = self.get_placeholder_mask(
                input_ids, inputs_embeds=inputs_embeds, image_features=image_features
            )
            inputs_embeds = inputs_embeds.masked_scatter(image_mask, image_features)

        if self.config.is_moe:
            if output_router_logits is None:
                output_router_logits = self.config.text_config.output_router_logits
            kwargs["output_router_logits"] = output_router_logits
        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            **kwargs,
        )
        return InternS1ModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
            router_logits=getattr(outputs, "router_logits", None),
        )

    def pixel_shuffle(self, vision_features: torch.Tensor, scale_factor: float = 0.5) -> torch.Tensor:
        """InternVL's method name for `pixel_shuffle`."""
        return pixel_shuffle(vision_features, scale_factor)


class InternS1ForConditionalGeneration(InternS1PreTrainedModel, GenerationMixin):
    """Intern-S1 with its LM head: image + text in, next-token logits out; `generate()` with a KV cache."""

    # Tied only when a config asks for it (both real models keep lm_head separate: tie_word_embeddings=False).
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: InternS1Config) -> None:
        super().__init__(config)
        self.model = InternS1Model(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def get_image_features(self, pixel_values: torch.Tensor, **kwargs) -> InternVLVisionModelOutputWithPooling:
        """See `InternS1Model.get_image_features`."""
        return self.model.get_image_features(pixel_values=pixel_values, **kwargs)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | None = None,
        vision_feature_select_strategy: str | None = None,
        labels: torch.LongTensor | None = None,
        output_router_logits: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> InternS1CausalLMOutputWithPast:
        """Logits over text_config.vocab_size; with labels, the causal LM loss (+ MoE aux loss × coefficient)."""
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            vision_feature_layer=vision_feature_layer,
            vision_feature_select_strategy=vision_feature_select_strategy,
            output_router_logits=output_router_logits,
            **kwargs,
        )
        hidden_states = slice_logits_to_keep(outputs.last_hidden_state, logits_to_keep)
        logits = self.lm_head(hidden_states)

        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )
        aux_loss = None
        if outputs.router_logits:
            aux_loss = self._router_aux_loss(outputs.router_logits, attention_mask)
            if loss is not None:
                loss = loss + self.config.text_config.router_aux_loss_coef * aux_loss.to(loss.device)

        return InternS1CausalLMOutputWithPast(
            loss=loss,
            aux_loss=aux_loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
            router_logits=outputs.router_logits,
        )

    def _router_aux_loss(
        self, router_logits: tuple[torch.Tensor, ...], attention_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Switch-style load-balancing loss over all layers, padding excluded (Qwen3-MoE's own function)."""
        text_config = self.config.text_config
        rows = router_logits[0].shape[0]
        # With a KV cache the mask covers past tokens too; it only lines up with the router rows on a full pass.
        if attention_mask is not None and (attention_mask.ndim != 2 or attention_mask.numel() != rows):
            attention_mask = None
        return load_balancing_loss_func(
            tuple(router_logits), text_config.num_experts, text_config.num_experts_per_tok, attention_mask
        )

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.LongTensor,
        past_key_values: Cache | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        is_first_iteration: bool | None = False,
        **kwargs,
    ) -> dict:
        """GenerationMixin's inputs, with ``pixel_values`` on the prefill step only (or on every step without a cache).

        The image only fills the KV cache; 5.23's ``generate()`` says which step is the prefill with
        ``is_first_iteration``. Decode steps are then plain decoder steps (static shapes, compilable).
        """
        model_inputs = super().prepare_inputs_for_generation(
            input_ids,
            past_key_values=past_key_values,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            is_first_iteration=is_first_iteration,
            **kwargs,
        )
        model_inputs.pop("pixel_values", None)
        if is_first_iteration or not kwargs.get("use_cache", True):
            model_inputs["pixel_values"] = pixel_values
        return model_inputs


__all__ = [
    "InternS1ForConditionalGeneration",
    "InternS1Model",
    "InternS1PreTrainedModel",
    "InternS1VisionModel",
    "InternS1VisionPreTrainedModel",
    "pixel_shuffle",
]
