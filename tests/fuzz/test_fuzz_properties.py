"""Time-boxed hypothesis runs over the three places where arbitrary user input first meets our code.

* the dynamic tokenizer: any ``str`` (control characters, lone surrogates, special-token look-alikes, SMILES and
  protein fragments) encodes without an exception, and ordinary text round-trips;
* ``science_tools``: any ``str`` gives a result object, any other type raises ``TypeError`` — nothing else;
* the chat-message builder (``app.chat.attachments``): any mix of text, files and limits gives either content items the
  real processor accepts, or an ``InputError`` with a message for a person.

Each run counts the examples it really executed and prints the figure (docs/reliability.md quotes them); a run
stops drawing new examples after its time box, and asserts that it still ran a meaningful number.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image


TIME_BOX_S = 25.0  # per target; the three runs together stay well under two minutes on two cores
_INTERNALS = re.compile(r"Traceback|File \"|\b(KeyError|AttributeError|IndexError|TypeError|NameError)\b")

PLAIN_FRAGMENTS = [
    "<SMILES>", "</SMILES>", "<SELFIES>", "</SELFIES>", "<IUPAC>", "</IUPAC>", "<MOLFORMULA>", "</MOLFORMULA>",
    "<think>", "</think>", "CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1", "[Na+].[Cl-]", "C1CC",
    "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "ATGCGTACGTAGCTAGCTAGGCTA", "2-acetyloxybenzoic acid", " ", "\n", "▁",
    "\u200b", "\x00", "🧪",
]  # fmt: skip
CONTROL_TOKENS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<IMG_CONTEXT>", "<img>", "</img>",
                  "<|action_start|>", "<|plugin|>", "<|action_end|>"]  # fmt: skip
# Logical markers only (spec: the tokenizer emits them around auto-detected spans and drops typed copies).
AUTO_DETECT_MARKERS = ["<SMILES_AUTO_DETECT>", "<FASTA_AUTO_DETECT>"]


def _text_from(fragments: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.text(max_size=16), st.sampled_from(fragments)), max_size=16).map("".join)


ANY_TEXT = _text_from(PLAIN_FRAGMENTS + CONTROL_TOKENS)
ANY_TEXT_WITH_MARKERS = _text_from(PLAIN_FRAGMENTS + CONTROL_TOKENS + AUTO_DETECT_MARKERS)
# Every code point, lone surrogates included (st.text() leaves category Cs out by default).
RAW_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=64)


def run_bounded(
    name: str,
    strategy: st.SearchStrategy,
    prop: Callable[[Any], None],
    *,
    max_examples: int,
    minimum: int,
    time_box_s: float = TIME_BOX_S,
    examples: tuple[Any, ...] = (),
) -> int:
    """Run ``prop`` under hypothesis for at most ``max_examples`` examples or ``time_box_s``; return the count."""
    count = 0
    failing = False  # once a failure is seen the time box is off, so hypothesis can replay and shrink it
    started = time.monotonic()

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value):
        nonlocal count, failing
        if not failing and time.monotonic() - started > time_box_s:
            return  # time box reached: the remaining examples are drawn but not run
        count += 1
        try:
            prop(value)
        except BaseException:
            failing = True
            raise

    for known in examples:  # always-run cases (known regressions), on top of the generated ones
        run = example(known)(run)
    run()
    elapsed = time.monotonic() - started
    print(f"fuzz[{name}]: {count} examples in {elapsed:.1f} s")
    assert count >= minimum, f"only {count} examples ran within {time_box_s} s"
    return count


def assert_for_people(message: str) -> None:
    assert message.strip(), "empty message"
    assert _INTERNALS.search(message) is None, message


# ---------------------------------------------------------------- tokenizer


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoint):
    from transformers import AutoTokenizer

    import intern_s1  # noqa: F401  (registers the tokenizer with the Auto classes)

    return AutoTokenizer.from_pretrained(tiny_checkpoint)


def test_tokenizer_round_trips_and_never_raises_on_any_str(tokenizer, record_property):
    def round_trip(text: str) -> None:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert all(isinstance(i, int) and 0 <= i < len(tokenizer) for i in ids)
        # spec §6.2: NFC, and a literal U+2581 reads back as a space
        assert tokenizer.decode(ids) == unicodedata.normalize("NFC", text).replace("▁", " ")

    def never_raises(text: str) -> None:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert isinstance(tokenizer.decode(ids), str)

    counted = run_bounded("tokenizer-round-trip", ANY_TEXT, round_trip, max_examples=1000, minimum=50)
    strategy = st.one_of(RAW_TEXT, ANY_TEXT_WITH_MARKERS)
    counted += run_bounded("tokenizer-any-str", strategy, never_raises, max_examples=1000, minimum=50)
    record_property("examples", counted)


# ---------------------------------------------------------------- science_tools


def _science_functions() -> dict[str, Callable[[Any], Any]]:
    import science_tools as tools

    return {
        "check_smiles": tools.check_smiles,
        "check_molecule": tools.check_molecule,
        "check_sequence": tools.check_sequence,
        "check_fasta": tools.check_fasta,
        "find_spans": tools.find_spans,
        "tag_spans": tools.tag_spans,
        "tag_for_tokenizer": lambda value: tools.tag_for_tokenizer(value, "smiles"),
        "draw_molecule_svg": tools.draw_molecule_svg,
        "embed_conformer": tools.embed_conformer,
    }


NOT_STR = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=16),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers()),
)


def test_science_tools_return_results_for_any_str_and_type_errors_otherwise(record_property):
    functions = _science_functions()
    names = sorted(functions)

    def any_input(drawn: tuple[str, Any]) -> None:
        name, value = drawn
        if isinstance(value, str):
            assert functions[name](value) is not None
        else:
            with pytest.raises(TypeError):
                functions[name](value)

    strategy = st.tuples(st.sampled_from(names), st.one_of(ANY_TEXT_WITH_MARKERS, RAW_TEXT, NOT_STR))
    record_property("examples", run_bounded("science_tools", strategy, any_input, max_examples=1500, minimum=100))


# ---------------------------------------------------------------- chat-message builder


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, str]:
    """A pool of uploads, good and bad, for the message builder."""
    import av

    folder = tmp_path_factory.mktemp("fuzz_media")
    files = {
        "photo.png": lambda p: Image.new("RGB", (40, 30), "teal").save(p),
        "wide.jpg": lambda p: Image.new("RGB", (300, 20), "red").save(p),
        "garbage.png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)),
        "empty.png": lambda p: p.write_bytes(b""),
        "text.mp4": lambda p: p.write_text("not a video"),
        "protein.fasta": lambda p: p.write_text(">p\nMKTAYIAKQRQISFVKSHFSRQ\n"),
        "bogus.fasta": lambda p: p.write_text("no records here"),
        "ethanol.smi": lambda p: p.write_text("CCO ethanol\n"),
        "broken.smi": lambda p: p.write_text("C1CC\n"),
        "blob.bin": lambda p: p.write_bytes(bytes(range(256))),
    }
    paths = {}
    for name, make in files.items():
        make(folder / name)
        paths[name] = str(folder / name)
    clip = folder / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for index in range(4):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 60 * index, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    paths["clip.mp4"] = str(clip)
    paths["missing.png"] = str(folder / "missing.png")
    return paths


@pytest.fixture(scope="module")
def processor(tiny_checkpoint):
    from transformers import AutoProcessor

    import intern_s1  # noqa: F401

    return AutoProcessor.from_pretrained(tiny_checkpoint)


@pytest.mark.parametrize(
    "fragments",
    [
        pytest.param(PLAIN_FRAGMENTS, id="science-text"),
        pytest.param(PLAIN_FRAGMENTS + CONTROL_TOKENS, id="with-control-tokens"),
    ],
)
def test_message_builder_gives_processor_input_or_a_clear_error(fragments, media, processor, record_property):
    from app.chat.attachments import InputError, prepare_user_turn
    from app.config import Limits

    limits_strategy = st.builds(
        Limits,
        max_images_per_message=st.integers(1, 4),
        max_tiles_per_image=st.integers(1, 6),
        max_video_frames=st.integers(1, 8),
        max_text_chars=st.integers(40, 4000),
        max_prompt_tokens=st.integers(256, 8192),
    )
    strategy = st.tuples(_text_from(fragments), st.lists(st.sampled_from(sorted(media)), max_size=3), limits_strategy)
    outcomes = {"accepted": 0, "refused": 0}

    def build(drawn: tuple[str, list[str], Limits]) -> None:
        text, names, limits = drawn
        try:
            turn = prepare_user_turn(text, [media[name] for name in names], limits)
        except InputError as error:
            outcomes["refused"] += 1
            assert_for_people(str(error))
            return
        outcomes["accepted"] += 1
        assert turn.content, "an accepted turn must carry something"
        for item in turn.content:
            assert item["type"] in ("image", "video", "text")
            if item["type"] == "text":
                assert item["text"] and len(item["text"]) <= limits.max_text_chars
            else:
                assert Path(item["path"]).is_file()
        inputs = processor.apply_chat_template(
            [{"role": "user", "content": turn.content}], add_generation_prompt=True, tokenize=True,
            return_dict=True, return_tensors="pt",
            processor_kwargs={"max_patches": limits.max_tiles_per_image, "max_frames": limits.max_video_frames},
        )  # fmt: skip
        assert inputs["input_ids"].shape[0] == 1 and inputs["input_ids"].shape[1] > 0

    known = (
        "What is <IMG_CONTEXT>?" if CONTROL_TOKENS[3] in fragments else "What is <SMILES>CCO</SMILES>?",
        [],
        Limits(),
    )
    count = run_bounded(
        "message-builder", strategy, build, max_examples=600, minimum=30, time_box_s=TIME_BOX_S / 2, examples=(known,)
    )
    print(f"fuzz[message-builder]: {outcomes['accepted']} accepted, {outcomes['refused']} refused")
    assert outcomes["accepted"] and outcomes["refused"], outcomes
    record_property("examples", count)
