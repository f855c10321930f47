"""FASTA records from text or a streamed file, keeping where every residue sat in what the user typed.

A record keeps its text as typed (``raw``) and a ``masked`` copy of the same length in which the header and
``;`` comment lines are blanked. Cleaning the masked copy (dropping whitespace and digits) gives the sequence,
and the offset of the n-th kept character in ``masked`` is its offset in ``raw``: that is how an error is
reported at the character the user typed ("'!' at 16"), not at its index in the cleaned sequence.
"""

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


__all__ = ["FastaRecord", "clean_sequence", "split_records"]

_STRIPPED = re.compile(r"[\s\d]+")  # whitespace, line numbers and GenBank-style position columns
_KEPT = re.compile(r"[^\s\d]")  # exactly the characters _STRIPPED leaves
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def clean_sequence(masked: str) -> str:
    """Residues of a masked record: whitespace and digits removed, ASCII letters upper-cased.

    Only ASCII is upper-cased: ``"ß".upper()`` is ``"SS"``, which would turn one typed character into two
    valid serines; a non-ASCII letter stays itself and is reported as not allowed.
    """
    return _STRIPPED.sub("", masked).translate(_ASCII_UPPER)


@dataclass(frozen=True)
class FastaRecord:
    """One record of a paste or file.

    Attributes:
        header: The header line without ">" (None for text before the first header).
        raw: The record as typed, from its header line up to the next header.
        masked: ``raw`` with header and comment lines replaced by spaces (same length).
        first_line: 1-based line number of ``raw``'s first line in the whole input.
    """

    header: str | None
    raw: str
    masked: str
    first_line: int

    def multiline(self) -> bool:
        """True when the record spans several lines (errors then say line and column)."""
        return len(self.raw.rstrip("\r\n").splitlines()) > 1 or self.first_line > 1

    def locate(self, indices: list[int]) -> list[tuple[int, int, int]]:
        """Where the residues at 0-based ``indices`` of the cleaned sequence were typed.

        Args:
            indices: Sorted 0-based indices into ``clean_sequence(self.masked)``.

        Returns:
            ``(1-based offset in raw, 1-based line in the whole input, 1-based column)`` per index.
        """
        wanted, found = set(indices), {}
        last = max(indices, default=-1)
        for number, match in enumerate(_KEPT.finditer(self.masked)):
            if number in wanted:
                found[number] = match.start()
            if number >= last:
                break
        line_starts, start = [], 0
        for line in self.raw.splitlines(keepends=True):
            line_starts.append(start)
            start += len(line)
        located = []
        for index in indices:
            offset = found[index]
            line = bisect_right(line_starts, offset) - 1
            located.append((offset + 1, self.first_line + line, offset - line_starts[line] + 1))
        return located


def _has_body(masked: list[str]) -> bool:
    return any(piece.strip() for piece in masked)


def split_records(lines: Iterable[str]) -> Iterator[FastaRecord]:
    """Yield the records of a FASTA text given as lines with their line ends (``splitlines(keepends=True)``).

    Text before the first ``>`` is a headerless record when it holds anything besides whitespace. Records are
    yielded as soon as the next header arrives, so a caller can stop reading a file at a record limit.
    """
    header: str | None = None
    raw: list[str] = []
    masked: list[str] = []
    first_line = 1
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        if stripped.startswith(">"):
            if header is not None or _has_body(masked):
                yield FastaRecord(header, "".join(raw), "".join(masked), first_line)
            header, raw, masked, first_line = stripped[1:].strip(), [], [], number
        raw.append(line)
        # ';' starts a comment line in old-style FASTA; header and comments never reach the sequence
        masked.append(" " * len(line) if stripped.startswith((">", ";")) else line)
    if header is not None or _has_body(masked):
        yield FastaRecord(header, "".join(raw), "".join(masked), first_line)
