"""write_tokenizer_files: the real layout over Qwen3, and a layout that follows another (GPT-2 style) base vocabulary.

The files name no offsets (like the published ones): the added-token table leaves each sub-vocabulary its block,
and the tokenizer places the sub-vocabularies there when it loads.
"""

import json

import pytest
import sentencepiece as spm

from app.synthetic_checkpoint import builtin_training_corpus, write_tokenizer_files
from intern_s1.byte_level_bpe import bytes_to_unicode
from intern_s1.tokenization_intern_s1 import InternS1Tokenizer


@pytest.fixture(scope="module")
def small_base_dir(tmp_path_factory):
    """A SmolLM2-like base: chat tokens inside vocab.json at ids 0-2, then the 256 byte symbols and a few merges."""
    folder = tmp_path_factory.mktemp("small_base")
    vocab = {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    for char in bytes_to_unicode().values():
        vocab[char] = len(vocab)
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a"]
    for merge in merges:
        vocab[merge.replace(" ", "")] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return folder


def test_qwen3_layout_is_written_deterministically(tmp_path):
    first = write_tokenizer_files(tmp_path / "a")
    second = write_tokenizer_files(tmp_path / "b")
    for name in ("tokenizer_SMILES.model", "tokenizer_IUPAC.model", "tokenizer_FASTA.model", "tokenizer_config.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    config = json.loads((first / "tokenizer_config.json").read_text())
    assert "sub_vocab_offsets" not in config
    tok = InternS1Tokenizer.from_pretrained(first)
    assert tok.sub_vocab_offsets == {"SMILES": 151669, "IUPAC": 151929, "FASTA": 152443}
    assert config["extra_special_tokens"]["context_image_token"] == "<IMG_CONTEXT>"
    decoder = {int(k): v["content"] for k, v in config["added_tokens_decoder"].items()}
    assert decoder[151643] == "<|endoftext|>" and decoder[151668] == "</think>"
    assert decoder[151925] == "<SMILES>" and decoder[152957] == "<IMG_CONTEXT>"
    sizes = [
        spm.SentencePieceProcessor(model_file=str(first / f"tokenizer_{n}.model")).get_piece_size()
        for n in ("SMILES", "IUPAC", "FASTA")
    ]
    assert sizes == [256, 512, 512]


def test_other_base_vocabulary_moves_the_offsets(small_base_dir, tmp_path):
    folder = write_tokenizer_files(tmp_path / "tok", base_vocab_dir=small_base_dir)
    base_size = 3 + 256 + 5
    smiles, iupac, fasta = base_size, base_size + 256 + 4, base_size + 256 + 4 + 512 + 2
    tok = InternS1Tokenizer.from_pretrained(folder)
    assert tok.sub_vocab_offsets == {"SMILES": smiles, "IUPAC": iupac, "FASTA": fasta}
    assert tok.convert_tokens_to_ids(["<|im_start|>", "<SMILES>", "</SMILES>", "<IUPAC>", "<FASTA>"]) == [
        1,
        smiles + 256,
        smiles + 257,
        iupac + 512,
        fasta + 512,
    ]
    assert tok.context_image_token_id == fasta + 512 + 2
    assert len(tok) == len(tok.get_vocab()) == max(tok.added_tokens_decoder) + 1
    sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer_SMILES.model"))
    text = "<|im_start|>the <SMILES>CCO</SMILES> and CC1=CC=CC=C1C=O<|im_end|>"
    ids = tok.encode(text)
    assert ids[0] == 1 and ids[-1] == 2
    span = ids[ids.index(smiles + 256) + 1 : ids.index(smiles + 257)]
    assert span == [sp.piece_to_id(p) + smiles for p in sp.encode("CCO", out_type=str)]
    assert tok.decode(ids) == text


def test_custom_training_text_and_bad_arguments(tmp_path):
    corpus = builtin_training_corpus(seed=1)
    folder = write_tokenizer_files(
        tmp_path / "custom", sp_training_text={"SMILES": corpus["SMILES"][:800]}, sp_vocab_sizes=(128, 256, 256)
    )
    tok = InternS1Tokenizer.from_pretrained(folder)
    assert tok.sub_vocab_offsets == {"SMILES": 151669, "IUPAC": 151669 + 128 + 4, "FASTA": 151669 + 132 + 258}
    with pytest.raises(ValueError, match="sp_training_text keys"):
        write_tokenizer_files(tmp_path / "bad", sp_training_text={"PROTEIN": "MKV"})
    with pytest.raises(ValueError, match="three sizes"):
        write_tokenizer_files(tmp_path / "bad", sp_vocab_sizes=(256, 512))
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        write_tokenizer_files(tmp_path / "bad", base_vocab_dir=tmp_path)
    with pytest.raises(ValueError, match="vocab_size=100000"):
        write_tokenizer_files(tmp_path / "bad", sp_vocab_sizes=(100000, 512, 512))
