"""Intern-S1's dynamic tokenizer: Qwen byte-level BPE plus SMILES / IUPAC / FASTA SentencePiece sub-vocabularies.

Behaviour (spec §6, "the reference algorithm"): NFC; split on added tokens (and the ``<MOLFORMULA>`` protect markers);
auto-detect SMILES and protein spans in unprotected text; encode with a stack of active sub-vocabularies, where a
sub-vocabulary piece gets ``sp_id + offset`` and an unknown piece falls back to byte-level BPE.

Speed comes from doing the same thing with less work, never from a different answer:

* ordinary text goes through the Rust ``tokenizers`` BPE (same vocabulary, merges and pre-tokenizer regex as the
  Python GPT-2 BPE; id-identical), all text segments of a call in one batch;
* SMILES detection first finds runs that *could* hold a match with a cheap character-class pattern (a provable
  superset, see ``_SmilesDetector``) and runs the exact atomic-group regex only inside those runs;
* RDKit verdicts are memoised in a bounded LRU cache; RDKit logging is blocked per call, never globally;
* SentencePiece is called once per span (ids; piece strings only when an unknown piece needs them);
* decoding is a join over one precomputed id -> bytes table.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator

import regex
import sentencepiece as spm
from tokenizers import Regex, Tokenizer, pre_tokenizers
from tokenizers.models import BPE
from transformers.tokenization_python import AddedToken, PythonBackend
from transformers.tokenization_utils_base import BatchEncoding, TruncationStrategy
from transformers.utils import PaddingStrategy, TensorType


logger = logging.getLogger(__name__)

__all__ = ["InternS1Tokenizer"]

VOCAB_FILES_NAMES = {
    "vocab_file": "vocab.json",
    "merges_file": "merges.txt",
    "sp_model_SMILES": "tokenizer_SMILES.model",
    "sp_model_IUPAC": "tokenizer_IUPAC.model",
    "sp_model_FASTA": "tokenizer_FASTA.model",
}

# Qwen2/Qwen3 pre-tokenizer: digits are single tokens.
PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# The real sub-vocabulary offsets (Qwen3 base); tokenizer_config.json may override them ("sub_vocab_offsets").
DEFAULT_SUB_VOCAB_OFFSETS = {"SMILES": 151669, "IUPAC": 151929, "FASTA": 152443}
SUB_VOCAB_NAMES = ("SMILES", "IUPAC", "FASTA")

# Begin tag -> sub-vocabulary it activates; explicit tags are added tokens, AUTO_DETECT markers never get an id.
EXPLICIT_BEGIN_TAGS = {"<SMILES>": "SMILES", "<SELFIES>": "SMILES", "<IUPAC>": "IUPAC", "<FASTA>": "FASTA"}
EXPLICIT_END_TAGS = {"</SMILES>": "SMILES", "</SELFIES>": "SMILES", "</IUPAC>": "IUPAC", "</FASTA>": "FASTA"}
AUTO_BEGIN_MARKERS = {"<SMILES_AUTO_DETECT>": "SMILES", "<FASTA_AUTO_DETECT>": "FASTA"}
AUTO_END_MARKERS = {"</SMILES_AUTO_DETECT>": "SMILES", "</FASTA_AUTO_DETECT>": "FASTA"}
PROTECT_BEGIN, PROTECT_END = "<MOLFORMULA>", "</MOLFORMULA>"

# Two-letter element symbols and single letters (organic subset + aromatic) of the SMILES auto-detect pattern.
SMILES_TWO_LETTER_ELEMENTS = ["Ac", "Ag", "Al", "Am", "Ar", "As", "At", "Au", "Ba", "Be", "Bh", "Bi", "Bk", "Br", "Ca", "Cd", "Ce", "Cf", "Cl", "Cm", "Cn", "Co", "Cr", "Cs", "Cu", "Db", "Ds", "Dy", "Er", "Es", "Eu", "Fe", "Fl", "Fm", "Fr", "Ga", "Gd", "Ge", "He", "Hf", "Hg", "Ho", "Hs", "In", "Ir", "Kr", "La", "Li", "Lr", "Lu", "Lv", "Mc", "Md", "Mg", "Mn", "Mo", "Mt", "Na", "Nb", "Nd", "Ne", "Nh", "Ni", "No", "Np", "Og", "Os", "Pa", "Pb", "Pd", "Pm", "Po", "Pr", "Pt", "Pu", "Ra", "Rb", "Re", "Rf", "Rg", "Rh", "Rn", "Ru", "Sb", "Sc", "Se", "Sg", "Si", "Sm", "Sn", "Sr", "Ta", "Tb", "Tc", "Te", "Th", "Ti", "Tl", "Tm", "Ts", "Xe", "Yb", "Zn", "Zr"]
SMILES_ONE_LETTER_ELEMENTS = ["B", "C", "F", "H", "I", "K", "N", "O", "P", "S", "U", "V", "W", "Y", "b", "c", "n", "o", "p", "s"]
SMILES_MIN_LENGTH = 10
SMILES_MIN_ASCII_LETTERS = 5
FASTA_MIN_LENGTH = 27

_RDKIT_CACHE_SIZE = 16384
_RDKIT_CACHE_MAX_CHARS = 2048  # longer candidates are checked uncached so the cache stays small in memory

_SURROGATES = re.compile("[\ud800-\udfff]")
_ASCII_LETTER = re.compile("[A-Za-z]")


def smiles_reference_pattern() -> regex.Pattern:
    """The SMILES auto-detect pattern exactly as documented (spec §6.5): elements sorted by (-length, symbol)."""
    elements = sorted(SMILES_TWO_LETTER_ELEMENTS + SMILES_ONE_LETTER_ELEMENTS, key=lambda s: (-len(s), s))
    unit = r"\[[^\]]+\]|" + "|".join(elements) + r"|[\(\)\.=\-#@\d\$\%\*:\+\-\/\\]"
    return regex.compile(r"((?![:.=])(?>" + unit + r"){10,}(?<![:.=]))")


def smiles_factored_pattern() -> re.Pattern:
    """The same language and the same matches as ``smiles_reference_pattern``, about 8x faster.

    Inside the atomic group the first alternative that matches wins. All two-letter symbols precede all one-letter
    ones and alternatives with different first characters never compete, so for each first letter X the ordered
    list "Xa|Xb|...|X" is the greedy ``X[ab...]?`` (``X[ab...]`` when X alone is no element). The stdlib engine
    (atomic groups since Python 3.11) runs this form much faster than the ``regex`` module runs the long one.
    """
    singles = set(SMILES_ONE_LETTER_ELEMENTS)
    second_letters: dict[str, str] = {}
    for symbol in SMILES_TWO_LETTER_ELEMENTS:
        second_letters[symbol[0]] = second_letters.get(symbol[0], "") + symbol[1]
    alternatives = []
    for first in sorted(set(second_letters) | {s for s in singles if s.isupper()}):
        seconds = second_letters.get(first, "")
        if not seconds:
            alternatives.append(first)
        else:
            alternatives.append(f"{first}[{seconds}]" + ("?" if first in singles else ""))
    alternatives.append("[" + "".join(sorted(s for s in singles if s.islower())) + "]")
    unit = r"\[[^\]]+\]|" + "|".join(alternatives) + r"|[\(\)\.=\-#@\d\$\%\*:\+\-\/\\]"
    return re.compile(r"((?![:.=])(?>" + unit + r"){10,}(?<![:.=]))")


# A superset of the SMILES pattern that the stdlib engine scans quickly. Every unit of the exact pattern is one unit
# here ("Xy" may cover two exact units), a run only stops where the exact pattern cannot continue, and a match of
# >= 10 exact units spans >= 5 units here; so every exact match lies inside one run found by this pattern, and
# scanning each run with the exact pattern finds exactly the matches a scan of the whole text finds.
# Uppercase letters that are elements on their own may take a lowercase letter; the others only start two-letter
# symbols and so need one; J and Q start nothing.
_PREFILTER_UNITS = r"[BCFHIKNOPSUVWY][a-z]?|[ADEGLMRTXZ][a-z]|[bcnops]|[\(\)\.=\-#@\d\$%\*:\+/\\]"
_SMILES_PREFILTER = re.compile(r"(?:\[[^\]]+\]|" + _PREFILTER_UNITS + r"){5,}")
_SMILES_PREFILTER_NO_BRACKETS = re.compile(r"(?:" + _PREFILTER_UNITS + r"){5,}")
# Without brackets every character of a match is one of these, so only runs of >= 10 of them need a closer look.
# (The lookbehind makes each run start only at its first character, so the scan stays linear.)
_SMILES_CHARS = re.compile(r"(?<![A-Za-z\d\(\)\.=\-#@\$%\*:\+/\\])[A-Za-z\d\(\)\.=\-#@\$%\*:\+/\\]{10,}")
# The same windows when bracket atoms (whose content may be anything but "]") can occur.
_SMILES_WINDOWS_WITH_BRACKETS = re.compile(
    r"(?<![A-Za-z\d\(\)\.=\-#@\$%\*:\+/\\])(?:\[[^\]]+\]|[A-Za-z\d\(\)\.=\-#@\$%\*:\+/\\])+"
)
# In a run of capitals only one-letter elements are units, so the exact matches are the maximal runs of those
# letters of length >= 10 (protein sequences are such runs).
_UPPERCASE_ELEMENT_RUN = re.compile(r"(?<![BCFHIKNOPSUVWY])[BCFHIKNOPSUVWY]{10,}")
_FASTA_PATTERN = re.compile(r"[A-Z]{27,}")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map used by byte-level BPE vocabularies."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


@functools.lru_cache(maxsize=1)
def _rdkit():
    try:
        from rdkit import Chem, rdBase
    except ImportError as error:  # RDKit is a hard dependency: SMILES detection (and so the ids) depends on it
        raise ImportError("InternS1Tokenizer needs RDKit for SMILES auto-detection: pip install rdkit") from error
    return Chem, rdBase


def _rdkit_parses(candidate: str) -> bool:
    chem, rd_base = _rdkit()
    with rd_base.BlockLogs():  # silence parse errors for this call only
        try:
            return chem.MolFromSmiles(candidate) is not None
        except (UnicodeEncodeError, RuntimeError, ValueError):  # e.g. a lone surrogate inside a bracket atom
            return False


_rdkit_parses_cached = functools.lru_cache(maxsize=_RDKIT_CACHE_SIZE)(_rdkit_parses)


def is_legitimate_smiles(candidate: str) -> bool:
    """At least 5 ASCII letters and RDKit parses it (verdicts cached in a bounded LRU)."""
    if len(_ASCII_LETTER.findall(candidate)) < SMILES_MIN_ASCII_LETTERS:
        return False
    if len(candidate) > _RDKIT_CACHE_MAX_CHARS:
        return _rdkit_parses(candidate)
    return _rdkit_parses_cached(candidate)


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


class _SmilesDetector:
    """SMILES auto-detection with the exact reference semantics and a linear-time prefilter."""

    def __init__(self) -> None:
        self.pattern = smiles_factored_pattern()

    def matches(self, text: str) -> Iterable[tuple[int, int]]:
        """(start, end) of every exact-pattern match in ``text``, in scan order."""
        windows = _SMILES_WINDOWS_WITH_BRACKETS if "[" in text and "]" in text else _SMILES_CHARS
        for window in windows.finditer(text):
            window_start, window_end = window.span()
            if window_end - window_start < SMILES_MIN_LENGTH:
                continue
            letters = window.group()
            if letters.isalpha() and letters.isupper():
                for run in _UPPERCASE_ELEMENT_RUN.finditer(text, window_start, window_end):
                    yield run.span()
                continue
            prefilter = _SMILES_PREFILTER if "[" in letters else _SMILES_PREFILTER_NO_BRACKETS
            for run in prefilter.finditer(text, window_start, window_end):
                start, end = run.span()
                if end - start < SMILES_MIN_LENGTH:
                    continue
                for match in self.pattern.finditer(text, start, end):
                    yield match.span(1)

    def split(self, text: str, base: int) -> list[tuple[str, int]]:
        """Split a text piece into (piece, start) with detected candidates wrapped in AUTO_DETECT markers."""
        return _wrap_spans(text, base, self._accepted(text), "SMILES")

    def _accepted(self, text: str) -> Iterator[tuple[int, int]]:
        """Candidate spans that pass the length, letter-boundary and RDKit checks, in order."""
        for start, end in self.matches(text):
            if end - start < SMILES_MIN_LENGTH:
                continue
            if (start > 0 and _is_ascii_letter(text[start - 1])) or (end < len(text) and _is_ascii_letter(text[end])):
                continue  # letter-boundary rule (cheap, so checked before RDKit; the verdict is the same)
            if is_legitimate_smiles(text[start:end]):
                yield start, end


def _wrap_spans(text: str, base: int, spans: Iterable[tuple[int, int]], kind: str) -> list[tuple[str, int]]:
    """(piece, start) pieces of ``text`` with each span wrapped in ``<{kind}_AUTO_DETECT>`` markers."""
    out: list[tuple[str, int]] = []
    last = 0
    for start, end in spans:
        if start > last:
            out.append((text[last:start], base + last))
        out += [(f"<{kind}_AUTO_DETECT>", base + start), (text[start:end], base + start)]
        out.append((f"</{kind}_AUTO_DETECT>", base + end))
        last = end
    if last == 0:
        return [(text, base)]
    if last < len(text):
        out.append((text[last:], base + last))
    return out


def _fasta_split(text: str, base: int) -> list[tuple[str, int]]:
    """Runs of >= 27 capitals become FASTA spans; no letter-boundary rule (the reference's truncation=True)."""
    if len(text) < FASTA_MIN_LENGTH:
        return [(text, base)]
    return _wrap_spans(text, base, (match.span() for match in _FASTA_PATTERN.finditer(text)), "FASTA")


class _SubVocab:
    """One SentencePiece sub-vocabulary placed at a global id offset."""

    def __init__(self, name: str, model_file: str, offset: int) -> None:
        self.name = name
        self.model_file = model_file
        with open(model_file, "rb") as handle:
            self.proto = handle.read()
        self.sp = spm.SentencePieceProcessor(model_proto=self.proto)
        self.offset = offset
        self.unk_id = self.sp.unk_id()
        self.pieces = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]
        self.piece_to_id = {piece: i for i, piece in enumerate(self.pieces)}

    def __len__(self) -> int:
        return len(self.pieces)

    def global_id_of(self, token: str) -> int | None:
        local = self.piece_to_id.get(token)
        if local is None or local == self.unk_id:
            return None
        return local + self.offset


