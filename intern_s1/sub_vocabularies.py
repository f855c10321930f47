"""The SMILES / IUPAC / FASTA SentencePiece sub-vocabularies of the Intern-S1 tokenizer and where their ids go.

Each sub-vocabulary is a SentencePiece model whose piece ``k`` has the global id ``offset + k`` (spec §6.6). The
offsets are not fixed numbers: they follow from the id space the base vocabulary and the added tokens leave free.

* The published layout reserves a block of free ids for each sub-vocabulary between the added tokens (Qwen3 base:
  SMILES 151669.., then ``<SMILES>`` .. ``</SELFIES>`` at 151925..151928, IUPAC 151929.., FASTA 152443..). Such a
  block is used when it lies below the highest added-token id listed in ``tokenizer_config.json``.
* When the table reserves nothing (a bare base vocabulary), the sub-vocabulary goes right after every token known at
  load, so there is never a block of ids that decodes to nothing.
* A block that would overlap a base token, an added token or another sub-vocabulary is an error that names both.

Every piece has one token name, ``<SMILES:CC>`` for the SMILES piece ``CC``: the name ``convert_ids_to_tokens`` gives
and ``get_vocab`` lists, and that ``convert_tokens_to_ids`` maps back. (Inside a span, ``tokenize`` writes the bare
piece, as the reference does; ``convert_tokens_to_ids`` reads it with the span's sub-vocabulary.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sentencepiece as spm


__all__ = ["SUB_VOCAB_NAMES", "SubVocabulary", "first_free_id", "place", "sub_vocab_token"]

SUB_VOCAB_NAMES = ("SMILES", "IUPAC", "FASTA")


def sub_vocab_token(name: str, piece: str) -> str:
    """The token name of a sub-vocabulary piece: ``<SMILES:CC>``."""
    return f"<{name}:{piece}>"


class SubVocabulary:
    """One SentencePiece sub-vocabulary; ``offset`` (its piece 0's global id) is set when it is placed."""

    def __init__(self, name: str, model_file: str) -> None:
        self.name = name
        with open(model_file, "rb") as handle:
            self.proto = handle.read()
        self.sp = spm.SentencePieceProcessor(model_proto=self.proto)
        self.unk_id = self.sp.unk_id()
        self.pieces = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]
        self.piece_to_id = {piece: i for i, piece in enumerate(self.pieces)}
        self.offset: int | None = None
        # BPE ids of base tokens spelled like a piece: inside a span such a token takes the piece's id (spec §6.6).
        self.bpe_overrides: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def ids(self) -> range:
        """The global ids of the pieces (empty until placed)."""
        return range(self.offset, self.offset + len(self)) if self.offset is not None else range(0)

    def token(self, local_id: int) -> str:
        return sub_vocab_token(self.name, self.pieces[local_id])

    def global_id_of(self, piece: str) -> int | None:
        """Global id of a piece; None for unknown pieces and for the unknown piece itself (those go to the BPE)."""
        local = self.piece_to_id.get(piece)
        if local is None or local == self.unk_id or self.offset is None:
            return None
        return local + self.offset

    def set_offset(self, offset: int, base_vocab: Mapping[str, int]) -> None:
        self.offset = offset
        self.bpe_overrides = {
            base_vocab[piece]: offset + local
            for local, piece in enumerate(self.pieces)
            if piece in base_vocab and local != self.unk_id
        }


def first_free_id(owner: Callable[[int], str | None], start: int = 0) -> int:
    """The lowest id from ``start`` that nothing owns."""
    candidate = start
    while owner(candidate) is not None:
        candidate += 1
    return candidate


def place(sub: SubVocabulary, offset: int, owner: Callable[[int], str | None], base_vocab: Mapping[str, int]) -> None:
    """Give ``sub`` the ids ``offset ..``, after checking that nothing else owns any of them."""
    if offset < 0:
        raise ValueError(f"The {sub.name} sub-vocabulary cannot start at the negative id {offset}.")
    for candidate in range(offset, offset + len(sub)):
        taken_by = owner(candidate)
        if taken_by is not None:
            raise ValueError(
                f"The {sub.name} sub-vocabulary ({len(sub)} pieces) needs the ids {offset}..{offset + len(sub) - 1}, "
                f"but id {candidate} is already {taken_by}. Sub-vocabularies, the base vocabulary and the added "
                "tokens must not overlap: check the added-token ids in tokenizer_config.json (or its "
                "'sub_vocab_offsets') and the sizes of the tokenizer_*.model files."
            )
    sub.set_offset(offset, base_vocab)
