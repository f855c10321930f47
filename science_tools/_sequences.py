"""Protein / DNA / RNA input: FASTA or raw paste → cleaned, classified, validated sequence and a property card.

Ambiguous-residue policy (proteins). The 20 standard residues are always accepted. ``B`` (Asx), ``Z`` (Glx),
``J`` (Leu/Ile), ``X`` (unknown), ``U`` (selenocysteine) and ``O`` (pyrrolysine) are accepted too, counted in
the length and composition and named in a warning, but every ProtParam number (MW, pI, charge, GRAVY,
instability, aromaticity, ε280, secondary structure) is computed on the sequence with those letters removed,
because Biopython's scales are defined only for the 20 standard residues (it raises ``KeyError`` on X/U/O in
``instability_index`` and ``ValueError`` on X/B/Z in ``molecular_weight``). The card states this in
``properties["excluded_residues"]``; the MW is then a lower bound. A sequence with no standard residue left is
rejected. Any other character (digits and whitespace are stripped first) is an error with its position.
A single trailing ``*`` (stop) is removed with a warning; an internal ``*`` is an error.
"""

from collections.abc import Iterable
from dataclasses import replace

from ._fasta import FastaRecord, clean_sequence, split_records
from ._limits import MAX_FASTA_RECORDS, MAX_RESIDUES, MAX_SEQUENCE_TEXT, require_str
from ._prose import reads_like_prose
from ._reports import InvalidResidue, SequenceReport


__all__ = ["check_fasta", "check_records", "check_sequence", "classify_sequence", "validated_kind"]

STANDARD_AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWY")
NONSTANDARD_AMINO_ACIDS = frozenset("BZJXUO")
_DNA = frozenset("ACGT")
_RNA = frozenset("ACGU")
_NUCLEOTIDE_AMBIGUITY = frozenset("NRYKMSWBDHV")  # IUPAC codes, accepted in DNA/RNA, excluded from counts
_KINDS = ("auto", "protein", "dna", "rna")
_MAX_LISTED = 10
_ECHOED_WHEN_REFUSED = 1_000  # a refused (over-limit) paste is echoed in ``input`` only this far
_PROSE_WARNING = (
    "this reads like English words, not a protein sequence; it was accepted because every letter is also an "
    "amino-acid code (was it meant as a question?)"
)


def classify_sequence(sequence: str) -> str:
    """Guess "dna", "rna" or "protein" for a cleaned upper-case sequence.

    Only A/C/G/T/N (or other IUPAC nucleotide codes up to 10 %) is DNA; with U instead of T it is RNA;
    anything else is protein. Short peptides made of A, C, G, T only (e.g. "ACT") look like DNA:
    pass ``kind="protein"`` to ``check_sequence`` for those.
    """
    letters = set(sequence)
    if letters <= _DNA | {"N"}:
        return "dna"
    if letters <= _RNA | {"N"}:
        return "rna"
    # other IUPAC codes (R, Y, K, M, S, W, B, D, H, V) are amino-acid letters too: demand mostly A/C/G/T/U
    mostly_core = sum(1 for ch in sequence if ch in "ACGTU") >= 0.9 * len(sequence)
    if letters <= _DNA | _NUCLEOTIDE_AMBIGUITY and mostly_core:
        return "dna"
    if letters <= _RNA | _NUCLEOTIDE_AMBIGUITY and mostly_core:
        return "rna"
    return "protein"


def _invalid(record: FastaRecord, sequence: str, allowed: frozenset[str]) -> list[InvalidResidue]:
    indices = [index for index, ch in enumerate(sequence) if ch not in allowed]
    if not indices:
        return []
    typed = record.locate(indices)  # the character as typed: upper-casing changed only ASCII letters
    return [
        InvalidResidue(index + 1, record.raw[offset - 1], offset, line, column)
        for index, (offset, line, column) in zip(indices, typed)
    ]


def _describe_invalid(invalid: list[InvalidResidue], kind: str, multiline: bool) -> str:
    def where(residue: InvalidResidue) -> str:
        return f"line {residue.line}, column {residue.column}" if multiline else str(residue.input_position)

    listed = ", ".join(f"{residue.character!r} at {where(residue)}" for residue in invalid[:_MAX_LISTED])
    more = f" and {len(invalid) - _MAX_LISTED} more" if len(invalid) > _MAX_LISTED else ""
    return f"{len(invalid)} character(s) not allowed in a {kind} sequence: {listed}{more}"


