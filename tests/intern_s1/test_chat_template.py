"""The Intern-S1 chat template (spec §7): exact prompt strings for thinking on/off, system prompts, history, tools,
image and video items — rendered by the processor loaded from a tiny checkpoint, as users do."""

import json

import pytest
from transformers import AutoProcessor

import intern_s1  # noqa: F401  (registers the Auto classes)
from intern_s1.processing_intern_s1 import default_chat_template


DEFAULT_SYSTEM = (
    "You are an expert reasoner with extensive experience in all areas. You approach problems through systematic "
    "thinking and rigorous reasoning. Your response should reflect deep understanding and precise logical thinking, "
    "making your solution path and reasoning clear to others. Please put your thinking process within "
    "<think>...</think> tags."
)
TOOL_INSTRUCTION_START = (
    "Your response should consist of a reasoning step (**thought**) followed immediately by a function call in "
    "valid JSON format. Wrap each function call using the `<|action_start|><|plugin|>` and `<|action_end|>` tags."
)
USER = [{"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def processor(tiny_checkpoint):
    return AutoProcessor.from_pretrained(tiny_checkpoint)


def render(processor, messages, **kwargs):
    return processor.apply_chat_template(messages, add_generation_prompt=True, **kwargs)


def test_checkpoint_ships_the_package_template(processor, tiny_checkpoint):
    assert processor.chat_template == default_chat_template()
    assert (tiny_checkpoint / "chat_template.jinja").read_text(encoding="utf-8") == default_chat_template()


def test_thinking_on_by_default_inserts_default_system_prompt(processor):
    assert render(processor, USER) == (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n<think>"
    )
    assert render(processor, USER, enable_thinking=True) == render(processor, USER)


def test_thinking_off_removes_system_prompt_and_think_opener(processor):
    assert render(processor, USER, enable_thinking=False) == (
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    )


@pytest.mark.parametrize("enable_thinking", [True, False])
def test_given_system_prompt_replaces_the_default(processor, enable_thinking):
    messages = [{"role": "system", "content": "You are a chemist."}, *USER]
    opener = "<think>" if enable_thinking else ""
    assert render(processor, messages, enable_thinking=enable_thinking) == (
        "<|im_start|>system\nYou are a chemist.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        f"<|im_start|>assistant\n{opener}"
    )


def test_multi_turn_history_with_reasoning(processor):
    messages = [
        *USER,
        {"role": "assistant", "reasoning_content": "\nAdd two and two.\n", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "6"},
        {"role": "user", "content": "Thanks."},
    ]
    assert render(processor, messages, enable_thinking=False) == (
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\nAdd two and two.\n</think>\n4<|im_end|>\n"
        "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
        "<|im_start|>assistant\n6<|im_end|>\n"
        "<|im_start|>user\nThanks.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_without_generation_prompt(processor):
    messages = [*USER, {"role": "assistant", "content": "4"}]
    assert processor.apply_chat_template(messages, enable_thinking=False) == (
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
    )


def test_tools_in_internlm_action_format(processor):
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "I will look it up.",
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": '{"temperature": 21}'},
    ]
    prompt = render(processor, messages, tools=[WEATHER_TOOL])
    system, rest = prompt.split("<|im_end|>\n", 1)
    assert system.startswith(f"<|im_start|>system\n{DEFAULT_SYSTEM}\n\n{TOOL_INSTRUCTION_START}")
    head, tool_json = system.split("# External Tools\nYou have access to these tools:\n")
    assert json.loads(tool_json) == [WEATHER_TOOL["function"]]
    assert rest == (
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\nI will look it up.\n"
        '<|action_start|><|plugin|>\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n<|action_end|>'
        "<|im_end|>\n"
        '<|im_start|>environment name=<|plugin|>\n{"temperature": 21}<|im_end|>\n'
        "<|im_start|>assistant\n<think>"
    )


def test_tools_with_thinking_off_and_own_system_prompt(processor):
    prompt = render(processor, USER, tools=[WEATHER_TOOL], enable_thinking=False)
    assert prompt.startswith(f"<|im_start|>system\n{TOOL_INSTRUCTION_START}")
    assert DEFAULT_SYSTEM not in prompt
    prompt = render(processor, [{"role": "system", "content": "Be brief."}, *USER], tools=[WEATHER_TOOL])
    assert prompt.startswith(f"<|im_start|>system\nBe brief.\n\n{TOOL_INSTRUCTION_START}")


def test_image_and_video_items(processor):
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image", "url": "http://127.0.0.1/cat.jpg"},
                {"type": "video", "path": "/tmp/clip.mp4"},
                {"type": "text", "text": "Compare them."},
            ],
        }
    ]
    assert render(processor, messages, enable_thinking=False) == (
        "<|im_start|>user\n<IMG_CONTEXT>\n<video>\nCompare them.<|im_end|>\n<|im_start|>assistant\n"
    )
