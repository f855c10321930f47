"""Intern-S1's dynamic tokenizer: Qwen byte-level BPE plus SMILES / IUPAC / FASTA SentencePiece sub-vocabularies.

Behaviour (spec §6, "the reference algorithm"): NFC; split on added tokens (and the ``<MOLFORMULA>`` protect markers);
auto-detect SMILES and protein spans in unprotected text; encode with a stack of active sub-vocabularies, where a
sub-vocabulary piece gets ``offset + sp_id`` and an unknown piece falls back to byte-level BPE.

One pipeline (``_encode``) serves ``tokenize``, ``encode`` / ``__call__`` and offsets: segment the text, encode the
spans, run every BPE piece of the call through the Rust engine in one batch, assemble. The parts live in their own
modules: :mod:`intern_s1.byte_level_bpe` (the BPE engine), :mod:`intern_s1.span_detection` (SMILES / FASTA
auto-detection) and :mod:`intern_s1.sub_vocabularies` (the SentencePiece models and where their ids go). Padding,
truncation and special tokens are transformers' own (``prepare_for_model`` / ``pad``).

The vocabulary is honest: ``get_vocab()`` names every id once (sub-vocabulary pieces as ``<SMILES:CC>``),
``convert_tokens_to_ids`` and ``convert_ids_to_tokens`` invert each other on it, ``len()`` counts it, and the
sub-vocabularies are placed without gaps for any base vocabulary (see :mod:`intern_s1.sub_vocabularies`).

Over ~400 lines because transformers' tokenizer interface is one class: id layout, the pipeline, the encode entry
points, decoding and saving are its methods; everything that is not a method lives in the modules above.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import unicodedata

from transformers.tokenization_python import AddedToken, PythonBackend
from transformers.tokenization_utils_base import BatchEncoding, TruncationStrategy

from intern_s1.added_tokens import (
    AUTO_BEGIN_MARKERS,
    AUTO_END_MARKERS,
    BEGIN,
    END,
    EXPLICIT_BEGIN_TAGS,
    EXPLICIT_END_TAGS,
    MULTIMODAL_TOKENS,
    PROTECT,
    AddedTokenTables,
)
from intern_s1.byte_level_bpe import SURROGATES, ByteLevelBPE, EncodedText
from intern_s1.span_detection import SmilesDetector, split_fasta
from intern_s1.sub_vocabularies import SUB_VOCAB_NAMES, SubVocabulary, first_free_id, place, sub_vocab_token
from intern_s1.text_offsets import map_offsets_to_original, pad_offsets


logger = logging.getLogger(__name__)

__all__ = ["InternS1Tokenizer"]

VOCAB_FILES_NAMES = {
    "vocab_file": "vocab.json",
    "merges_file": "merges.txt",
    "sp_model_SMILES": "tokenizer_SMILES.model",
    "sp_model_IUPAC": "tokenizer_IUPAC.model",
    "sp_model_FASTA": "tokenizer_FASTA.model",
}


class InternS1Tokenizer(PythonBackend):
    """Intern-S1 dynamic tokenizer (Qwen byte-level BPE + SMILES / IUPAC / FASTA SentencePiece sub-vocabularies).

    Args:
        vocab_file / merges_file: the base byte-level BPE.
        sp_model_SMILES / sp_model_IUPAC / sp_model_FASTA: SentencePiece models; default: next to ``vocab_file``.
        sub_vocab_offsets: optional ``{"SMILES": int, ...}`` global id of a model's piece 0; by default each
            sub-vocabulary takes the block of ids the added-token table leaves for it (the real 151669 / 151929 /
            152443 over Qwen3), or the ids right after every token known at load.
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
        named = kwargs.get("extra_special_tokens")
        if named is None or isinstance(named, dict):  # tokenizer files that do not name them get the real strings
            kwargs["extra_special_tokens"] = {**MULTIMODAL_TOKENS, **(named or {})}
        self.errors = errors
        self.bpe = ByteLevelBPE(vocab_file, merges_file)
        folder = os.path.dirname(os.path.abspath(vocab_file))
        files = {"SMILES": sp_model_SMILES, "IUPAC": sp_model_IUPAC, "FASTA": sp_model_FASTA}
        self.sub_vocabs = {
            name: SubVocabulary(name, files[name] or os.path.join(folder, VOCAB_FILES_NAMES[f"sp_model_{name}"]))
            for name in SUB_VOCAB_NAMES
        }
        self._sub_tokens: dict[str, int] = {}
        self._sub_token_pieces: dict[str, str] = {}
        self._smiles = SmilesDetector()
        self._tables_cache: tuple[int, AddedTokenTables] | None = None
        # Blocks the added-token table reserves are taken now; the rest after the special tokens are added.
        config_ids = set(kwargs.get("added_tokens_decoder") or {})
        self._place_sub_vocabs(sub_vocab_offsets or {}, config_ids, reserved_below=max(config_ids, default=-1))
        super().__init__(
            errors=errors,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            split_special_tokens=split_special_tokens,
            special_tokens_pattern="none",
            **kwargs,
        )
        self._place_sub_vocabs(sub_vocab_offsets or {}, set(self.added_tokens_decoder), reserved_below=None)
        added = self.get_added_vocab()
        missing = [t for t in (*EXPLICIT_BEGIN_TAGS, *EXPLICIT_END_TAGS) if t not in added]
        if missing:
            logger.warning(
                "tokenizer files lack the domain tags %s; adding them at the end of the vocabulary", missing
            )
            self.add_tokens([AddedToken(t, special=False, normalized=False) for t in missing])
        self._warn_about_holes()

    # ------------------------------------------------------------------------------------------------------------
    # Vocabulary and id layout
    # ------------------------------------------------------------------------------------------------------------

    def _owner(self, added_ids: set[int]):
        """A function id -> description of what owns it (None when free), for placement and its error messages."""
        decoder = self.bpe.decoder

        def owner(token_id: int) -> str | None:
            if token_id in decoder:
                return f"the base vocabulary token {decoder[token_id]!r}"
            if token_id in added_ids:
                return "an added token"
            sub = next((s for s in self.sub_vocabs.values() if token_id in s.ids), None)
            return f"in the {sub.name} sub-vocabulary" if sub else None

        return owner

    def _place_sub_vocabs(self, offsets: dict[str, int], added_ids: set[int], reserved_below: int | None) -> None:
        """Place the sub-vocabularies not placed yet, in order; with ``reserved_below``, only inside reserved blocks."""
        unknown = set(offsets) - set(SUB_VOCAB_NAMES)
        if unknown:
            raise ValueError(f"sub_vocab_offsets names unknown sub-vocabularies {sorted(unknown)}")
        owner = self._owner(added_ids)
        contiguous_base = max(self.bpe.decoder, default=-1) == len(self.bpe.encoder) - 1
        for sub in self.sub_vocabs.values():
            if sub.offset is not None:
                continue
            if sub.name in offsets:
                place(sub, int(offsets[sub.name]), owner, self.bpe.encoder)
                continue
            start = first_free_id(owner, len(self.bpe.encoder) if contiguous_base else 0)
            if reserved_below is not None and start > reserved_below:
                break  # no reserved block left: this and the next ones go after the special tokens
            place(sub, start, owner, self.bpe.encoder)
        self._index_sub_tokens()

    def _index_sub_tokens(self) -> None:
        """Token name -> id (and -> piece) of every placed sub-vocabulary piece; names must not shadow other tokens."""
        placed = [sub for sub in self.sub_vocabs.values() if sub.offset is not None]
        self._sub_tokens = {sub.token(k): sub.offset + k for sub in placed for k in range(len(sub))}
        self._sub_token_pieces = {sub.token(k): sub.pieces[k] for sub in placed for k in range(len(sub))}
        clash = next((name for name in self._sub_tokens if name in self.bpe.encoder), None)
        if clash is not None:
            raise ValueError(f"the base vocabulary already has a token named {clash!r}, a sub-vocabulary token name")

    def _warn_about_holes(self) -> None:
        """Gaps can only come from the files' own added-token ids (placement never leaves one): say so."""
        named = set(self.get_vocab().values())
        holes = [i for i in range(max(named, default=-1) + 1) if i not in named]
        if holes:
            logger.warning("ids %s... have no token (%d holes): the tokenizer files leave gaps", holes[:5], len(holes))

    @property
    def vocab_size(self) -> int:
        """Base BPE tokens plus sub-vocabulary pieces (added tokens not included)."""
        return len(self.bpe.encoder) + sum(len(sub) for sub in self.sub_vocabs.values())

    @property
    def sub_vocab_offsets(self) -> dict[str, int]:
        return {name: sub.offset for name, sub in self.sub_vocabs.items()}

    def __len__(self) -> int:
        placed = [sub for sub in self.sub_vocabs.values() if sub.offset is not None]
        extra = [
            i for i in self.added_tokens_decoder if i not in self.bpe.decoder and not any(i in s.ids for s in placed)
        ]
        return len(self.bpe.encoder) + sum(len(sub) for sub in placed) + len(extra)

    def get_vocab(self) -> dict[str, int]:
        try:
            added = self.get_added_vocab()
        except AttributeError:  # called by the base class before its added-token table exists
            added = {}
        return {**self.bpe.encoder, **self._sub_tokens, **added}

    def sub_vocabulary_piece(self, token_id: int) -> tuple[str, str] | None:
        """``(sub-vocabulary name, piece)`` for a sub-vocabulary id, None for any other id."""
        for sub in self.sub_vocabs.values():
            if token_id in sub.ids:
                return sub.name, sub.pieces[token_id - sub.offset]
        return None

    def _convert_token_to_id(self, token: str) -> int | None:
        token_id = self.bpe.encoder.get(token)
        if token_id is None:
            token_id = self._sub_tokens.get(token, self.bpe.encoder.get("<unk>"))
        return token_id

    def _convert_id_to_token(self, index: int) -> str:
        if index in self.bpe.decoder:
            return self.bpe.decoder[index]
        found = self.sub_vocabulary_piece(index)
        return "" if found is None else sub_vocab_token(*found)  # out-of-range ids (padding rows): nothing

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | None | list[int | None]:
        """Spec §6.6: walk the tokens with the sub-vocabulary stack; AUTO_DETECT markers get no id."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            return self._convert_token_to_id_with_added_voc(tokens)
        added = self.get_added_vocab()
        ids: list[int | None] = []
        stack: list[SubVocabulary] = []
        for token in tokens:
            if token in AUTO_BEGIN_MARKERS or token in EXPLICIT_BEGIN_TAGS:
                stack.append(self.sub_vocabs[AUTO_BEGIN_MARKERS.get(token) or EXPLICIT_BEGIN_TAGS[token]])
            elif (token in AUTO_END_MARKERS or token in EXPLICIT_END_TAGS) and stack:
                stack.pop()
            if token in AUTO_BEGIN_MARKERS or token in AUTO_END_MARKERS:
                continue
            if token in added:
                ids.append(added[token])
                continue
            sub_id = stack[-1].global_id_of(token) if stack else None
            ids.append(sub_id if sub_id is not None else self._convert_token_to_id(token))
        return ids

    # ------------------------------------------------------------------------------------------------------------
    # The encode pipeline
    # ------------------------------------------------------------------------------------------------------------

    def _tables(self) -> AddedTokenTables:
        """Splitter, piece kinds and the decode table, rebuilt whenever tokens are added."""
        key = len(self.get_added_vocab())
        if self._tables_cache is None or self._tables_cache[0] != key:
            self._tables_cache = (key, AddedTokenTables(self))
        return self._tables_cache[1]

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        """Plain byte-level BPE of ``text`` (no added tokens, no sub-vocabularies); ``▁`` counts as a space."""
        return self.bpe.encode([text.replace("▁", " ")], with_details=True)[0].tokens

    def tokenize(self, text: str, **kwargs) -> list[str]:
        """Token strings, AUTO_DETECT markers included (spec §6.4); ``convert_tokens_to_ids`` gives the ids."""
        _check_text(text, "text")
        return self._encode(text, kwargs.pop("split_special_tokens", self.split_special_tokens), True).tokens

    def encode_with_offsets(
        self, text: str, *, split_special_tokens: bool | None = None
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and (start, end) character offsets into ``text`` (which is NFC-normalised first)."""
        _check_text(text, "text")
        split = self.split_special_tokens if split_special_tokens is None else split_special_tokens
        encoded = self._encode(text, split, True)
        kept = [n for n, token_id in enumerate(encoded.ids) if token_id is not None]
        return [encoded.ids[n] for n in kept], [encoded.offsets[n] for n in kept]

    def _encode(self, text: str, split_special_tokens: bool, with_details: bool) -> EncodedText:
        """The pipeline. Ids only, or (with details) one entry per token, markers included (their id is None)."""
        normalized = unicodedata.normalize("NFC", text)
        tables = self._tables()
        surrogates = SURROGATES.search(normalized) is not None  # rare: searched once, handled where it matters
        pieces = [(normalized, 0)] if split_special_tokens else tables.split(normalized)
        plan, jobs = self._plan(self._detect_spans(pieces, tables), tables, with_details, surrogates)
        unique = {job_text: n for n, job_text in enumerate(dict.fromkeys(job[0] for job in jobs))}
        encoded = self.bpe.encode(list(unique), with_details, may_hold_surrogates=surrogates)
        out = EncodedText([], [] if with_details else None, [] if with_details else None)
        for item in plan:
            if type(item) is list:  # ready entries: ids, or (id, token, span) with details
                if with_details:
                    for token_id, token, span in item:
                        out.ids.append(token_id)
                        out.tokens.append(token)
                        out.offsets.append(span)
                else:
                    out.ids.extend(item)
                continue
            job_text, base, sub = jobs[item]
            result = encoded[unique[job_text]]
            out.ids.extend([sub.bpe_overrides.get(i, i) for i in result.ids] if sub else result.ids)
            if with_details:
                out.tokens.extend(result.tokens)
                out.offsets.extend((base + start, base + end) for start, end in result.offsets)
        if with_details and normalized != text:
            out.offsets = map_offsets_to_original(out.offsets, text)
        return out

    def _detect_spans(self, pieces: list[tuple[str, int]], tables: AddedTokenTables) -> list[tuple[str, int]]:
        """Auto-detection pass (spec §6.4 step 4) over unprotected text pieces: (piece, start) pairs."""
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
            elif protect > 0:
                out.append((piece, start))
            else:
                for smiles_piece, smiles_start in self._smiles.split(piece, start):
                    out.extend(split_fasta(smiles_piece, smiles_start))
        return out

    def _plan(
        self, pieces: list[tuple[str, int]], tables: AddedTokenTables, with_details: bool, surrogates: bool
    ) -> tuple[list, list]:
        """Encoding pass with the sub-vocabulary stack (spec §6.4 step 5).

        Returns (plan, jobs): plan items are lists of ready entries or the index of a BPE job; a job is
        (text, start, sub-vocabulary whose pieces override equal BPE tokens, or None).
        """
        plan: list = []
        jobs: list[tuple[str, int, SubVocabulary | None]] = []
        stack: list[SubVocabulary] = []
        added = self.get_added_vocab()
        for piece, start in pieces:
            kind = tables.kinds.get(piece)
            if kind is None and stack:
                self._plan_span(piece, start, stack[-1], plan, jobs, with_details, surrogates)
            elif kind is None or kind == PROTECT:
                plan.append(len(jobs))
                jobs.append((piece.replace("▁", " "), start, stack[-1] if stack else None))
            else:
                token_id = added.get(piece)  # None for AUTO_DETECT markers
                if token_id is not None or with_details:
                    plan.append([(token_id, piece, (start, start + len(piece)))] if with_details else [token_id])
                if kind == BEGIN:
                    stack.append(self.sub_vocabs[tables.begin_model[piece]])
                elif kind == END and stack:
                    popped = stack.pop()
                    if popped.name != tables.end_model[piece]:
                        _warn_mismatched_tag_once(piece, popped.name)
        return plan, jobs

    def _plan_span(
        self, text: str, start: int, sub: SubVocabulary, plan: list, jobs: list, with_details: bool, surrogates: bool
    ) -> None:
        """SentencePiece pieces of a span; unknown pieces (and lone surrogates) become BPE jobs inside the span."""
        if surrogates and SURROGATES.search(text):  # SentencePiece cannot take them: encode the text around them
            position = start
            for chunk in (chunk for chunk in re.split("([\ud800-\udfff])", text) if chunk):
                if SURROGATES.match(chunk):
                    plan.append(len(jobs))
                    jobs.append((chunk, position, sub))
                else:
                    self._plan_span(chunk, position, sub, plan, jobs, with_details, surrogates=False)
                position += len(chunk)
            return
        local_ids = sub.sp.encode(text)
        if not with_details and sub.unk_id not in local_ids:
            plan.append([i + sub.offset for i in local_ids])
            return
        pieces = sub.sp.encode(text, out_type=str) if sub.unk_id in local_ids else [sub.pieces[i] for i in local_ids]
        ready: list = []
        position = start
        for local, piece in zip(local_ids, pieces):
            if local == sub.unk_id:
                if ready:
                    plan.append(ready)
                    ready = []
                plan.append(len(jobs))
                jobs.append((piece.replace("▁", " "), position, sub))
            else:
                ready.append(
                    (local + sub.offset, piece, (position, position + len(piece)))
                    if with_details
                    else local + sub.offset
                )
            position += len(piece)
        if ready:
            plan.append(ready)

    # ------------------------------------------------------------------------------------------------------------
    # Entry points of transformers' encode / __call__
    # ------------------------------------------------------------------------------------------------------------

    def _encode_plus(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """transformers' encode path with ids from the one pipeline; special tokens, truncation and padding are
        transformers' own ``prepare_for_model`` and ``pad``. Also serves ``return_offsets_mapping``."""
        _check_encode_input(text, "text")
        if text_pair is not None:
            _check_encode_input(text_pair, "text_pair")
        if kwargs.pop("return_offsets_mapping", False):
            return self._encode_plus_with_offsets(text, text_pair, **kwargs)
        plain = not kwargs.get("is_split_into_words") and not kwargs.get("sanitize_control_tokens")
        if not (plain and isinstance(text, str) and (text_pair is None or isinstance(text_pair, str))):
            return super()._encode_plus(text, text_pair, **kwargs)  # a batch comes back here text by text
        split = kwargs.pop("split_special_tokens", self.split_special_tokens)
        ids = self._encode(text, split, False).ids
        pair_ids = self._encode(text_pair, split, False).ids if text_pair is not None else None
        return self.prepare_for_model(ids, pair_ids=pair_ids, prepend_batch_axis=True, **_model_arguments(kwargs))

    def _encode_plus_with_offsets(self, text, text_pair, **kwargs) -> BatchEncoding:
        truncation = kwargs.get("truncation_strategy", TruncationStrategy.DO_NOT_TRUNCATE)
        if (
            text_pair is not None
            or truncation != TruncationStrategy.DO_NOT_TRUNCATE
            or kwargs.get("is_split_into_words")
        ):
            raise ValueError(
                "return_offsets_mapping works with str or list-of-str input, without text pairs or truncation"
            )
        side = kwargs.get("padding_side") or self.padding_side
        return_tensors = kwargs.pop("return_tensors", None)
        split = kwargs.pop("split_special_tokens", None)
        if isinstance(text, str):
            ids, offsets = self.encode_with_offsets(text, split_special_tokens=split)
            encoded = self.prepare_for_model(ids, **_model_arguments(kwargs))
            encoded["offset_mapping"] = pad_offsets(offsets, len(encoded["input_ids"]), side)
            return BatchEncoding(
                dict(encoded), tensor_type=return_tensors, prepend_batch_axis=return_tensors is not None
            )
        rows = [self.encode_with_offsets(item, split_special_tokens=split) for item in text]
        padded = self.pad(
            {"input_ids": [ids for ids, _ in rows]},
            padding=kwargs["padding_strategy"].value,
            max_length=kwargs.get("max_length"),
            pad_to_multiple_of=kwargs.get("pad_to_multiple_of"),
            padding_side=side,
            return_attention_mask=kwargs.get("return_attention_mask"),
        )
        padded["offset_mapping"] = [
            pad_offsets(offsets, len(ids), side) for (_, offsets), ids in zip(rows, padded["input_ids"])
        ]
        return BatchEncoding(dict(padded), tensor_type=return_tensors)

    # ------------------------------------------------------------------------------------------------------------
    # Decoding and saving
    # ------------------------------------------------------------------------------------------------------------

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Spec §6.7: join (sub-vocabulary token names read as their piece), ``▁`` -> space, bytes, UTF-8."""
        pieces = self._sub_token_pieces
        text = "".join(pieces.get(token, token) for token in tokens).replace("▁", "Ġ").replace("\n", "Ċ")
        return _decode_utf8(self.bpe.token_bytes(text), self.errors)

    def _decode(
        self,
        token_ids: int | list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        spaces_between_special_tokens: bool = False,
        **kwargs,
    ) -> str:
        tables = self._tables()
        ids = [int(i) for i in ([token_ids] if isinstance(token_ids, int) else token_ids)]
        if skip_special_tokens:
            ids = [i for i in ids if i not in tables.skip_ids]
        table, added = tables.id_to_bytes, self.added_tokens_decoder
        if spaces_between_special_tokens:  # legacy slow-tokenizer output: added tokens set apart by spaces
            parts, run = [], []
            for i in ids:
                if i in added:
                    parts += [_decode_utf8(b"".join(run), self.errors)] if run else []
                    parts.append(added[i].content)
                    run = []
                elif 0 <= i < len(table):
                    run.append(table[i])
            text = " ".join(parts + ([_decode_utf8(b"".join(run), self.errors)] if run else []))
        else:
            text = _decode_utf8(b"".join([table[i] for i in ids if 0 <= i < len(table)]), self.errors)
        clean = (
            self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        )
        return self.clean_up_tokenization(text) if clean else text

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """vocab.json (sorted, indent 2), merges.txt (``#version: 0.2``) and the three SentencePiece protos."""
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"save_vocabulary needs an existing directory, got {save_directory!r}")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        paths = [
            os.path.join(save_directory, prefix + VOCAB_FILES_NAMES[key]) for key in ("vocab_file", "merges_file")
        ]
        self.bpe.save(*paths)
        for name, sub in self.sub_vocabs.items():
            paths.append(os.path.join(save_directory, prefix + VOCAB_FILES_NAMES[f"sp_model_{name}"]))
            with open(paths[-1], "wb") as handle:
                handle.write(sub.proto)
        return tuple(paths)


# ----------------------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------------------

# Arguments of `_encode_plus` that `prepare_for_model` takes under the same name.
_PREPARE_ARGUMENTS = (
    "add_special_tokens", "max_length", "stride", "pad_to_multiple_of", "padding_side", "return_tensors",
    "return_token_type_ids", "return_attention_mask", "return_overflowing_tokens", "return_special_tokens_mask",
    "return_length", "verbose",
)  # fmt: skip


def _model_arguments(kwargs: dict) -> dict:
    """The `_encode_plus` arguments as `prepare_for_model` names them."""
    arguments = {key: kwargs[key] for key in _PREPARE_ARGUMENTS if key in kwargs}
    if "padding_strategy" in kwargs:
        arguments["padding"] = kwargs["padding_strategy"].value
    if "truncation_strategy" in kwargs:
        arguments["truncation"] = kwargs["truncation_strategy"].value
    return arguments


def _check_text(text, name: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"InternS1Tokenizer expects `{name}` to be a str, got {type(text).__name__}")


def _check_encode_input(text, name: str) -> None:
    if isinstance(text, str):
        return
    if isinstance(text, (list, tuple)):
        bad = next((t for t in text if not isinstance(t, (str, int, list, tuple))), None)
        if bad is not None:
            raise TypeError(f"`{name}` items must be str (or token ids), got {type(bad).__name__}")
        return
    raise TypeError(f"InternS1Tokenizer expects `{name}` to be a str or a list of str, got {type(text).__name__}")


def _decode_utf8(data: bytes, errors: str) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")  # round-trips lone surrogates encoded by the BPE fallback
    except UnicodeDecodeError:
        return data.decode("utf-8", errors)


@functools.lru_cache(maxsize=64)
def _warn_mismatched_tag_once(end_tag: str, popped: str) -> None:
    logger.warning(
        "%s closed a %s span; the sub-vocabulary stack was popped anyway (reference behaviour)", end_tag, popped
    )
