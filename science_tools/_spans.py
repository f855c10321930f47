"""Find validated SMILES, reaction SMILES, formulas, protein and DNA sequences inside free text.

The finder favours precision: a chat answer is full of acronyms and names that happen to parse as SMILES
("CNS", "ICl", "CCP"), so a candidate needs RDKit's approval *and* some structural evidence. Explicit
tokenizer tags (``<SMILES>…</SMILES>``, ``<FASTA>…</FASTA>``, ``<MOLFORMULA>…</MOLFORMULA>``) are trusted
for the kind but their content is still validated. Measured precision/recall: see ``docs/science_tools.md``.
"""

import re
from functools import lru_cache

from ._limits import MAX_RESIDUES, MAX_SMILES_LENGTH, MAX_SPAN_TEXT, require_str
from ._reports import Span
from ._smiles_syntax import ELEMENTS


__all__ = ["find_spans", "is_formula", "tagged_regions"]

_OPEN_TAG = re.compile(r"<(SMILES|SELFIES|IUPAC|FASTA|MOLFORMULA)>")
_ANY_TAG = re.compile(r"</?(?:SMILES|SELFIES|IUPAC|FASTA|MOLFORMULA)>")
_TOKEN = re.compile(r"[^\s,;\"'`<!?{}|]+")  # '>' stays: reaction SMILES need it
_EDGE_PUNCTUATION = ".:*_"  # sentence full stops, colons, markdown emphasis
_SMILES_CHARS = re.compile(r"[A-Za-z0-9@+\-\[\]()\\/%=#$.:*]+")
_UNBRACKETED_LETTERS = frozenset("BCNOPSFIlrcnospb")  # letters SMILES allows outside brackets (Cl, Br, aromatics)
_STRUCTURE = re.compile(r"[=#()\[\]@%\d]|[cnops]")  # evidence that a letter string is a structure, not a word
_DNA = frozenset("ACGTN")
# O (pyrrolysine) and U (selenocysteine) are left out on purpose: they are rare in real sequences but
# common in capitalised English words ("ELECTROENCEPHALOGRAPHY"); check_sequence still accepts them.
_AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWYX")
_MIN_DNA, _MIN_PROTEIN, _MIN_PROTEIN_DISTINCT = 12, 20, 8
_CACHED_TOKEN_LENGTH = 512  # longer tokens (sequences) are not cached, so the cache stays small
# words and chemistry abbreviations that happen to read as formulas ("SN2" reaction, "HeLa" cells)
_FORMULA_STOPLIST = frozenset({"NaN", "HeLa", "CoV", "SN2"})
_ASSAY_ABBREVIATION = re.compile(r"(?:IC|EC|LD|ED|CC|TD|LC)\d+")
_SINGLE_ELEMENT_MOLECULES = frozenset({"H", "N", "O", "F", "Cl", "Br", "I", "S", "P"})  # H2, O3, S8, P4 …
_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+)|([()])|([·•])")
_FORMULA_CHARGE = re.compile(r"(?:\^\d*[+\-]|\^?\(\d*[+\-]\)|[+\-]{1,3})$")  # NH4+, SO4^2-, Fe(3+)


def _formula_parts(text: str) -> list[tuple[str, str]] | None:
    """Tokenise a formula into (kind, value) pairs, or None when a character does not belong."""
    parts, position = [], 0
    while position < len(text):
        match = _FORMULA_TOKEN.match(text, position)
        if match is None:
            return None
        kind = ("element", "count", "paren", "dot")[match.lastindex - 1]
        parts.append((kind, match.group()))
        position = match.end()
    return parts


def is_formula(text: str) -> bool:
    """True when ``text`` reads as a molecular formula such as ``C6H12O6``, ``Ca(OH)2``, ``NH4+``, ``NaCl``.

    Digit-free formulas need a two-letter element symbol ("NaCl", "HCl"); a lone element needs a count and
    must be a common molecular element ("O2", "S8"). Explicit counts of 1 ("H1N1") and assay names ("IC50")
    are rejected: chemists omit a count of one.
    """
    if not text or text in _FORMULA_STOPLIST or _ASSAY_ABBREVIATION.fullmatch(text) or len(text) > 200:
        return False
    body = _FORMULA_CHARGE.sub("", text)
    parts = _formula_parts(body)
    if not parts or parts[0][0] not in ("element", "paren", "count"):
        return False
    depth, elements, has_count = 0, [], False
    for index, (kind, value) in enumerate(parts):
        if kind == "element":
            if value not in ELEMENTS:
                return False
            elements.append(value)
        elif kind == "count":
            if value == "1" or value.startswith("0") or int(value) > 999:
                return False
            follows_dot = index > 0 and parts[index - 1][0] == "dot"
            leads = index == 0 or follows_dot  # hydrate multiplier "5H2O"
            if not leads and parts[index - 1][0] not in ("element", "paren"):
                return False
            has_count = True
        elif kind == "paren":
            depth += 1 if value == "(" else -1
            if depth < 0:
                return False
    if depth != 0 or not elements:
        return False
    if len(elements) == 1:
        return has_count and elements[0] in _SINGLE_ELEMENT_MOLECULES
    if not has_count:
        return any(len(e) == 2 for e in elements) and len(elements) <= 4 and "He" not in elements
    return True


