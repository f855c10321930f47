"""Generation behaviours transformers expects of a generative model: GenerationMixin, static cache, torch.compile.

Written by us after the behaviours of transformers' generation test suite (GenerationTesterMixin): the model lists
`GenerationMixin` among its bases, and greedy decoding with a static cache, and with a static cache plus a
full-graph `torch.compile` of the decode step, gives exactly the tokens of the dynamic cache — image included, with
the vision tower run once, on the prefill step.
"""

import pytest
import torch
from tiny_checkpoints import make_tiny_config
from transformers import GenerationMixin
from transformers.generation.configuration_utils import CompileConfig

from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration, InternS1Model, InternS1PreTrainedModel


TILE = 56  # 4x4 patches of 14 pixels: 4 image tokens per tile
IMAGE_TOKEN_ID = 1
NEW_TOKENS = 8


def tiny_model(text_model_type: str) -> InternS1ForConditionalGeneration:
    config = make_tiny_config(text_model_type, image_size=TILE, image_token_id=IMAGE_TOKEN_ID, vocab_size=256)
    torch.manual_seed(0)
    model = InternS1ForConditionalGeneration(config).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # random values everywhere (zero-initialised tables too): the tokens depend on every weight
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return model


def image_prompt(model: InternS1ForConditionalGeneration, batch: int = 2) -> dict:
    config = model.config
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(
        4, config.text_config.vocab_size, (batch, 12 + config.image_seq_length), generator=generator
    )
    input_ids[input_ids == IMAGE_TOKEN_ID] = 4
    input_ids[:, 3 : 3 + config.image_seq_length] = IMAGE_TOKEN_ID
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "pixel_values": torch.randn(batch, 3, TILE, TILE, generator=generator),
    }


def greedy(model, inputs: dict, **kwargs) -> torch.Tensor:
    # min_new_tokens: every run decodes the same number of steps, whatever token the random model picks
    return model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False, **kwargs)


def count_vision_calls(model) -> list:
    calls = []
    model.model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    return calls


def compiled_graphs() -> int:
    """Graphs dynamo has produced in this process (its own statistics counter)."""
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def test_generation_mixin_is_a_direct_base():
    assert GenerationMixin in InternS1ForConditionalGeneration.__bases__
    assert InternS1ForConditionalGeneration.can_generate()
    assert not issubclass(InternS1Model, GenerationMixin)  # the base model has no head: nothing to generate with
    assert InternS1PreTrainedModel._can_compile_fullgraph


@pytest.mark.parametrize("text_model_type", ["qwen3", "qwen3_moe"])
def test_static_cache_gives_the_dynamic_cache_tokens(text_model_type):
    model = tiny_model(text_model_type)
    inputs = image_prompt(model)
    dynamic = greedy(model, inputs)
    calls = count_vision_calls(model)
    static = greedy(model, inputs, cache_implementation="static")
    assert torch.equal(static, dynamic)
    assert len(calls) == 1  # the image is encoded once, at prefill


@pytest.mark.slow  # torch.compile of the decode step takes tens of seconds on a CPU
@pytest.mark.parametrize("text_model_type", ["qwen3", "qwen3_moe"])
def test_compiled_static_cache_decoding_gives_the_dynamic_cache_tokens(text_model_type):
    model = tiny_model(text_model_type)
    inputs = image_prompt(model)
    dynamic = greedy(model, inputs)
    calls = count_vision_calls(model)
    compile_config = CompileConfig(fullgraph=True, dynamic=False, mode="default")
    compile_config._compile_all_devices = True  # transformers auto-compiles only on accelerators unless asked
    graphs_before = compiled_graphs()
    first = greedy(model, inputs, cache_implementation="static", compile_config=compile_config)
    graphs_after_first_call = compiled_graphs()
    second = greedy(model, inputs, cache_implementation="static", compile_config=compile_config)
    assert torch.equal(first, dynamic) and torch.equal(second, dynamic)
    # fullgraph=True: a graph break would have raised. One graph for the decode step, none for the prefill (which
    # runs the vision tower eagerly), and no recompilation on the second call or on later steps.
    assert graphs_after_first_call - graphs_before == 1
    assert compiled_graphs() == graphs_after_first_call
    assert len(calls) == 2  # one prefill per generate call, never a decode step


def test_pixel_values_are_not_passed_to_decode_steps():
    model = tiny_model("qwen3")
    inputs = image_prompt(model)
    seen = []
    model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs.get("pixel_values") is not None), with_kwargs=True
    )
    greedy(model, inputs, cache_implementation="static")
    assert seen[0] and not any(seen[1:])