def _protein_card(sequence: str) -> tuple[dict, list[str]]:
    from Bio.SeqUtils.ProtParam import ProteinAnalysis

    excluded = {ch: sequence.count(ch) for ch in sorted(set(sequence) & NONSTANDARD_AMINO_ACIDS)}
    standard = "".join(ch for ch in sequence if ch in STANDARD_AMINO_ACIDS)
    warnings = []
    if excluded:
        names = ", ".join(f"{count} {ch}" for ch, count in excluded.items())
        warnings.append(f"non-standard/ambiguous residues ({names}) excluded from computed properties")
    analysis = ProteinAnalysis(standard)
    helix, turn, sheet = analysis.secondary_structure_fraction()
    reduced, cystines = analysis.molar_extinction_coefficient()
    instability = analysis.instability_index() if len(standard) >= 2 else None
    card = {
        "length": len(sequence),
        "molecular_weight": analysis.molecular_weight(),
        "isoelectric_point": analysis.isoelectric_point(),
        "charge_at_ph7": analysis.charge_at_pH(7.0),
        "gravy": analysis.gravy(),
        "instability_index": instability,
        "stable": None if instability is None else instability < 40,  # Guruprasad 1990 threshold
        "aromaticity": analysis.aromaticity(),
        "extinction_coefficient_reduced": reduced,
        "extinction_coefficient_cystines": cystines,
        "helix_fraction": helix,
        "turn_fraction": turn,
        "sheet_fraction": sheet,
        "composition": {ch: sequence.count(ch) for ch in sorted(set(sequence))},
        "excluded_residues": excluded,
    }
    return card, warnings


def _nucleotide_card(sequence: str, kind: str) -> dict:
    from Bio.Seq import Seq
    from Bio.SeqUtils import gc_fraction, molecular_weight

    seq = Seq(sequence)
    try:
        weight = molecular_weight(seq, "DNA" if kind == "dna" else "RNA")
    except ValueError:  # Biopython has no single mass for ambiguity codes such as N
        weight = None
    reverse = seq.reverse_complement() if kind == "dna" else seq.reverse_complement_rna()
    frames = []  # forward frames +1, +2, +3 in order (a list: JSON object keys cannot be ints)
    for frame in range(3):
        usable = (len(sequence) - frame) // 3 * 3  # whole codons only (avoids Biopython's partial-codon warning)
        frames.append(str(seq[frame : frame + usable].translate()) if usable else "")
    return {
        "length": len(sequence),
        "gc_content": gc_fraction(seq, ambiguous="remove"),
        "molecular_weight": weight,
        "reverse_complement": str(reverse),
        "translation_frames": frames,
        "composition": {ch: sequence.count(ch) for ch in sorted(set(sequence))},
    }


def _check_record(record: FastaRecord, kind: str, record_count: int, card: bool) -> SequenceReport:
    header, raw = record.header, record.raw
    sequence = clean_sequence(record.masked)
    warnings: list[str] = []

    def fail(error: str, chosen: str | None = None, invalid=()) -> SequenceReport:
        return SequenceReport(
            ok=False, kind=chosen, sequence=sequence, error=error, header=header,
            invalid_residues=tuple(invalid), record_count=record_count, warnings=tuple(warnings), input=raw,
        )  # fmt: skip

    if not sequence:
        return fail("empty sequence: no residues found" + (f" in record '{header}'" if header else ""))
    if len(sequence) > MAX_RESIDUES:
        return fail(f"sequence has {len(sequence)} residues; the limit is {MAX_RESIDUES}")
    chosen = classify_sequence(sequence) if kind == "auto" else kind
    if chosen == "protein" and sequence.endswith("*"):
        sequence = sequence[:-1]
        warnings.append("trailing stop '*' removed")
        if not sequence:
            return fail("empty sequence: only a stop '*'", chosen)
    if chosen == "protein":
        invalid = _invalid(record, sequence, STANDARD_AMINO_ACIDS | NONSTANDARD_AMINO_ACIDS)
    else:
        invalid = _invalid(record, sequence, (_DNA if chosen == "dna" else _RNA) | _NUCLEOTIDE_AMBIGUITY)
    if invalid:
        return fail(_describe_invalid(invalid, chosen, record.multiline()), chosen, invalid)
    properties: dict = {}
    if chosen == "protein":
        if not set(sequence) & STANDARD_AMINO_ACIDS:
            return fail("no standard amino acid left to analyse (only B, Z, J, X, U or O)", chosen)
        if reads_like_prose(sequence, record.masked):
            warnings.append(_PROSE_WARNING)
        if card:
            properties, extra = _protein_card(sequence)
            warnings.extend(extra)
    elif card:
        properties = _nucleotide_card(sequence, chosen)
    return SequenceReport(
        ok=True, kind=chosen, sequence=sequence, properties=properties, header=header,
        record_count=record_count, warnings=tuple(warnings), input=raw,
    )  # fmt: skip