_PARTNER = {"(": ")", "[": "]", ")": "(", "]": "["}


def _matching_open_to_close(token: str) -> dict[int, int]:
    """Index of each '(' mapped to the index of the ')' that closes it (unmatched ones are absent)."""
    stack, pairs = [], {}
    for index, ch in enumerate(token):
        if ch == "(":
            stack.append(index)
        elif ch == ")" and stack:
            pairs[stack.pop()] = index
    return pairs


def _trim(token: str, start: int) -> tuple[str, int]:
    """Strip sentence punctuation, wrapping parentheses and unbalanced brackets; returns (text, new start).

    "(CCO)." → "CCO", "c1ccccc1)" → "c1ccccc1", but "(C)C(C)" stays whole. Linear in the token length.
    """
    if len(token) > MAX_SMILES_LENGTH:  # only a sequence can be this long: edge punctuation is all to strip
        kept = token.lstrip(_EDGE_PUNCTUATION + "([")
        return kept.rstrip(_EDGE_PUNCTUATION + ")]"), start + len(token) - len(kept)
    pairs = _matching_open_to_close(token)
    counts = {ch: token.count(ch) for ch in "()[]"}
    lo, hi = 0, len(token)
    while lo < hi:
        first, last = token[lo], token[hi - 1]
        if first == "(" and pairs.get(lo) == hi - 1 and hi - lo >= 3:  # "(CCO)" in prose
            counts["("], counts[")"], lo, hi = counts["("] - 1, counts[")"] - 1, lo + 1, hi - 1
        elif last in _EDGE_PUNCTUATION:
            hi -= 1
        elif last in ")]" and counts[last] > counts[_PARTNER[last]]:
            counts[last], hi = counts[last] - 1, hi - 1
        elif first in _EDGE_PUNCTUATION:
            lo += 1
        elif first in "([" and counts[first] > counts[_PARTNER[first]]:
            counts[first], lo = counts[first] - 1, lo + 1
        else:
            break
    return token[lo:hi], start + lo


def _looks_like_smiles(token: str) -> bool:
    """Cheap filters before RDKit: SMILES characters only, word-like letters only outside brackets."""
    if len(token) < 2 or len(token) > MAX_SMILES_LENGTH or not _SMILES_CHARS.fullmatch(token):
        return False
    outside = re.sub(r"\[[^\]]*\]", "", token)
    if not all(ch in _UNBRACKETED_LETTERS for ch in outside if ch.isalpha()):
        return False
    if token.isalpha():  # plain letters: demand a carbon chain so acronyms (CNS, ICl, SOS) stay prose
        carbons = len(re.findall(r"C(?!l)", token))
        return carbons >= 2 and len(token) >= 3 and not token.islower()
    return bool(_STRUCTURE.search(token)) or len(re.findall(r"C(?!l)", token)) >= 2


def _is_smiles(token: str) -> bool:
    from ._molecules import parse_smiles  # lazy: RDKit only when a candidate survives the cheap filters

    if not _looks_like_smiles(token):
        return False
    mol = parse_smiles(token)
    return mol is not None and mol.GetNumAtoms() >= 1


def _sequence_kind(token: str) -> str | None:
    if not token.isalpha():
        return None
    upper = token.upper()
    if len(token) >= _MIN_DNA and (token.isupper() or token.islower()) and set(upper) <= _DNA:
        return "dna" if len(set(upper) - {"N"}) >= 3 else None
    if (
        token.isupper()
        and _MIN_PROTEIN <= len(token) <= MAX_RESIDUES
        and set(token) <= _AMINO_ACIDS
        and len(set(token)) >= _MIN_PROTEIN_DISTINCT
    ):
        return "protein"
    return None


def _classify(token: str) -> str | None:
    # a streamed answer is re-scanned on every chunk, so short tokens come back again and again
    return _classify_cached(token) if len(token) <= _CACHED_TOKEN_LENGTH else _classify_uncached(token)


@lru_cache(maxsize=8192)
def _classify_cached(token: str) -> str | None:
    return _classify_uncached(token)


