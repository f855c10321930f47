"""StreamSplitter: reasoning / answer / tool-call split, identical for any chunking of the same text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.backends.base import Delta
from app.backends.stream_parser import (
    ACTION_END,
    ACTION_START,
    THINK_CLOSE,
    THINK_OPEN,
    StreamSplitter,
    parse_action,
    split_text,
)


CALL = '{"name": "check_smiles", "parameters": {"smiles": "CCO"}}'
THINKING_TOOL_TEXT = (
    "\nThe user wants ethanol checked.\n" + THINK_CLOSE + "\n\nI will validate it."
    f"{ACTION_START}<|plugin|>\n{CALL}\n{ACTION_END}"
)
SAMPLES = [
    (THINKING_TOOL_TEXT, True),
    (f"{THINK_OPEN}\nplan <b>\n{THINK_CLOSE}\nanswer with < and <| and </thin", False),
    ("plain answer, no markers at all", False),
    (f"reasoning only, never closed {ACTION_START}<|plugin|>\n{CALL}", True),
    (f"a{ACTION_START}<|plugin|>\nnot json\n{ACTION_END}b<|im_end|>", False),
]


def _merged(deltas: list[Delta]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for delta in deltas:
        if out and delta.kind in ("reasoning", "content") and out[-1][0] == delta.kind:
            out[-1] = (delta.kind, out[-1][1] + delta.text)
        else:
            out.append((delta.kind, delta.text if delta.kind != "tool_call" else delta.data))
    return out


def _stream(text: str, cuts: list[int], thinking_open: bool) -> list[Delta]:
    splitter = StreamSplitter(thinking_open=thinking_open)
    deltas: list[Delta] = []
    bounds = [0, *sorted({c % (len(text) + 1) for c in cuts}), len(text)]
    for start, end in zip(bounds, bounds[1:]):
        deltas += splitter.feed(text[start:end])
    return deltas + splitter.finish()


def test_thinking_then_answer_then_tool_call():
    assert _merged(split_text(THINKING_TOOL_TEXT, thinking_open=True)) == [
        ("reasoning", "The user wants ethanol checked.\n"),
        ("content", "I will validate it."),
        ("tool_call", {"name": "check_smiles", "parameters": {"smiles": "CCO"}}),
    ]


def test_explicit_think_block_when_prompt_did_not_open_it():
    assert _merged(split_text(f"{THINK_OPEN}\nplan\n{THINK_CLOSE}\nanswer")) == [
        ("reasoning", "plan\n"),
        ("content", "answer"),
    ]


def test_without_thinking_everything_is_content():
    assert _merged(split_text("just <SMILES>CCO</SMILES>")) == [("content", "just <SMILES>CCO</SMILES>")]


def test_unclosed_action_is_parsed_at_finish():
    # servers that stop on <|action_end|> strip it from the text
    deltas = split_text(f"ok{ACTION_START}<|plugin|>\n{CALL}\n")
    assert _merged(deltas)[-1] == ("tool_call", {"name": "check_smiles", "parameters": {"smiles": "CCO"}})


def test_invalid_action_block_is_kept_as_text():
    assert _merged(split_text(SAMPLES[4][0])) == [
        ("content", f"a{ACTION_START}<|plugin|>\nnot json\n{ACTION_END}b"),
    ]


def test_marker_split_at_every_position_is_recovered():
    """The vLLM #57490 case: the opening marker cut anywhere still yields the call."""
    for cut in range(len(THINKING_TOOL_TEXT) + 1):
        assert _merged(_stream(THINKING_TOOL_TEXT, [cut], True)) == _merged(
            split_text(THINKING_TOOL_TEXT, thinking_open=True)
        )


def test_holds_back_no_more_than_a_partial_marker():
    splitter = StreamSplitter()
    assert splitter.feed("hello <|act") == [Delta("content", text="hello ")]
    assert splitter.feed("ion_st") == []
    assert splitter.feed("art|>") == []
    assert splitter.mode == "action"
    assert splitter.feed("x") == []  # the call body is not text and waits for its end
    splitter = StreamSplitter()
    assert splitter.feed("a < b") == [Delta("content", text="a < b")]


def test_feed_after_finish_is_an_error():
    splitter = StreamSplitter()
    splitter.finish()
    with pytest.raises(RuntimeError, match="after finish"):
        splitter.feed("x")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"<|plugin|>\n{CALL}\n", {"name": "check_smiles", "parameters": {"smiles": "CCO"}}),
        ('{"name": "f", "arguments": "{\\"a\\": 1}"}', {"name": "f", "parameters": {"a": 1}}),
        ('thought {"name": "f"} tail', {"name": "f", "parameters": {}}),
        ('{"parameters": {}}', None),
        ('{"name": "f", "parameters": [1]}', None),
        ("[1, 2]", None),
    ],
)
def test_parse_action(body, expected):
    assert parse_action(body) == expected


@settings(max_examples=150, deadline=None)
@given(sample=st.sampled_from(SAMPLES), cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30))
def test_any_chunking_gives_the_same_split(sample, cuts):
    text, thinking_open = sample
    assert _merged(_stream(text, cuts, thinking_open)) == _merged(split_text(text, thinking_open=thinking_open))


_ALPHABET = st.sampled_from(
    [
        "a",
        " ",
        "\n",
        "<",
        ">",
        "|",
        "/",
        "{",
        "}",
        THINK_OPEN,
        THINK_CLOSE,
        ACTION_START,
        ACTION_END,
        "<|plugin|>",
        CALL,
        "<|im_end|>",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(_ALPHABET, max_size=25),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=20),
    thinking_open=st.booleans(),
)
def test_any_text_any_chunking_same_split(parts, cuts, thinking_open):
    text = "".join(parts)
    assert _merged(_stream(text, cuts, thinking_open)) == _merged(split_text(text, thinking_open=thinking_open))


def test_repeated_think_opener_inside_open_block_is_dropped():
    assert _merged(split_text(f"{THINK_OPEN}\nplan{THINK_CLOSE}answer", thinking_open=True)) == [
        ("reasoning", "plan"),
        ("content", "answer"),
    ]


@pytest.mark.parametrize(
    ("text", "thinking_open", "closed"),
    [
        (THINKING_TOOL_TEXT, True, True),
        ("never closed, just an answer", True, False),
        (f"{THINK_OPEN}plan{THINK_CLOSE}answer", False, True),
        (f"{THINK_OPEN}cut off mid-thought", False, False),
        (f"an answer that mentions {THINK_CLOSE} without thinking", False, False),
    ],
)
def test_thinking_closed_only_after_a_think_close_ends_reasoning(text, thinking_open, closed):
    splitter = StreamSplitter(thinking_open=thinking_open)
    for index in range(0, len(text), 3):  # markers cut across chunks
        splitter.feed(text[index : index + 3])
    splitter.finish()
    assert splitter.thinking_closed is closed
