"""Does a "protein" read like English prose? A cheap letter-frequency test for the sequence checker's warning.

Nearly every English letter is also an amino-acid code, so "hello there" is a valid 10-residue "protein". The
test compares how likely the letters are under English letter frequencies and under the amino-acid composition
of UniProtKB/Swiss-Prot, as a mean log-likelihood ratio per letter (natural log):

    score = mean over letters of ln(P_english(letter) / P_protein(letter))

English text scores about +1 (its O, U, H, E, T, W and B are rare or absent in proteins); real proteins score
below 0 (their K, V, Q, G, R, L are rare in English). Measured on the examples in
``tests/science_tools/test_prose.py``: 32 real peptides and proteins −1.30 to −0.12, 14 English phrases
+0.06 to +1.23.

A warning needs at least ``MIN_LETTERS`` letters with ``MIN_DISTINCT`` distinct ones (so short peptides and
low-complexity tags such as "HHHHHH" never warn) and either a score above ``PROSE_THRESHOLD``, or a score above
``SPACED_WORDS_THRESHOLD`` when the text was typed as space-separated words of varying length (sequence
databases format residues in equal blocks of 10 or 60, prose does not). The tables are rounded textbook frequencies in percent; letters that
(almost) never occur in one of the two get a floor of 0.05 % so one letter cannot dominate completely.
"""

import math


__all__ = [
    "MIN_DISTINCT",
    "MIN_LETTERS",
    "PROSE_THRESHOLD",
    "SPACED_WORDS_THRESHOLD",
    "prose_score",
    "reads_like_prose",
]

PROSE_THRESHOLD = 0.4
SPACED_WORDS_THRESHOLD = 0.0
_BLOCK = 10  # the shortest block width sequence formats use (GenBank, EMBL)
MIN_LETTERS = 8
MIN_DISTINCT = 6
_FLOOR = 0.05  # percent

# English letter frequencies in running text (percent, rounded).
_ENGLISH = {
    "A": 8.2, "B": 1.5, "C": 2.8, "D": 4.3, "E": 12.7, "F": 2.2, "G": 2.0, "H": 6.1, "I": 7.0, "J": 0.15,
    "K": 0.8, "L": 4.0, "M": 2.4, "N": 6.7, "O": 7.5, "P": 1.9, "Q": 0.1, "R": 6.0, "S": 6.3, "T": 9.1,
    "U": 2.8, "V": 1.0, "W": 2.4, "X": 0.15, "Y": 2.0, "Z": 0.07,
}  # fmt: skip
# Amino-acid composition of UniProtKB/Swiss-Prot (percent, rounded); B, J, O, U, X, Z are (nearly) absent.
_PROTEIN = {
    "A": 8.25, "C": 1.38, "D": 5.46, "E": 6.72, "F": 3.86, "G": 7.07, "H": 2.27, "I": 5.91, "K": 5.80,
    "L": 9.64, "M": 2.41, "N": 4.06, "P": 4.74, "Q": 3.93, "R": 5.53, "S": 6.65, "T": 5.36, "V": 6.86,
    "W": 1.10, "Y": 2.92,
}  # fmt: skip
_LOG_RATIO = {
    letter: math.log(max(_ENGLISH.get(letter, 0.0), _FLOOR) / max(_PROTEIN.get(letter, 0.0), _FLOOR))
    for letter in _ENGLISH
}


def prose_score(sequence: str) -> float | None:
    """Mean per-letter log-likelihood ratio English : protein of the A–Z letters in ``sequence`` (None if none)."""
    ratios = [_LOG_RATIO[ch] for ch in sequence.upper() if ch in _LOG_RATIO]
    return sum(ratios) / len(ratios) if ratios else None


def _typed_as_words(typed: str) -> bool:
    """Space-separated letter groups of varying length, unlike the equal blocks of a formatted sequence."""
    tokens = typed.split()
    if len(tokens) < 2 or not all(token.isalpha() for token in tokens):
        return False
    first = len(tokens[0])
    blocks = first >= _BLOCK and all(len(token) == first for token in tokens[:-1]) and len(tokens[-1]) <= first
    return not blocks


def reads_like_prose(sequence: str, typed: str | None = None) -> bool:
    """True when ``sequence`` looks more like English words than a protein (see the module docstring).

    Args:
        sequence: The cleaned sequence (letters only).
        typed: The text as the user typed it (spaces included), when available; word spacing lowers the bar.

    Returns:
        Whether to warn.
    """
    letters = [ch for ch in sequence.upper() if ch in _LOG_RATIO]
    if len(letters) < MIN_LETTERS or len(set(letters)) < MIN_DISTINCT:
        return False
    score = prose_score(sequence)
    threshold = SPACED_WORDS_THRESHOLD if typed is not None and _typed_as_words(typed) else PROSE_THRESHOLD
    return score is not None and score > threshold
