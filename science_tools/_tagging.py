"""Wrap validated chemistry in the Intern-S1 dynamic tokenizer's explicit tags (plain strings, no tokenizer).

Tags (``intern_s1_spec.md`` §6.3): ``<SMILES>`` (SMILES and reaction SMILES), ``<SELFIES>``, ``<IUPAC>``,
``<FASTA>`` (protein sequences) — each switches the tokenizer to its sub-vocabulary — and ``<MOLFORMULA>``,
which only protects a formula from auto-detection. Text that does not validate is returned unchanged, so a
wrong tag never reaches the model.
"""

import re
from bisect import bisect_right

from ._limits import MAX_SPAN_TEXT, require_str


__all__ = ["TAG_KINDS", "tag_for_tokenizer", "tag_spans"]

TAG_KINDS = {
    "smiles": "SMILES",
    "reaction": "SMILES",
    "selfies": "SELFIES",
    "iupac": "IUPAC",
    "protein": "FASTA",
    "fasta": "FASTA",
    "formula": "MOLFORMULA",
    "molformula": "MOLFORMULA",
}
_ANY_TAG = re.compile(r"</?(?:SMILES|SELFIES|IUPAC|FASTA|MOLFORMULA)>")
_LONE_OPEN_TAG = re.compile(r"<(?:SMILES|SELFIES|IUPAC|FASTA|MOLFORMULA)>\s*$")  # already tagged, unclosed
_MAX_IUPAC = 2_000
_IUPAC_CHARS = re.compile(r"[A-Za-z0-9,()\[\]{}'’\-+·. ]+")


def _valid(core: str, kind: str) -> str | None:
    """The text to put between the tags, or None when ``core`` is not a valid ``kind``."""
    from ._molecules import check_molecule, check_smiles
    from ._reactions import reaction_problem
    from ._sequences import check_fasta
    from ._spans import is_formula

    if not core or _ANY_TAG.search(core):
        return None
    if kind == "smiles":
        return core if check_smiles(core, descriptors=False).ok else None
    if kind == "reaction":
        return core if reaction_problem(core) is None else None
    if kind == "selfies":
        return core if check_molecule(core, "selfies").ok else None
    if kind == "iupac":  # no IUPAC parser offline: accept a one-line name made of name characters
        has_letters = sum(ch.isalpha() for ch in core) >= 3
        return core if len(core) <= _MAX_IUPAC and has_letters and _IUPAC_CHARS.fullmatch(core) else None
    if kind in ("protein", "fasta"):  # several FASTA records: one tagged sequence per line
        reports = check_fasta(core, "protein", properties=False)
        return "</FASTA>\n<FASTA>".join(r.sequence for r in reports) if all(r.ok for r in reports) else None
    return core if is_formula(core) else None


def tag_for_tokenizer(text: str, kind: str) -> str:
    """Wrap ``text`` in the tokenizer tag for ``kind`` when it validates; otherwise return it unchanged.

    Surrounding whitespace stays outside the tags. For "protein"/"fasta" FASTA headers are dropped and each
    record's cleaned sequence (no spaces, digits or line breaks) is tagged on its own line, which is what the
    FASTA sub-tokenizer expects.

    Args:
        text: The molecule / name / sequence / formula as entered.
        kind: One of "smiles", "reaction", "selfies", "iupac", "protein" (alias "fasta"), "formula"
            (alias "molformula").

    Returns:
        e.g. ``"<SMILES>CCO</SMILES>"`` or ``"<MOLFORMULA>C6H12O6</MOLFORMULA>"``; ``text`` itself when invalid.

    Raises:
        TypeError: If ``text`` or ``kind`` is not a str.
        ValueError: If ``kind`` is not one of the names above.
    """
    require_str(text)
    require_str(kind, "kind")
    tag = TAG_KINDS.get(kind.lower())
    if tag is None:
        raise ValueError(f"kind must be one of {sorted(TAG_KINDS)}, got {kind!r}")
    core = text.strip()
    inner = _valid(core, kind.lower()) if len(core) <= MAX_SPAN_TEXT else None
    if inner is None:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}<{tag}>{inner}</{tag}>{trail}"


def tag_spans(text: str) -> str:
    """Tag every span ``find_spans`` reports in free text: SMILES and reactions, proteins, formulas.

    DNA spans are left untagged (the tokenizer has no nucleotide vocabulary); text already inside explicit
    tags is left as it is.

    Args:
        text: A user message.

    Returns:
        The text with tags inserted; identical to ``text`` when nothing was found.

    Raises:
        TypeError: If ``text`` is not a str.
    """
    from ._spans import find_spans, tagged_regions

    require_str(text)
    pieces, cursor = [], 0
    regions = tagged_regions(text)
    starts = [outer_start for _, outer_start, _, _, _ in regions]
    for span in find_spans(text):
        region = bisect_right(starts, span.start) - 1  # regions are sorted and disjoint
        inside_region = region >= 0 and span.start < regions[region][4]
        after_lone_tag = _LONE_OPEN_TAG.search(text, max(0, span.start - 16), span.start) is not None
        if span.kind == "dna" or inside_region or after_lone_tag:
            continue
        pieces.append(text[cursor : span.start])
        tag = TAG_KINDS[span.kind]
        pieces.append(f"<{tag}>{span.text}</{tag}>")
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
