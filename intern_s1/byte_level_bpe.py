"""The Qwen2 / Qwen3 byte-level BPE engine of the Intern-S1 tokenizer (spec §6.2): exact ids, Rust speed.

Same vocabulary, merges and pre-tokenizer regex as the Python GPT-2 BPE of the reference, run by the Rust
``tokenizers`` library, with the two places where Rust cannot take the text as is handled exactly:

* lone surrogates (they cannot cross into Rust) become their "surrogatepass" UTF-8 bytes, one byte token each;
* code points this Python's Unicode database leaves unassigned but the ``regex`` module (newer Unicode) reads as
  letters, numbers or spaces may be pre-tokenized differently by Rust's regex engine: such texts are pre-tokenized
  with the ``regex`` module, as the reference does, and only the words go through Rust.

The parsed files and the built Rust engine are shared (``functools.lru_cache``) by every tokenizer over the same
unchanged files; none of them is modified after loading, and the engine is safe to use from several threads.
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from dataclasses import dataclass

import regex
from tokenizers import Regex, Tokenizer, pre_tokenizers
from tokenizers.models import BPE


__all__ = ["PRETOKENIZE_REGEX", "ByteLevelBPE", "EncodedText", "bytes_to_unicode"]

# Qwen2/Qwen3 pre-tokenizer: digits are single tokens.
PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_PRETOKENIZE_PATTERN = regex.compile(PRETOKENIZE_REGEX)
SURROGATES = re.compile("[\ud800-\udfff]")


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


@dataclass
class EncodedText:
    """Ids of one text; with details, also the token strings and (start, end) character spans."""

    ids: list[int]
    tokens: list[str] | None = None
    offsets: list[tuple[int, int]] | None = None


class ByteLevelBPE:
    """vocab.json + merges.txt: the Python tables (for ids, names and decoding) and the shared Rust engine."""

    def __init__(self, vocab_file: str, merges_file: str) -> None:
        self.vocab_file, self.merges_file = vocab_file, merges_file
        self.encoder, self.merges, self._engine = _load(_file_identity(vocab_file), _file_identity(merges_file))
        self.decoder = {index: token for token, index in self.encoder.items()}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {char: byte for byte, char in self.byte_encoder.items()}
        self._to_latin1 = {ord(char): byte for char, byte in self.byte_decoder.items()}
        self._word_engine: Tokenizer | None = None  # built on first use (rare texts only)

    def encode(self, texts: list[str], with_details: bool, may_hold_surrogates: bool = True) -> list[EncodedText]:
        """Byte-level BPE of several texts, one Rust call for all of them (``"▁"`` must already be a space).

        ``may_hold_surrogates=False`` skips the per-text search for lone surrogates (the caller searched already).
        """
        out: list[EncodedText | None] = [None] * len(texts)
        batch = []  # indices of the texts Rust takes as they are
        for n, text in enumerate(texts):
            if may_hold_surrogates and SURROGATES.search(text):
                out[n] = self._encode_with_surrogates(text)
            elif _may_pretokenize_differently(text):
                out[n] = self._encode_by_words(text)
            else:
                batch.append(n)
        if with_details:
            encodings = self._engine.encode_batch([texts[n] for n in batch], add_special_tokens=False)
            results = (EncodedText(e.ids, e.tokens, e.offsets) for e in encodings)
        else:
            encodings = self._engine.encode_batch_fast([texts[n] for n in batch], add_special_tokens=False)
            results = (EncodedText(e.ids) for e in encodings)
        for n, result in zip(batch, results):
            out[n] = result
        return out

    def token_bytes(self, token: str) -> bytes:
        """The bytes a token stands for (characters outside the byte alphabet are taken as UTF-8)."""
        try:
            return token.translate(self._to_latin1).encode("latin-1")
        except UnicodeEncodeError:
            return b"".join(
                bytes([self.byte_decoder[c]]) if c in self.byte_decoder else c.encode("utf-8", "surrogatepass")
                for c in token
            )

    def save(self, vocab_path: str, merges_path: str) -> None:
        """vocab.json (sorted, indent 2, not ASCII-escaped) and merges.txt with its ``#version: 0.2`` header."""
        with open(vocab_path, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        with open(merges_path, "w", encoding="utf-8") as handle:
            handle.write("#version: 0.2\n" + "\n".join(self.merges) + "\n")

    def _encode_with_surrogates(self, text: str) -> EncodedText:
        ids, tokens, offsets = [], [], []
        position = 0
        for chunk in (chunk for chunk in re.split("([\ud800-\udfff])", text) if chunk):
            if SURROGATES.match(chunk):
                for byte in chunk.encode("utf-8", "surrogatepass"):
                    token = self.byte_encoder[byte]
                    ids.append(self.encoder[token])
                    tokens.append(token)
                    offsets.append((position, position + 1))
            else:
                part = self._encode_by_words(chunk) if _may_pretokenize_differently(chunk) else None
                if part is None:
                    encoding = self._engine.encode(chunk, add_special_tokens=False)
                    part = EncodedText(encoding.ids, encoding.tokens, encoding.offsets)
                ids += part.ids
                tokens += part.tokens
                offsets += [(position + start, position + end) for start, end in part.offsets]
            position += len(chunk)
        return EncodedText(ids, tokens, offsets)

    def _encode_by_words(self, text: str) -> EncodedText:
        """Pre-tokenize with the ``regex`` module (as the reference does), then BPE each word in Rust."""
        if self._word_engine is None:  # the same BPE without the regex split, for words pre-tokenized here
            self._word_engine = Tokenizer(self._engine.model)
            self._word_engine.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        spans = [match.span() for match in _PRETOKENIZE_PATTERN.finditer(text)]
        encodings = self._word_engine.encode_batch([text[s:e] for s, e in spans], add_special_tokens=False)
        out = EncodedText([], [], [])
        for (start, _), encoding in zip(spans, encodings):
            out.ids += encoding.ids
            out.tokens += encoding.tokens
            out.offsets += [(start + a, start + b) for a, b in encoding.offsets]
        return out


def _file_identity(path: str) -> tuple[str, int, int]:
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load(vocab_identity: tuple, merges_identity: tuple) -> tuple[dict[str, int], list[str], Tokenizer]:
    """(vocabulary, merge lines, Rust engine) of a vocab.json / merges.txt pair, keyed by path, mtime and size.

    The engine is built from the parsed tables (faster than letting Rust parse the files again), with the Qwen
    pre-tokenizer and no normaliser.
    """
    vocab_file, merges_file = vocab_identity[0], merges_identity[0]
    with open(vocab_file, encoding="utf-8") as handle:
        encoder: dict[str, int] = json.load(handle)
    with open(merges_file, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    if lines and lines[0].startswith("#version:"):
        lines = lines[1:]
    merges = [line for line in lines if line.strip()]
    pairs = [tuple(line.split(" ")) for line in merges]
    bad = next((line for line, pair in zip(merges, pairs) if len(pair) != 2), None)
    if bad is not None:
        raise ValueError(f"{merges_file}: a merge line must hold two tokens separated by a space, got {bad!r}")
    engine = Tokenizer(BPE(vocab=encoder, merges=pairs))
    engine.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    return encoder, merges, engine


@functools.lru_cache(maxsize=1)
def _letters_unknown_to_python_unicode() -> re.Pattern:
    """Code points unassigned in this Python's Unicode database that the ``regex`` module reads as letters, numbers or
    spaces: the only characters whose pre-tokens Rust's engine may cut differently."""
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


def _may_pretokenize_differently(text: str) -> bool:
    return not text.isascii() and _letters_unknown_to_python_unicode().search(text) is not None