class InternS1Tokenizer(PythonBackend):
    """Intern-S1 dynamic tokenizer (Qwen byte-level BPE + SMILES / IUPAC / FASTA SentencePiece sub-vocabularies).

    Args:
        vocab_file / merges_file: the base byte-level BPE.
        sp_model_SMILES / sp_model_IUPAC / sp_model_FASTA: SentencePiece models; default: next to ``vocab_file``.
        sub_vocab_offsets: ``{"SMILES": int, "IUPAC": int, "FASTA": int}`` global id of each model's piece 0
            (default the real 151669 / 151929 / 152443).
        errors: how decoding treats invalid UTF-8 (``"replace"``).
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str,
        merges_file: str,
        sp_model_SMILES: str | None = None,
        sp_model_IUPAC: str | None = None,
        sp_model_FASTA: str | None = None,
        errors: str = "replace",
        unk_token: str | None = "<|endoftext|>",
        bos_token: str | None = None,
        eos_token: str | None = "<|endoftext|>",
        pad_token: str | None = "<|endoftext|>",
        clean_up_tokenization_spaces: bool = False,
        split_special_tokens: bool = False,
        sub_vocab_offsets: dict[str, int] | None = None,
        **kwargs,
    ) -> None:
        if kwargs.pop("add_prefix_space", None):
            logger.warning("InternS1Tokenizer ignores add_prefix_space (the Qwen pre-tokenizer never adds one)")
        self.errors = errors
        self._load_base_bpe(vocab_file, merges_file)
        model_files = {"SMILES": sp_model_SMILES, "IUPAC": sp_model_IUPAC, "FASTA": sp_model_FASTA}
        self._load_sub_vocabs(vocab_file, model_files, {**DEFAULT_SUB_VOCAB_OFFSETS, **(sub_vocab_offsets or {})})
        self._smiles = _SmilesDetector()
        self._bpe_words: Tokenizer | None = None
        self._cache_key: tuple | None = None

        super().__init__(
            errors=errors,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            split_special_tokens=split_special_tokens,
            sub_vocab_offsets=self.sub_vocab_offsets,
            special_tokens_pattern="none",
            **kwargs,
        )
        missing = [t for t in (*EXPLICIT_BEGIN_TAGS, *EXPLICIT_END_TAGS) if t not in self._added_tokens_encoder]
        if missing:
            logger.warning("tokenizer files lack the domain tags %s; adding them at the end of the vocabulary", missing)
            self._add_tokens([AddedToken(t, special=False, normalized=False) for t in missing])

    # ------------------------------------------------------------------------------------------------------------
    # Construction helpers
    # ------------------------------------------------------------------------------------------------------------

    def _load_base_bpe(self, vocab_file: str, merges_file: str) -> None:
        self.vocab_file, self.merges_file = vocab_file, merges_file
        with open(vocab_file, encoding="utf-8") as handle:
            self.encoder: dict[str, int] = json.load(handle)
        self.decoder = {index: token for token, index in self.encoder.items()}
        with open(merges_file, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        if lines and lines[0].startswith("#version:"):
            lines = lines[1:]
        self.merges = [line for line in lines if line.strip()]
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {char: byte for byte, char in self.byte_encoder.items()}
        self._bpe = self._build_rust_bpe()

    def _load_sub_vocabs(self, vocab_file: str, model_files: dict[str, str | None], offsets: dict[str, int]) -> None:
        folder = os.path.dirname(os.path.abspath(vocab_file))
        self.sub_vocabs: dict[str, _SubVocab] = {}
        for name in SUB_VOCAB_NAMES:
            path = model_files[name] or os.path.join(folder, VOCAB_FILES_NAMES[f"sp_model_{name}"])
            self.sub_vocabs[name] = _SubVocab(name, path, int(offsets[name]))
        self.sub_vocab_offsets = {name: sub.offset for name, sub in self.sub_vocabs.items()}
        # Sub-vocabulary ids of BPE tokens whose string is also a piece (spec §6.6 edge: such a token inside a span
        # gets the piece's id), so the fast path and convert_tokens_to_ids agree.
        self._bpe_overrides = {
            name: {self.encoder[p]: sub.global_id_of(p) for p in sub.pieces if p in self.encoder and sub.global_id_of(p)}
            for name, sub in self.sub_vocabs.items()
        }
        # Filler names for every piece id (as the v5 reference does), so that get_vocab() / len() cover the id
        # ranges of the sub-vocabularies and tokens added later get ids after the whole layout.
        self._filler_vocab = {
            f"<|{name}_{piece}|>": sub.offset + i for name, sub in self.sub_vocabs.items() for i, piece in enumerate(sub.pieces)
        }

    def _build_rust_bpe(self) -> Tokenizer:
        """The Rust BPE over the same vocabulary and merges, with the Qwen pre-tokenizer and no normaliser.

        Building it is most of the load time, so instances over the same (unchanged) files share one: it is
        immutable after construction and safe to use from several threads.
        """
        key = (_file_identity(self.vocab_file), _file_identity(self.merges_file))
        return _shared_rust_bpe(key, lambda: self._new_rust_bpe())

    def _new_rust_bpe(self) -> Tokenizer:
        # Built from the vocabulary already parsed for decoding (cheaper than letting Rust re-read the files).
        tokenizer = Tokenizer(self._rust_bpe_from_memory())
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        return tokenizer

    def _rust_bpe_from_memory(self) -> BPE:
        merges = [tuple(line.split(" ")) for line in self.merges]
        bad = next((line for line, pair in zip(self.merges, merges) if len(pair) != 2), None)
        if bad is not None:
            raise ValueError(f"{self.merges_file}: a merge line must hold two tokens separated by a space, got {bad!r}")
        return BPE(vocab=self.encoder, merges=merges)

    def _tables(self) -> _Tables:
        """Splitter, tag kinds and the decode table, rebuilt whenever added tokens change."""
        key = (len(self._added_tokens_decoder), len(self._added_tokens_encoder), self.split_special_tokens)
        if self._cache_key != key:
            self._cached_tables = _Tables(self)
            self._cache_key = key
        return self._cached_tables

    # ------------------------------------------------------------------------------------------------------------
    # Vocabulary
    # ------------------------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.encoder) + sum(len(sub) for sub in self.sub_vocabs.values())

    def get_vocab(self) -> dict[str, int]:
        return {**self.encoder, **self._filler_vocab, **self._added_tokens_encoder}

    def _convert_token_to_id(self, token: str) -> int | None:
        return self.encoder.get(token, self.encoder.get("<unk>"))

    def _convert_id_to_token(self, index: int) -> str:
        if index in self.decoder:
            return self.decoder[index]
        for sub in self.sub_vocabs.values():
            if sub.offset <= index < sub.offset + len(sub):
                return sub.pieces[index - sub.offset]
        return ""  # out-of-range ids (embedding padding rows) decode to nothing

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | None | list[int | None]:
        """Spec §6.6: walk the tokens with the sub-vocabulary stack; AUTO_DETECT markers get no id."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            return self._convert_token_to_id_with_added_voc(tokens)
        ids: list[int | None] = []
        stack: list[_SubVocab] = []
        for token in tokens:
            if token in AUTO_BEGIN_MARKERS:
                stack.append(self.sub_vocabs[AUTO_BEGIN_MARKERS[token]])
                continue
            if token in AUTO_END_MARKERS:
                if stack:
                    stack.pop()
                continue
            if token in EXPLICIT_BEGIN_TAGS:
                stack.append(self.sub_vocabs[EXPLICIT_BEGIN_TAGS[token]])
            elif token in EXPLICIT_END_TAGS and stack:
                stack.pop()
            if token in self._added_tokens_encoder:
                ids.append(self._added_tokens_encoder[token])
                continue
            sub_id = stack[-1].global_id_of(token) if stack else None
            ids.append(sub_id if sub_id is not None else self._convert_token_to_id(token))
        return ids

    # ------------------------------------------------------------------------------------------------------------
    # Tokenization
    # ------------------------------------------------------------------------------------------------------------

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        """Plain byte-level BPE of ``text`` (no added tokens, no sub-vocabularies); ``▁`` counts as a space."""
        return [token for _, token, _ in self._bpe_many([text.replace("▁", " ")], want_offsets=False)[0]]

    def tokenize(self, text: str, **kwargs) -> list[str]:
        """Token strings, AUTO_DETECT markers included (spec §6.4); ``convert_tokens_to_ids`` gives the ids."""
        _check_text(text, "text")
        split_special_tokens = kwargs.pop("split_special_tokens", self.split_special_tokens)
        return [token for _, token, _ in self._encode_text(text, split_special_tokens, want_offsets=False)]

    def encode_with_offsets(
        self, text: str, *, split_special_tokens: bool | None = None
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and (start, end) character offsets into ``text`` (which is NFC-normalised first)."""
        _check_text(text, "text")
        split = self.split_special_tokens if split_special_tokens is None else split_special_tokens
        triples = self._encode_text(text, split, want_offsets=True)
        ids = [i for i, _, _ in triples if i is not None]
        offsets = [span for i, _, span in triples if i is not None]
        return ids, offsets

    def _encode_ids(self, text: str, split_special_tokens: bool) -> list[int]:
        """Ids only: the same passes as ``_encode_text`` without building token strings or spans."""
        if _SURROGATES.search(text):
            return [i for i, _, _ in self._encode_text(text, split_special_tokens, want_offsets=False) if i is not None]
        normalized = unicodedata.normalize("NFC", text)
        if not normalized:
            return []
        tables = self._tables()
        kinds, added = tables.kinds, self._added_tokens_encoder
        # The plan holds ints and lists of ints only (no per-token tuples: a long document would otherwise spend
        # most of its time in the garbage collector): id >= 0 is ready, -1 - j is BPE job j, a list is ready ids.
        plan: list = []
        bpe_texts: list[str] = []
        job_models: list[str | None] = []
        stack: list[str] = []
        for piece, _ in self._segment(normalized, tables, split_special_tokens):
            kind = kinds.get(piece)
            if kind is None and stack:
                self._span_ids(piece, self.sub_vocabs[stack[-1]], plan, bpe_texts, job_models)
            elif kind is None or kind == _PROTECT:
                plan.append(-1 - len(job_models))
                bpe_texts.append(piece.replace("▁", " "))
                job_models.append(stack[-1] if stack else None)
            elif kind == _BEGIN:
                if piece in added:
                    plan.append(added[piece])
                stack.append(tables.begin_model[piece])
            elif kind == _END:
                if piece in added:
                    plan.append(added[piece])
                if stack:
                    popped = stack.pop()
                    if popped != tables.end_model[piece]:
                        _warn_mismatched_tag_once(piece, popped)
            else:
                plan.append(added[piece])
        # Identical texts (short unknown pieces repeat a lot) are encoded once.
        unique = {text: n for n, text in enumerate(dict.fromkeys(bpe_texts))}
        encoded = self._bpe_ids_many(list(unique))
        ids: list[int] = []
        for item in plan:
            if type(item) is list:
                ids.extend(item)
            elif item >= 0:
                ids.append(item)
            else:
                job = -1 - item
                model = job_models[job]
                job_ids = encoded[unique[bpe_texts[job]]]
                if model is None:
                    ids.extend(job_ids)
                else:
                    overrides = self._bpe_overrides[model]
                    ids.extend([overrides.get(i, i) for i in job_ids])
        return ids

    def _span_ids(
        self, text: str, sub: _SubVocab, plan: list, bpe_texts: list[str], job_models: list[str | None]
    ) -> None:
        ids = sub.sp.encode(text)
        offset, unk = sub.offset, sub.unk_id
        if unk not in ids:
            plan.append([i + offset for i in ids])
            return
        for local, piece in zip(ids, sub.sp.encode(text, out_type=str)):
            if local != unk:
                plan.append(local + offset)
                continue
            plan.append(-1 - len(job_models))
            bpe_texts.append(piece.replace("▁", " "))
            job_models.append(sub.name)

    def _encode_text(
        self, text: str, split_special_tokens: bool, want_offsets: bool
    ) -> list[tuple[int | None, str, tuple[int, int]]]:
        """(id or None, token string, char span) for every token, markers included, in order."""
        normalized = unicodedata.normalize("NFC", text)
        if not normalized:
            return []
        tables = self._tables()
        pieces = self._segment(normalized, tables, split_special_tokens)
        triples = self._encode_pieces(pieces, tables, want_offsets, has_surrogates=bool(_SURROGATES.search(text)))
        if want_offsets and normalized != text:
            triples = _map_offsets_to_original(triples, text)
        return triples

    def _segment(self, text: str, tables: _Tables, split_special_tokens: bool) -> list[tuple[str, int]]:
        """Added-token split + auto-detection pass (spec §6.4 steps 3-4): (piece, start) pairs."""
        pieces = [(text, 0)] if split_special_tokens else tables.split(text)
        out: list[tuple[str, int]] = []
        protect = 0
        for piece, start in pieces:
            if not piece:
                continue
            if piece in tables.no_split:
                out.append((piece, start))
                if piece in tables.protect_openers:
                    protect += 1
                elif piece in tables.protect_closers:
                    protect = max(0, protect - 1)
                continue
            if protect > 0:
                out.append((piece, start))
                continue
            for smiles_piece, smiles_start in self._smiles.split(piece, start):
                out.extend(_fasta_split(smiles_piece, smiles_start))
        return out

    def _encode_pieces(
        self, pieces: list[tuple[str, int]], tables: _Tables, want_offsets: bool, has_surrogates: bool
    ) -> list[tuple[int | None, str, tuple[int, int]]]:
        """Encoding pass with the sub-vocabulary stack (spec §6.4 step 5); BPE work is batched into one Rust call."""
        plan: list = []  # items: list of triples (ready) or (bpe_job_index, sub_vocab_name | None)
        bpe_texts: list[str] = []
        bpe_bases: list[int] = []
        stack: list[str] = []

        def bpe_job(piece: str, start: int) -> None:
            plan.append((len(bpe_texts), stack[-1] if stack else None))
            bpe_texts.append(piece.replace("▁", " "))
            bpe_bases.append(start)

        for piece, start in pieces:
            kind = tables.kinds.get(piece)
            span = (start, start + len(piece))
            if kind is None:  # text
                if stack:
                    self._encode_span(piece, start, self.sub_vocabs[stack[-1]], plan, bpe_job, has_surrogates)
                else:
                    bpe_job(piece, start)
            elif kind == _PROTECT:
                bpe_job(piece, start)
            elif kind == _BEGIN:
                plan.append([(self._added_tokens_encoder.get(piece), piece, span)])
                stack.append(tables.begin_model[piece])
            elif kind == _END:
                plan.append([(self._added_tokens_encoder.get(piece), piece, span)])
                if stack:
                    popped = stack.pop()
                    if popped != tables.end_model[piece]:
                        _warn_mismatched_tag_once(piece, popped)
            else:  # other added token
                plan.append([(self._added_tokens_encoder[piece], piece, span)])

        results = self._bpe_many(bpe_texts, want_offsets, has_surrogates)
        out: list[tuple[int | None, str, tuple[int, int]]] = []
        for item in plan:
            if isinstance(item, list):
                out.extend(item)
                continue
            job, model = item
            base = bpe_bases[job]
            overrides = self._bpe_overrides[model] if model else None
            for token_id, token, (start, end) in results[job]:
                if overrides:
                    token_id = overrides.get(token_id, token_id)
                out.append((token_id, token, (base + start, base + end)))
        return out

    def _encode_span(self, text: str, start: int, sub: _SubVocab, plan: list, bpe_job, has_surrogates: bool) -> None:
        """SentencePiece-encode one span piece; unknown pieces go to byte-level BPE (inside the span)."""
        if has_surrogates and _SURROGATES.search(text):
            position = start
            for chunk in _split_surrogates(text):
                if _SURROGATES.match(chunk):
                    bpe_job(chunk, position)
                else:
                    self._encode_span(chunk, position, sub, plan, bpe_job, has_surrogates=False)
                position += len(chunk)
            return
        ids = sub.sp.encode(text)
        pieces = sub.sp.encode(text, out_type=str) if sub.unk_id in ids else None
        ready: list[tuple[int | None, str, tuple[int, int]]] = []
        position = start
        for n, local in enumerate(ids):
            piece = pieces[n] if pieces is not None else sub.pieces[local]
            if local == sub.unk_id:
                if ready:
                    plan.append(ready)
                    ready = []
                bpe_job(piece, position)
            else:
                ready.append((local + sub.offset, piece, (position, position + len(piece))))
            position += len(piece)
        if ready:
            plan.append(ready)

    def _bpe_many(
        self, texts: list[str], want_offsets: bool, has_surrogates: bool = False
    ) -> list[list[tuple[int, str, tuple[int, int]]]]:
        """Byte-level BPE of several texts in one Rust call: per text a list of (id, token, span)."""
        if not texts:
            return []
        if has_surrogates:
            return [self._bpe_with_surrogates(text, want_offsets) for text in texts]
        encodings = self._bpe.encode_batch(texts, add_special_tokens=False) if want_offsets or len(texts) > 1 else (
            [self._bpe.encode(texts[0], add_special_tokens=False)]
        )
        out = [list(zip(e.ids, e.tokens, e.offsets)) for e in encodings]
        for n, text in enumerate(texts):
            if _may_classify_differently(text):
                out[n] = self._bpe_by_words(text)
        return out

    def _bpe_ids_many(self, texts: list[str]) -> list[list[int]]:
        """Ids of several texts in one Rust call (see ``_bpe_by_words`` for the rare exception)."""
        if not texts:
            return []
        out = [e.ids for e in self._bpe.encode_batch_fast(texts, add_special_tokens=False)]
        for n, text in enumerate(texts):
            if _may_classify_differently(text):
                out[n] = [token_id for token_id, _, _ in self._bpe_by_words(text)]
        return out

    def _bpe_by_words(self, text: str) -> list[tuple[int, str, tuple[int, int]]]:
        r"""Pre-tokenize with the Python ``regex`` module (as the reference does), then BPE each word in Rust.

        Rust's regex engine and the ``regex`` module ship different Unicode versions, so for code points that
        Python's own Unicode database leaves unassigned (newly assigned letters, e.g. recent CJK extensions) their
        ``\p{L}`` / ``\p{N}`` verdicts can differ and so would the pre-tokens.
        """
        if self._bpe_words is None:
            words = Tokenizer(self._bpe.model)
            words.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
            self._bpe_words = words
        spans = [match.span() for match in _PRETOKENIZE_PATTERN.finditer(text)]
        encodings = self._bpe_words.encode_batch([text[s:e] for s, e in spans], add_special_tokens=False)
        return [
            (token_id, token, (start + a, start + b))
            for (start, _), encoding in zip(spans, encodings)
            for token_id, token, (a, b) in zip(encoding.ids, encoding.tokens, encoding.offsets)
        ]

    def _bpe_with_surrogates(self, text: str, want_offsets: bool) -> list[tuple[int, str, tuple[int, int]]]:
        """Lone surrogates cannot enter Rust: they become their 'surrogatepass' UTF-8 bytes, one byte token each."""
        out: list[tuple[int, str, tuple[int, int]]] = []
        position = 0
        for chunk in _split_surrogates(text):
            if _SURROGATES.match(chunk):
                for byte in chunk.encode("utf-8", "surrogatepass"):
                    token = self.byte_encoder[byte]
                    out.append((self.encoder[token], token, (position, position + 1)))
            else:
                encoding = self._bpe.encode(chunk, add_special_tokens=False)
                out.extend((i, t, (position + s, position + e)) for i, t, (s, e) in zip(
                    encoding.ids, encoding.tokens, encoding.offsets))
            position += len(chunk)
        return out

    # ------------------------------------------------------------------------------------------------------------
    # Encoding entry points (fast path behind __call__ / encode)
    # ------------------------------------------------------------------------------------------------------------

    def encode(self, text, text_pair=None, add_special_tokens: bool = True, padding=False, truncation=None,
               max_length: int | None = None, stride: int = 0, padding_side: str | None = None,
               return_tensors=None, **kwargs) -> list[int]:
        """Ids of ``text``; plain calls skip the generic padding/truncation machinery (nothing is added anyway)."""
        plain = (
            isinstance(text, str) and text_pair is None and not padding and not truncation and max_length is None
            and return_tensors is None and set(kwargs) <= {"split_special_tokens"}
        )
        if plain:
            ids = self._encode_ids(text, kwargs.get("split_special_tokens", self.split_special_tokens))
            self._eventual_warn_about_too_long_sequence(ids, None, True)
            return ids
        return super().encode(
            text, text_pair=text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
            max_length=max_length, stride=stride, padding_side=padding_side, return_tensors=return_tensors, **kwargs,
        )

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | TensorType | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        **kwargs,
    ) -> BatchEncoding:
        _check_encode_input(text, "text")
        if text_pair is not None:
            _check_encode_input(text_pair, "text_pair")
        return_offsets = kwargs.pop("return_offsets_mapping", False)
        split_special_tokens = kwargs.pop("split_special_tokens", self.split_special_tokens)
        common = {
            "add_special_tokens": add_special_tokens,
            "truncation_strategy": truncation_strategy,
            "max_length": max_length,
            "stride": stride,
            "return_token_type_ids": return_token_type_ids,
            "return_overflowing_tokens": return_overflowing_tokens,
            "return_special_tokens_mask": return_special_tokens_mask,
            "return_length": return_length,
            "verbose": verbose,
        }
        simple = not is_split_into_words and not kwargs.get("sanitize_control_tokens")
        if simple and isinstance(text, str) and (text_pair is None or isinstance(text_pair, str)):
            return self._encode_one(
                text, text_pair, split_special_tokens, return_offsets, padding_strategy, pad_to_multiple_of,
                padding_side, return_tensors, return_attention_mask, **common,
            )
        if simple and isinstance(text, (list, tuple)) and text and all(isinstance(t, str) for t in text) and (
            text_pair is None or (isinstance(text_pair, (list, tuple)) and all(isinstance(t, str) for t in text_pair))
        ):
            return self._encode_batch(
                text, text_pair, split_special_tokens, return_offsets, padding_strategy, pad_to_multiple_of,
                padding_side, return_tensors, return_attention_mask, **common,
            )
        if return_offsets:
            raise NotImplementedError("return_offsets_mapping needs str (or list of str) input")
        return super()._encode_plus(
            text, text_pair=text_pair, padding_strategy=padding_strategy, is_split_into_words=is_split_into_words,
            pad_to_multiple_of=pad_to_multiple_of, padding_side=padding_side, return_tensors=return_tensors,
            return_attention_mask=return_attention_mask, split_special_tokens=split_special_tokens, **common,
            **kwargs,
        )

    def _encode_one(
        self, text, text_pair, split_special_tokens, return_offsets, padding_strategy, pad_to_multiple_of,
        padding_side, return_tensors, return_attention_mask, **common,
    ) -> BatchEncoding:
        plain = (
            not return_offsets and text_pair is None and padding_strategy == PaddingStrategy.DO_NOT_PAD
            and common["truncation_strategy"] == TruncationStrategy.DO_NOT_TRUNCATE
            and not any(common[k] for k in ("return_overflowing_tokens", "return_special_tokens_mask",
                                             "return_length", "return_token_type_ids"))
        )
        if plain:  # nothing for prepare_for_model to do: no special tokens are added, nothing is cut or padded
            ids = self._encode_ids(text, split_special_tokens)
            self._eventual_warn_about_too_long_sequence(ids, common["max_length"], common["verbose"])
            data = {"input_ids": ids}
            if return_attention_mask or (return_attention_mask is None and "attention_mask" in self.model_input_names):
                data["attention_mask"] = [1] * len(ids)
            return BatchEncoding(data, tensor_type=return_tensors, prepend_batch_axis=return_tensors is not None)
        if return_offsets:
            first_ids, first_offsets = self.encode_with_offsets(text, split_special_tokens=split_special_tokens)
            second_ids, second_offsets = (
                self.encode_with_offsets(text_pair, split_special_tokens=split_special_tokens)
                if text_pair is not None else (None, [])
            )
        else:
            first_ids = self._encode_ids(text, split_special_tokens)
            second_ids = self._encode_ids(text_pair, split_special_tokens) if text_pair is not None else None
        truncation = common.pop("truncation_strategy").value
        encoded = self.prepare_for_model(
            first_ids, pair_ids=second_ids, padding=padding_strategy.value, truncation=truncation,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side, return_tensors=None if return_offsets else return_tensors,
            prepend_batch_axis=not return_offsets, return_attention_mask=return_attention_mask, **common,
        )
        if not return_offsets:
            return encoded
        offsets = _fit_offsets(
            first_offsets + second_offsets, len(first_ids) + len(second_ids or []), encoded, self.truncation_side,
            self.padding_side if padding_side is None else padding_side, has_pair=text_pair is not None,
        )
        encoded["offset_mapping"] = offsets
        return BatchEncoding(dict(encoded), tensor_type=return_tensors, prepend_batch_axis=return_tensors is not None)

    def _encode_batch(
        self, texts, text_pairs, split_special_tokens, return_offsets, padding_strategy, pad_to_multiple_of,
        padding_side, return_tensors, return_attention_mask, **common,
    ) -> BatchEncoding:
        if text_pairs is not None and len(text_pairs) != len(texts):
            raise ValueError("If `text` is a batch, `text_pair` must also be a batch of the same length.")
        pairs = text_pairs if text_pairs is not None else [None] * len(texts)
        rows: dict[str, list] = {}
        plain = (
            not return_offsets and text_pairs is None
            and common["truncation_strategy"] == TruncationStrategy.DO_NOT_TRUNCATE
            and not any(common[k] for k in ("return_overflowing_tokens", "return_special_tokens_mask",
                                             "return_length", "return_token_type_ids"))
        )
        if plain:  # ids straight from the fast path; pad() below adds the attention masks
            rows["input_ids"] = [self._encode_ids(text, split_special_tokens) for text in texts]
            for ids in rows["input_ids"]:
                self._eventual_warn_about_too_long_sequence(ids, common["max_length"], common["verbose"])
            texts = ()
        for text, pair in zip(texts, pairs):
            encoded = self._encode_one(
                text, pair, split_special_tokens, return_offsets, PaddingStrategy.DO_NOT_PAD, None, None, None,
                False, **common,
            )
            for key, value in encoded.items():
                rows.setdefault(key, []).append(value)
        offsets = rows.pop("offset_mapping", None)
        if return_tensors and common.get("return_overflowing_tokens"):
            rows.pop("overflowing_tokens", None)
            rows.pop("num_truncated_tokens", None)
        padded = self.pad(
            rows, padding=padding_strategy.value, max_length=common.get("max_length"),
            pad_to_multiple_of=pad_to_multiple_of, padding_side=padding_side, return_attention_mask=return_attention_mask,
        )
        if offsets is not None:
            side = self.padding_side if padding_side is None else padding_side
            padded["offset_mapping"] = [
                _pad_offsets(row, len(ids), side) for row, ids in zip(offsets, padded["input_ids"])
            ]
        return BatchEncoding(dict(padded), tensor_type=return_tensors)

    # ------------------------------------------------------------------------------------------------------------
    # Decoding
    # ------------------------------------------------------------------------------------------------------------

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Spec §6.7: join, ``▁`` -> space, map characters through the byte decoder, UTF-8 decode."""
        text = "".join(tokens).replace("▁", "Ġ").replace("\n", "Ċ")
        data = bytearray()
        for char in text:
            byte = self.byte_decoder.get(char)
            if byte is not None:
                data.append(byte)
            else:  # outside the byte alphabet (non-ASCII added token or piece): keep the character itself
                data.extend(char.encode("utf-8", "surrogatepass"))
        return _decode_utf8(bytes(data), self.errors)

    def _decode(
        self,
        token_ids: int | list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        spaces_between_special_tokens: bool = False,
        **kwargs,
    ) -> str:
        tables = self._tables()
        ids = [token_ids] if isinstance(token_ids, int) else token_ids
        if skip_special_tokens:
            skip = tables.skip_ids(self)
            ids = [i for i in ids if int(i) not in skip]
        table = tables.id_to_bytes
        size = len(table)
        if not spaces_between_special_tokens:
            data = b"".join([table[i] if 0 <= i < size else b"" for i in map(int, ids)])
            text = _decode_utf8(data, self.errors)
        else:  # legacy slow-tokenizer behaviour: added tokens are separated from their neighbours by spaces
            parts, current = [], []
            for i in map(int, ids):
                if i in self._added_tokens_decoder:
                    if current:
                        parts.append(_decode_utf8(b"".join(current), self.errors))
                        current = []
                    parts.append(self._added_tokens_decoder[i].content)
                elif 0 <= i < size:
                    current.append(table[i])
            if current:
                parts.append(_decode_utf8(b"".join(current), self.errors))
            text = " ".join(parts)
        clean = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        return self.clean_up_tokenization(text) if clean else text

    # ------------------------------------------------------------------------------------------------------------
    # Saving
    # ------------------------------------------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """vocab.json (sorted, indent 2), merges.txt (``#version: 0.2``) and the three SentencePiece protos."""
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"save_vocabulary needs an existing directory, got {save_directory!r}")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        vocab_path = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
        with open(vocab_path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        merges_path = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["merges_file"])
        with open(merges_path, "w", encoding="utf-8") as handle:
            handle.write("#version: 0.2\n" + "\n".join(self.merges) + "\n")
        paths = [vocab_path, merges_path]
        for name, sub in self.sub_vocabs.items():
            path = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES[f"sp_model_{name}"])
            with open(path, "wb") as handle:
                handle.write(sub.proto)
            paths.append(path)
        return tuple(paths)