def _classify_uncached(token: str) -> str | None:
    if ">" in token:
        from ._reactions import reaction_problem

        return "reaction" if token.count(">") == 2 and reaction_problem(token) is None else None
    kind = _sequence_kind(token)
    if kind:
        return kind
    if _is_smiles(token):
        return "smiles"
    if is_formula(token):
        return "formula"
    return None


def tagged_regions(text: str) -> list[tuple[str, int, int, int, int]]:
    """Explicit tokenizer tags in ``text`` as (tag, outer start, content start, content end, outer end).

    A linear scan (a regex with a lazy ``.*?`` up to a back-reference is quadratic on text full of
    unclosed tags); nesting is not interpreted, the first matching close tag ends a region.
    """
    regions, position, unclosed = [], 0, set()
    while match := _OPEN_TAG.search(text, position):
        tag = match.group(1)
        close = -1 if tag in unclosed else text.find(f"</{tag}>", match.end())
        if close < 0:
            unclosed.add(tag)  # no close tag after this point: later opens of the same tag cannot match
            position = match.end()
            continue
        outer_end = close + len(tag) + 3
        regions.append((tag, match.start(), match.end(), close, outer_end))
        position = outer_end
    return regions


def _tagged_kind_uncached(tag: str, core: str) -> str | None:
    """The span kind of explicit tag content. Inside <SMILES> the author has said it is SMILES, so RDKit's
    verdict is enough (no structure heuristics); SELFIES and IUPAC content is not a span kind."""
    from ._molecules import check_smiles
    from ._sequences import check_sequence

    if not core:
        return None
    if tag == "SMILES":
        if ">" in core:
            return _classify(core)
        return "smiles" if check_smiles(core, descriptors=False).ok else None
    if tag == "FASTA":
        report = check_sequence(core, properties=False)
        return report.kind if report.ok and report.kind in ("protein", "dna") else None
    if tag == "MOLFORMULA":
        return "formula" if is_formula(core) else None
    return None


@lru_cache(maxsize=4096)
def _tagged_kind_cached(tag: str, core: str) -> str | None:
    return _tagged_kind_uncached(tag, core)


def _tagged_spans(text: str, regions: list[tuple[str, int, int, int, int]]) -> list[Span]:
    spans = []
    for tag, _, content_start, content_end, _ in regions:
        content = text[content_start:content_end]
        core = content.strip()
        start = content_start + (len(content) - len(content.lstrip()))
        cached = len(core) <= _CACHED_TOKEN_LENGTH
        kind = _tagged_kind_cached(tag, core) if cached else _tagged_kind_uncached(tag, core)
        if kind:
            spans.append(Span(kind, start, start + len(core), core))
    return spans


def find_spans(text: str) -> list[Span]:
    """Find SMILES, reaction SMILES, molecular formulas, protein and DNA sequences in prose.

    Candidates are whitespace/punctuation-delimited tokens (sentence punctuation, markdown emphasis and
    unbalanced brackets are trimmed), so "CCCC" inside a word is never reported. Each candidate is validated:
    SMILES and reactions by RDKit plus a structure check (plain-letter tokens need two carbons, so acronyms
    such as "CNS" are skipped), formulas by element symbols and counts, sequences by alphabet, length
    (DNA ≥ 12 nt, protein ≥ 20 aa upper case with ≥ 8 distinct residues). Content of explicit tokenizer tags
    is reported too (the span covers the content, not the tags). Only the first ``MAX_SPAN_TEXT`` characters
    are scanned.

    Args:
        text: Any text, e.g. a user message or a model answer.

    Returns:
        Non-overlapping spans sorted by ``start``; ``text[span.start:span.end] == span.text``.

    Raises:
        TypeError: If ``text`` is not a str.
    """
    require_str(text)
    text = text[:MAX_SPAN_TEXT]
    regions = tagged_regions(text)
    spans = _tagged_spans(text, regions)
    masked, cursor = [], 0
    for _, outer_start, _, _, outer_end in regions:  # blank tagged regions out; same length keeps offsets valid
        masked += [text[cursor:outer_start], " " * (outer_end - outer_start)]
        cursor = outer_end
    masked.append(text[cursor:])
    # a lone tag (e.g. "<SMILES>CCO" while an answer is still streaming) must not glue itself to its content
    scanned = _ANY_TAG.sub(lambda tag: " " * len(tag.group()), "".join(masked))
    for match in _TOKEN.finditer(scanned):
        token, start = _trim(match.group(), match.start())
        kind = _classify(token) if token else None
        if kind:
            spans.append(Span(kind, start, start + len(token), token))
    return sorted(spans, key=lambda span: span.start)
