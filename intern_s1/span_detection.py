"""Auto-detection of SMILES and protein (FASTA) spans in plain text, the reference rules made fast (spec §6.5).

Inside unprotected text the tokenizer wraps every accepted candidate in ``<SMILES_AUTO_DETECT>`` / ``<FASTA_AUTO_DETECT>``
markers, and the span is then encoded with that sub-vocabulary.

* SMILES: a match of the atomic-group pattern (at least 10 units), not touching an ASCII letter on either side, with
  at least 5 ASCII letters, that RDKit parses. Same matches as the documented pattern, found faster: a linear-time
  prefilter finds the only windows that can hold a match, and the exact pattern runs inside them; RDKit verdicts are
  memoised with ``functools.lru_cache`` and RDKit logging is blocked per call, never globally.
* FASTA: every run of 27 or more capital letters, with no letter-boundary rule (the reference's ``truncation=True``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

import regex


__all__ = [
    "FASTA_MIN_LENGTH",
    "SMILES_MIN_LENGTH",
    "SmilesDetector",
    "is_legitimate_smiles",
    "split_fasta",
    "smiles_factored_pattern",
    "smiles_reference_pattern",
    "wrap_spans",
]

# fmt: off
# Two-letter element symbols and single letters (organic subset + aromatic) of the SMILES auto-detect pattern.
SMILES_TWO_LETTER_ELEMENTS = ["Ac", "Ag", "Al", "Am", "Ar", "As", "At", "Au", "Ba", "Be", "Bh", "Bi", "Bk", "Br", "Ca", "Cd", "Ce", "Cf", "Cl", "Cm", "Cn", "Co", "Cr", "Cs", "Cu", "Db", "Ds", "Dy", "Er", "Es", "Eu", "Fe", "Fl", "Fm", "Fr", "Ga", "Gd", "Ge", "He", "Hf", "Hg", "Ho", "Hs", "In", "Ir", "Kr", "La", "Li", "Lr", "Lu", "Lv", "Mc", "Md", "Mg", "Mn", "Mo", "Mt", "Na", "Nb", "Nd", "Ne", "Nh", "Ni", "No", "Np", "Og", "Os", "Pa", "Pb", "Pd", "Pm", "Po", "Pr", "Pt", "Pu", "Ra", "Rb", "Re", "Rf", "Rg", "Rh", "Rn", "Ru", "Sb", "Sc", "Se", "Sg", "Si", "Sm", "Sn", "Sr", "Ta", "Tb", "Tc", "Te", "Th", "Ti", "Tl", "Tm", "Ts", "Xe", "Yb", "Zn", "Zr"]
SMILES_ONE_LETTER_ELEMENTS = ["B", "C", "F", "H", "I", "K", "N", "O", "P", "S", "U", "V", "W", "Y", "b", "c", "n", "o", "p", "s"]
# fmt: on
SMILES_MIN_LENGTH = 10
SMILES_MIN_ASCII_LETTERS = 5
FASTA_MIN_LENGTH = 27

_RDKIT_CACHE_SIZE = 16384
_RDKIT_CACHE_MAX_CHARS = 2048  # longer candidates are checked uncached so the cache stays small in memory
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


class SmilesDetector:
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
        return wrap_spans(text, base, self._accepted(text), "SMILES")

    def _accepted(self, text: str) -> Iterator[tuple[int, int]]:
        """Candidate spans that pass the length, letter-boundary and RDKit checks, in order."""
        for start, end in self.matches(text):
            if end - start < SMILES_MIN_LENGTH:
                continue
            if (start > 0 and _is_ascii_letter(text[start - 1])) or (end < len(text) and _is_ascii_letter(text[end])):
                continue  # letter-boundary rule (cheap, so checked before RDKit; the verdict is the same)
            if is_legitimate_smiles(text[start:end]):
                yield start, end


def wrap_spans(text: str, base: int, spans: Iterable[tuple[int, int]], kind: str) -> list[tuple[str, int]]:
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


def split_fasta(text: str, base: int) -> list[tuple[str, int]]:
    """Runs of >= 27 capitals become FASTA spans; no letter-boundary rule (the reference's truncation=True)."""
    if len(text) < FASTA_MIN_LENGTH:
        return [(text, base)]
    return wrap_spans(text, base, (match.span() for match in _FASTA_PATTERN.finditer(text)), "FASTA")