# ----------------------------------------------------------------------------------------------------------------
# Per-added-token tables
# ----------------------------------------------------------------------------------------------------------------

_BEGIN, _END, _PROTECT, _ADDED = 1, 2, 3, 4


class _Tables:
    """Everything derived from the added tokens: the splitter, piece kinds and the id -> bytes decode table."""

    def __init__(self, tokenizer: InternS1Tokenizer) -> None:
        added = tokenizer._added_tokens_encoder
        self.added_tokens = {token.content: token for token in tokenizer._added_tokens_decoder.values()}
        self.no_split = set(added) | {PROTECT_BEGIN, PROTECT_END}
        self.protect_openers = {t for t in EXPLICIT_BEGIN_TAGS if t in added} | {PROTECT_BEGIN}
        self.protect_closers = {t for t in EXPLICIT_END_TAGS if t in added} | {PROTECT_END}
        # Piece kinds compare strings (as the reference does): a marker string is a marker wherever it stands alone.
        self.kinds: dict[str, int] = dict.fromkeys(added, _ADDED)
        self.begin_model = {**AUTO_BEGIN_MARKERS, **{t: m for t, m in EXPLICIT_BEGIN_TAGS.items() if t in added}}
        self.end_model = {**AUTO_END_MARKERS, **{t: m for t, m in EXPLICIT_END_TAGS.items() if t in added}}
        self.kinds.update(dict.fromkeys(self.begin_model, _BEGIN))
        self.kinds.update(dict.fromkeys(self.end_model, _END))
        self.kinds.update({PROTECT_BEGIN: _PROTECT, PROTECT_END: _PROTECT})
        alternatives = sorted(self.no_split, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        self.needs_strip = any(t.lstrip or t.rstrip or t.single_word for t in self.added_tokens.values())
        self._tokenizer = tokenizer
        self._id_to_bytes: list[bytes] | None = None
        self._skip_ids: set[int] | None = None

    @property
    def id_to_bytes(self) -> list[bytes]:
        """id -> bytes for every id (built on first decode; out-of-range ids map to b"")."""
        if self._id_to_bytes is None:
            self._id_to_bytes = self._decode_table(self._tokenizer)
        return self._id_to_bytes

    def split(self, text: str) -> list[tuple[str, int]]:
        """Leftmost-longest split on added tokens and protect markers, with lstrip/rstrip/single_word handling."""
        if self.pattern is None:
            return [(text, 0)]
        pieces: list[list] = []
        last = 0
        for match in self.pattern.finditer(text):
            start, end = match.span()
            if start > last:
                pieces.append([text[last:start], last])
            pieces.append([match.group(), start])
            last = end
        if last < len(text):
            pieces.append([text[last:], last])
        if self.needs_strip:
            self._apply_strip_rules(pieces)
        return [(piece, start) for piece, start in pieces]

    def _apply_strip_rules(self, pieces: list[list]) -> None:
        for i, (token, start) in enumerate(pieces):
            added = self.added_tokens.get(token)
            if added is None:
                continue
            left = pieces[i - 1] if i > 0 else None
            right = pieces[i + 1] if i + 1 < len(pieces) else None
            if added.rstrip and right and right[0]:
                stripped = right[0].lstrip()
                right[1] += len(right[0]) - len(stripped)
                right[0] = stripped
            if added.lstrip and left and left[0]:
                left[0] = left[0].rstrip()
            if added.single_word:
                if left and left[0] and left[0][-1] != " ":
                    left[0] += token
                    pieces[i][0] = ""
                elif right and right[0] and right[0][0] != " ":
                    right[0] = token + right[0]
                    right[1] = start
                    pieces[i][0] = ""

    @staticmethod
    def _decode_table(tokenizer: InternS1Tokenizer) -> list[bytes]:
        byte_decoder = tokenizer.byte_decoder
        to_latin1 = {ord(char): byte for char, byte in byte_decoder.items()}

        def token_bytes(token: str) -> bytes:
            try:
                return token.translate(to_latin1).encode("latin-1")
            except UnicodeEncodeError:
                return b"".join(
                    bytes([byte_decoder[c]]) if c in byte_decoder else c.encode("utf-8", "surrogatepass") for c in token
                )

        size = max(
            [len(tokenizer.encoder)] + [max(tokenizer.decoder, default=0) + 1]
            + [sub.offset + len(sub) for sub in tokenizer.sub_vocabs.values()]
            + [i + 1 for i in tokenizer._added_tokens_decoder]
        )
        table = [b""] * size
        for token, index in tokenizer.encoder.items():
            table[index] = token_bytes(token)
        for sub in tokenizer.sub_vocabs.values():
            for local, piece in enumerate(sub.pieces):
                # spec §6.7: "▁" -> space and "\n" -> newline, then through the byte decoder
                table[sub.offset + local] = token_bytes(piece.replace("▁", "Ġ").replace("\n", "Ċ"))
        for index, token in tokenizer._added_tokens_decoder.items():
            table[index] = token.content.encode("utf-8", "surrogatepass")
        return table

    def skip_ids(self, tokenizer: InternS1Tokenizer) -> set[int]:
        """Ids dropped by skip_special_tokens: named special tokens and every added token flagged special."""
        if self._skip_ids is None:
            special = {i for i, token in tokenizer._added_tokens_decoder.items() if token.special}
            self._skip_ids = special | {i for i in tokenizer.all_special_ids if i is not None}
        return self._skip_ids


# ----------------------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------------------


_PRETOKENIZE_PATTERN = regex.compile(PRETOKENIZE_REGEX)


@functools.lru_cache(maxsize=1)
def _letters_unknown_to_python_unicode() -> re.Pattern:
    """Code points this Python's Unicode database leaves unassigned but the ``regex`` module (newer Unicode) reads
    as letters, numbers or spaces: the only characters whose pre-tokens Rust's engine may cut differently.
    """
    unassigned = []
    for low, high in ((0x80, 0x3FFFF), (0xE0000, 0xEFFFF)):  # planes 4-13 hold no characters; 15-16 are private use
        unassigned.extend(chr(code) for code in range(low, high + 1) if unicodedata.category(chr(code)) == "Cn")
    codes = sorted(ord(char) for char in regex.findall(r"[\p{L}\p{N}\s]", "".join(unassigned)))
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    if not ranges:
        return re.compile(r"(?!x)x")  # matches nothing
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def _may_classify_differently(text: str) -> bool:
    return not text.isascii() and _letters_unknown_to_python_unicode().search(text) is not None


_RUST_BPE_CACHE: dict[tuple, Tokenizer] = {}
_RUST_BPE_CACHE_SIZE = 2


def _file_identity(path: str) -> tuple[str, int, int]:
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


def _shared_rust_bpe(key: tuple, build) -> Tokenizer:
    """A small bounded cache of built Rust BPE tokenizers, keyed by the identity of their files."""
    tokenizer = _RUST_BPE_CACHE.pop(key, None)
    if tokenizer is None:
        tokenizer = build()
    _RUST_BPE_CACHE[key] = tokenizer  # most recently used last
    while len(_RUST_BPE_CACHE) > _RUST_BPE_CACHE_SIZE:
        _RUST_BPE_CACHE.pop(next(iter(_RUST_BPE_CACHE)))
    return tokenizer


def _check_text(text, name: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"InternS1Tokenizer expects `{name}` to be a str, got {type(text).__name__}")


def _check_encode_input(text, name: str) -> None:
    if isinstance(text, str):
        return
    if isinstance(text, (list, tuple)):
        if all(isinstance(t, (str, int, list, tuple)) for t in text):
            return
        bad = next(t for t in text if not isinstance(t, (str, int, list, tuple)))
        raise TypeError(f"`{name}` items must be str (or token ids), got {type(bad).__name__}")
    raise TypeError(f"InternS1Tokenizer expects `{name}` to be a str or a list of str, got {type(text).__name__}")


def _split_surrogates(text: str) -> list[str]:
    """Alternate runs of ordinary characters and single lone surrogates."""
    return [chunk for chunk in re.split("([\ud800-\udfff])", text) if chunk]


def _decode_utf8(data: bytes, errors: str) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")  # round-trips lone surrogates encoded by the BPE fallback
    except UnicodeDecodeError:
        return data.decode("utf-8", errors)


@functools.lru_cache(maxsize=64)
def _warn_mismatched_tag_once(end_tag: str, popped: str) -> None:
    logger.warning("%s closed a %s span; the sub-vocabulary stack was popped anyway (reference behaviour)", end_tag, popped)


def _map_offsets_to_original(triples: list, original: str) -> list:
    """Offsets were computed on NFC(text); map them back onto ``original`` (only called when the two differ).

    NFC only recombines neighbouring characters, so both strings split into the same chunks at characters that do
    not combine with their predecessor. A token maps to the original chunks it touches: from the start of the chunk
    of its first character to the end of the chunk of its last one.
    """
    boundaries = [0]
    for position in range(1, len(original)):
        char, chunk = original[position], original[boundaries[-1] : position]
        if unicodedata.combining(char) == 0 and (
            unicodedata.normalize("NFC", chunk + char) == unicodedata.normalize("NFC", chunk) + char
        ):
            boundaries.append(position)
    boundaries.append(len(original))
    chunk_start: list[int] = []  # per normalized character
    chunk_end: list[int] = []
    for start, end in zip(boundaries, boundaries[1:]):
        size = len(unicodedata.normalize("NFC", original[start:end]))
        chunk_start.extend([start] * size)
        chunk_end.extend([end] * size)
    size = len(chunk_start)
    if size != len(unicodedata.normalize("NFC", original)):  # not chunk-wise composable: clamp instead
        return [(i, t, (min(s, len(original)), min(e, len(original)))) for i, t, (s, e) in triples]

    def remap(span: tuple[int, int]) -> tuple[int, int]:
        start, end = span
        if size == 0 or start >= size:
            return (len(original), len(original))
        if end <= start:
            return (chunk_start[start], chunk_start[start])
        return (chunk_start[start], chunk_end[min(end, size) - 1])

    return [(i, t, remap(span)) for i, t, span in triples]


def _fit_offsets(
    offsets: list[tuple[int, int]], untruncated: int, encoded: dict, truncation_side: str, padding_side: str,
    has_pair: bool,
) -> list[tuple[int, int]]:
    """Apply the truncation and padding ``prepare_for_model`` applied to the ids to the offsets as well."""
    kept = int(sum(encoded["attention_mask"])) if "attention_mask" in encoded else len(encoded["input_ids"])
    kept = min(kept, len(encoded["input_ids"]))
    if kept < untruncated:
        if has_pair:
            raise NotImplementedError("return_offsets_mapping with a truncated text pair is not supported")
        offsets = offsets[:kept] if truncation_side == "right" else offsets[untruncated - kept :]
    return _pad_offsets(offsets, len(encoded["input_ids"]), padding_side)


def _pad_offsets(offsets: list[tuple[int, int]], length: int, side: str) -> list[tuple[int, int]]:
    padding = [(0, 0)] * (length - len(offsets))
    return offsets + padding if side == "right" else padding + offsets
