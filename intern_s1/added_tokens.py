"""Tag and marker strings of the Intern-S1 tokenizer, and the tables it derives from its added tokens.

The tables (the splitter on added tokens and protect markers, the kind of each special piece, the ids that
``skip_special_tokens`` drops and the id -> bytes decode table) are rebuilt whenever tokens are added.
"""

from __future__ import annotations

import functools
import re


__all__ = [
    "ADDED",
    "AUTO_BEGIN_MARKERS",
    "AUTO_END_MARKERS",
    "BEGIN",
    "END",
    "EXPLICIT_BEGIN_TAGS",
    "EXPLICIT_END_TAGS",
    "MULTIMODAL_TOKENS",
    "PROTECT",
    "PROTECT_BEGIN",
    "PROTECT_END",
    "AddedTokenTables",
]

# Begin tag -> sub-vocabulary it activates; explicit tags are added tokens, AUTO_DETECT markers never get an id.
EXPLICIT_BEGIN_TAGS = {"<SMILES>": "SMILES", "<SELFIES>": "SMILES", "<IUPAC>": "IUPAC", "<FASTA>": "FASTA"}
EXPLICIT_END_TAGS = {"</SMILES>": "SMILES", "</SELFIES>": "SMILES", "</IUPAC>": "IUPAC", "</FASTA>": "FASTA"}
AUTO_BEGIN_MARKERS = {"<SMILES_AUTO_DETECT>": "SMILES", "<FASTA_AUTO_DETECT>": "FASTA"}
AUTO_END_MARKERS = {"</SMILES_AUTO_DETECT>": "SMILES", "</FASTA_AUTO_DETECT>": "FASTA"}
PROTECT_BEGIN, PROTECT_END = "<MOLFORMULA>", "</MOLFORMULA>"

# Named multimodal tokens (attribute -> token) the processor reads; the real checkpoints' strings by default.
MULTIMODAL_TOKENS = {
    "context_image_token": "<IMG_CONTEXT>",
    "start_image_token": "<img>",
    "end_image_token": "</img>",
    "video_token": "<video>",
}

# Piece kinds
BEGIN, END, PROTECT, ADDED = 1, 2, 3, 4


class AddedTokenTables:
    """Everything derived from the added tokens: the splitter, piece kinds, skip ids and the id -> bytes table."""

    def __init__(self, tokenizer) -> None:
        added = tokenizer.get_added_vocab()
        decoder = tokenizer.added_tokens_decoder
        self.added_tokens = {token.content: token for token in decoder.values()}
        self.no_split = set(added) | {PROTECT_BEGIN, PROTECT_END}
        self.protect_openers = {t for t in EXPLICIT_BEGIN_TAGS if t in added} | {PROTECT_BEGIN}
        self.protect_closers = {t for t in EXPLICIT_END_TAGS if t in added} | {PROTECT_END}
        # Piece kinds compare strings (as the reference does): a marker string is a marker wherever it stands alone.
        self.begin_model = {**AUTO_BEGIN_MARKERS, **{t: m for t, m in EXPLICIT_BEGIN_TAGS.items() if t in added}}
        self.end_model = {**AUTO_END_MARKERS, **{t: m for t, m in EXPLICIT_END_TAGS.items() if t in added}}
        self.kinds = {**dict.fromkeys(added, ADDED), **dict.fromkeys(self.begin_model, BEGIN)}
        self.kinds.update({**dict.fromkeys(self.end_model, END), PROTECT_BEGIN: PROTECT, PROTECT_END: PROTECT})
        self.pattern = re.compile("|".join(map(re.escape, sorted(self.no_split, key=len, reverse=True))))
        self.needs_strip = any(t.lstrip or t.rstrip or t.single_word for t in self.added_tokens.values())
        special = {i for i, token in decoder.items() if token.special}
        self.skip_ids = special | {i for i in tokenizer.all_special_ids if i is not None}
        self._tokenizer = tokenizer

    @functools.cached_property
    def id_to_bytes(self) -> list[bytes]:
        """id -> bytes for every id (built on first decode; ids without a token map to b"")."""
        tokenizer, bpe = self._tokenizer, self._tokenizer.bpe
        decoder = tokenizer.added_tokens_decoder
        table = [b""] * max(len(tokenizer), max(bpe.decoder, default=0) + 1, max(decoder, default=0) + 1)
        for token, index in bpe.encoder.items():
            table[index] = bpe.token_bytes(token)
        for sub in tokenizer.sub_vocabs.values():
            for local, piece in enumerate(sub.pieces):  # spec §6.7: "▁" -> space, "\n" -> newline, byte decoder
                table[sub.offset + local] = bpe.token_bytes(piece.replace("▁", "Ġ").replace("\n", "Ċ"))
        for index, token in decoder.items():
            table[index] = token.content.encode("utf-8", "surrogatepass")
        return table

    def split(self, text: str) -> list[tuple[str, int]]:
        """Leftmost-longest split on added tokens and protect markers, with lstrip/rstrip/single_word handling."""
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