def validated_kind(kind: str) -> None:
    """Raise ``TypeError`` / ``ValueError`` unless ``kind`` is one of "auto", "protein", "dna", "rna"."""
    require_str(kind, "kind")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")


def check_fasta(text: str, kind: str = "auto", *, properties: bool = True) -> list[SequenceReport]:
    """Check every record of a FASTA paste (headerless text counts as one record).

    Args:
        text: FASTA text, or a bare sequence; whitespace, digits and line numbers are ignored.
        kind: "protein", "dna", "rna", or "auto" to classify each record.
        properties: Compute the property cards (set False to validate only).

    Returns:
        One ``SequenceReport`` per record (one failed report when the paste is empty or too long).

    Raises:
        TypeError: If ``text`` or ``kind`` is not a str.
        ValueError: If ``kind`` is not one of the names above.
    """
    require_str(text)
    validated_kind(kind)
    if len(text) > MAX_SEQUENCE_TEXT:
        return [
            SequenceReport(
                ok=False,
                kind=None,
                sequence="",
                error=f"input is {len(text)} characters long; the limit is {MAX_SEQUENCE_TEXT}",
                input=text[:_ECHOED_WHEN_REFUSED],
            )  # fmt: skip
        ]
    return check_records(text.splitlines(keepends=True), kind, properties=properties, echo=text)


def check_records(
    lines: Iterable[str],
    kind: str,
    *,
    properties: bool,
    echo: str,
    max_records: int | None = None,
    stop_early: bool = False,
) -> list[SequenceReport]:
    """Check the FASTA records of ``lines`` (text with line ends), refusing more than ``max_records`` records.

    Records are split lazily, so a file's lines can be streamed in. No record is checked when there are too
    many; the count in the message is exact unless ``stop_early`` (files: stop reading at the first record
    over the limit).

    Args:
        lines: The text's lines with their line ends.
        kind: "protein", "dna", "rna" or "auto".
        properties: Compute the property cards.
        echo: What a refused or empty input reports as its ``input`` (shortened when refused).
        max_records: The record limit (``MAX_FASTA_RECORDS`` when None).
        stop_early: Stop at record ``max_records + 1`` instead of counting them all.
    """
    max_records = MAX_FASTA_RECORDS if max_records is None else max_records
    records: list[FastaRecord] = []
    count = 0
    for record in split_records(lines):
        count += 1
        if count <= max_records:
            records.append(record)
        elif stop_early:
            break
    if count > max_records:
        counted = f"more than {max_records}" if stop_early else str(count)
        error = f"input has {counted} FASTA records; the limit is {max_records}"
        return [
            SequenceReport(
                ok=False,
                kind=None,
                sequence="",
                error=error,
                record_count=count,
                input=echo[:_ECHOED_WHEN_REFUSED],
            )  # fmt: skip
        ]
    if not records:  # nothing but whitespace, digits or comments: one empty record
        records = [FastaRecord(None, echo, " " * len(echo), 1)]
    return [_check_record(record, kind, len(records), properties) for record in records]


def check_sequence(text: str, kind: str = "auto", *, properties: bool = True) -> SequenceReport:
    """Check one protein / DNA / RNA sequence and compute its property card.

        Accepts a raw sequence or FASTA (for several records the first is checked, ``record_count`` says how many
        there were, and a warning points to ``check_fasta``). Whitespace, digits and line numbers are stripped,
        ASCII letters upper-cased. Invalid characters are reported where the user typed them: "'!' at 16" (1-based,
    counting every typed character) for one line, "'!' at line 3, column 7" for several lines; the cleaned-sequence
    position is kept in ``invalid_residues``. A protein that reads like English prose gets a warning.

        Protein card keys: length, molecular_weight, isoelectric_point, charge_at_ph7, gravy, instability_index,
        stable, aromaticity, extinction_coefficient_reduced, extinction_coefficient_cystines, helix_fraction,
        turn_fraction, sheet_fraction, composition, excluded_residues (see the module docstring for the policy).
        DNA/RNA card keys: length, gc_content, molecular_weight (None with ambiguity codes), reverse_complement,
        translation_frames (a list: frames +1, +2, +3), composition.

        Args:
            text: The sequence or FASTA text.
            kind: "protein", "dna", "rna", or "auto" (see ``classify_sequence``).
            properties: Compute the property card (set False to validate only).

        Returns:
            A ``SequenceReport``.

        Raises:
            TypeError: If ``text`` or ``kind`` is not a str.
            ValueError: If ``kind`` is not one of the names above.
    """
    reports = check_fasta(text, kind, properties=properties)
    first = reports[0]
    if len(reports) > 1:
        note = f"{len(reports)} records found; only the first is shown (use check_fasta for all)"
        return replace(first, warnings=(*first.warnings, note))
    return first
