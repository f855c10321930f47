"""Stop sequences and finish reasons, without a server."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.backends.base import Delta
from app.serving.answer import Answer, StopMatcher


def _reference_cut(text: str, stops: list[str]) -> str:
    """The text up to the stop sequence that completes first (what checking after every character gives)."""
    ends = [(text.find(stop) + len(stop), text.find(stop)) for stop in stops if stop in text]
    return text[: min(ends)[1]] if ends else text


def _chunks(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in zip(points, points[1:])]


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    text=st.text(alphabet="ab c", max_size=30),
    stops=st.lists(st.text(alphabet="ab c", min_size=1, max_size=4), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=12),
)
def test_any_chunking_gives_the_same_cut(text, stops, cuts):
    matcher = StopMatcher(tuple(stops))
    streamed = "".join(matcher.feed(chunk) for chunk in _chunks(text, cuts)) + matcher.flush()
    assert streamed == _reference_cut(text, stops)
    assert matcher.matched == any(stop in text for stop in stops)


def test_overlapping_stops_cut_at_the_first_to_complete():
    matcher = StopMatcher(("abcd", "bc"))
    assert matcher.feed("abcd") == "a" and matcher.matched


def test_finish_reasons_and_usage():
    answer = Answer("m", ("STOP",), max_tokens=10)
    pieces = [answer.feed(Delta("content", text)) for text in ("one ", "ST", "OP two")]
    answer.feed(Delta("usage", data={"prompt_tokens": 3, "completion_tokens": 4}))
    assert [p.content for p in pieces] == ["o", "ne", " "]  # three characters held back: "STOP" minus one
    assert answer.stopped and answer.content == "one " and answer.finish_reason() == "stop"
    assert answer.usage().total_tokens == 7
    tool = Answer("m", (), max_tokens=10)
    tool.feed(Delta("tool_call", data={"name": "f", "parameters": {"x": 1}}))
    assert tool.finish_reason() == "tool_calls" and tool.completion().choices[0].message.content is None
    counted = Answer("m", (), max_tokens=2)
    counted.feed(Delta("content", "a"))
    counted.feed(Delta("content", "b"))
    assert counted.finish_reason() == "length"  # no token count reported: the streamed pieces are counted


def test_held_text_is_released_before_a_tool_call():
    answer = Answer("m", ("xyz",), max_tokens=10)
    first = answer.feed(Delta("content", "hello x"))
    with_call = answer.feed(Delta("tool_call", data={"name": "f", "parameters": {}}))
    assert first.content == "hello" and with_call.content == " x" and with_call.tool_calls[0].function.name == "f"
    assert answer.content == "hello x"
