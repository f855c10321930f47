"""Bounded, provenance-keeping readers for molecule files (.smi, .sdf, .mol) and FASTA files.

Every limit is checked before or while the file streams in, never after parsing it all: the size from the
file's metadata before the first byte is read (and again while reading, for files that grow or lie), the line
length as each line is read, and the record count and output budget as each record is finished. So a
5.6 MB / 300 000-line .smi stops at record 1 001 instead of being parsed whole. Names travel with the molecules
(.smi name column, SDF title line or name field) and FASTA headers with the sequences.
"""

import itertools
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ._limits import (
    MAX_FASTA_RECORDS,
    MAX_MOLECULE_FILE_BYTES,
    MAX_MOLECULE_FILE_RECORDS,
    MAX_MOLECULE_FILE_SMILES_CHARS,
    MAX_MOLECULE_TEXT,
    MAX_SEQUENCE_FILE_BYTES,
    MAX_SEQUENCE_TEXT,
)
from ._molecules import check_molecule, check_smiles
from ._read_reports import MoleculeFileReport, NamedMolecule, SequenceFileReport
from ._reports import MoleculeReport


__all__ = [
    "MOLECULE_FILE_FORMATS",
    "SEQUENCE_FILE_FORMATS",
    "FileRefused",
    "open_regular_file",
    "read_molecule_file",
    "read_sequence_file",
]

MOLECULE_FILE_FORMATS = {".smi": "smi", ".smiles": "smi", ".sdf": "sdf", ".sd": "sdf", ".mol": "mol"}
SEQUENCE_FILE_FORMATS = dict.fromkeys((".fasta", ".fa", ".faa", ".fna", ".ffn", ".frn", ".fas"), "fasta")
_SMI_HEADER_WORDS = frozenset({"smiles", "smi", "canonical_smiles", "isomeric_smiles"})
_SNIFF_BYTES = 8192
_SDF_NAME_FIELDS = ("name", "title", "id", "compound_name", "molecule_name")


class FileRefused(Exception):
    """The file breaks a limit or is not text; the message is for the user."""


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def open_regular_file(path: Path, shown: str, max_bytes: int):
    """Open ``path`` for binary reading after checking from its metadata that it is a regular file in limits."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise FileRefused(f"'{shown}' could not be opened ({error.strerror or type(error).__name__})") from None
    except (ValueError, UnicodeError):  # a NUL byte or a lone surrogate in the path: no such file can exist
        raise FileRefused(f"'{shown}' could not be opened (the path holds characters a file name cannot)") from None
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would stream forever
        handle.close()
        raise FileRefused(f"'{shown}' is not a regular file")
    if info.st_size > max_bytes:
        handle.close()
        raise FileRefused(f"'{shown}' is {_megabytes(info.st_size)}; the limit is {_megabytes(max_bytes)}")
    return handle


def _lines(path: Path, shown: str, max_bytes: int, max_line: int, max_chars: int | None = None) -> Iterator[str]:
    """Decoded lines (line ends kept) of a UTF-8 text file, refusing as soon as a limit is crossed."""
    read = chars = 0
    with open_regular_file(path, shown, max_bytes) as handle:
        if b"\0" in handle.read(_SNIFF_BYTES):  # binary files (images, archives) say so before any decoding
            raise FileRefused(f"'{shown}' is not a text file (it contains NUL bytes)")
        handle.seek(0)
        for number in itertools.count(1):
            raw = handle.readline(max_line * 4 + 1)  # a UTF-8 character is at most 4 bytes
            if not raw:
                return
            read += len(raw)
            if read > max_bytes:
                raise FileRefused(f"'{shown}' is larger than {_megabytes(max_bytes)} (the limit)")
            if b"\0" in raw:
                raise FileRefused(f"'{shown}' is not a text file (it contains NUL bytes, line {number})")
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise FileRefused(f"'{shown}' is not UTF-8 text (line {number} cannot be decoded)") from None
            if len(line.rstrip("\r\n")) > max_line:
                raise FileRefused(f"line {number} of '{shown}' is longer than {max_line:,} characters (the limit)")
            chars += len(line)
            if max_chars is not None and chars > max_chars:
                raise FileRefused(
                    f"'{shown}' has more than {max_chars:,} characters of text; the limit is {max_chars:,}"
                )
            yield line


def _source(path: str | os.PathLike, name: str | None) -> tuple[Path, str]:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be str or os.PathLike, got {type(path).__name__}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be str, got {type(name).__name__}")
    resolved = Path(path)
    return resolved, name if name is not None else resolved.name


# ---------------------------------------------------------------- molecules


def _smi_records(lines: Iterator[str], notes: list[str]) -> Iterator[tuple[int, str, str | None]]:
    """(line number, SMILES, name) per data line of a .smi file: SMILES, then an optional name (rest of line)."""
    first = True
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        smiles, *after = text.split(None, 1)  # the name is the rest of the line and may contain spaces
        rest = after[0].strip() if after else ""
        if rest.startswith("|") and "|" in rest[1:]:  # CXSMILES extension: not part of the name
            rest = rest[rest.index("|", 1) + 1 :].strip()
        if first and smiles.lower() in _SMI_HEADER_WORDS:
            notes.append(f"line {number} looks like a column header ({smiles!r}) and was skipped")
            first = False
            continue
        first = False
        yield number, smiles, rest or None


def _sdf_name(block: str) -> str | None:
    """The title line of a MOL block, else the first name-like SDF data field."""
    title = block.splitlines()[0].strip() if block.strip() else ""
    if title:
        return title
    lines = block.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith(">") and "<" in line and ">" in line[1:]:
            field = line[line.index("<") + 1 : line.rindex(">")].strip().lower()
            if field in _SDF_NAME_FIELDS and lines[index + 1].strip():
                return lines[index + 1].strip()
    return None


def _sdf_records(lines: Iterator[str], shown: str) -> Iterator[tuple[int, str, str | None]]:
    """(first line number, MOL block, name) per record, split at ``$$$$`` lines while streaming."""
    block: list[str] = []
    size = 0
    start = 1
    for number, line in enumerate(lines, start=1):
        if line.rstrip("\r\n").rstrip() == "$$$$":
            text = "".join(block)
            if text.strip():
                yield start, text, _sdf_name(text)
            block, size, start = [], 0, number + 1
            continue
        size += len(line)
        if size > MAX_MOLECULE_TEXT:
            raise FileRefused(
                f"the record starting on line {start} of '{shown}' is longer than {MAX_MOLECULE_TEXT:,} characters"
            )
        block.append(line)
    text = "".join(block)
    if text.strip():
        yield start, text, _sdf_name(text)


def read_molecule_file(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    max_records: int | None = None,
    max_smiles_chars: int | None = None,
) -> MoleculeFileReport:
    """Read every molecule of a .smi, .sdf or .mol file, keeping names and positions, within limits.

    .smi: one SMILES per line, optionally followed by whitespace and a name; ``#`` lines, blank lines and a
    "smiles name" header line are skipped. .sdf / .mol: records split at ``$$$$``; the name is the title line
    (or a ``<Name>`` / ``<Title>`` / ``<ID>`` data field when the title is blank). Descriptors are not computed
    (call ``check_smiles`` on a molecule's canonical SMILES for its card).

    Args:
        path: The file. Its suffix chooses the format (.smi/.smiles, .sdf/.sd, .mol).
        name: The file name to report (default: the file's own name), e.g. the original name of an upload.
        max_bytes: File size limit (default ``MAX_MOLECULE_FILE_BYTES``), checked before reading.
        max_records: Molecule limit (default ``MAX_MOLECULE_FILE_RECORDS``), checked as records arrive.
        max_smiles_chars: Limit on the total canonical SMILES characters of the molecules (default
            ``MAX_MOLECULE_FILE_SMILES_CHARS``), e.g. the room left in a prompt; checked after each molecule.

    Returns:
        A ``MoleculeFileReport``. A refused file has ``ok=False``, the reason and no molecules; an invalid record
        makes ``ok`` False too, but every molecule read is listed with its own ``ok``.

    Raises:
        TypeError: If ``path`` is not a str or path-like, or ``name`` is not a str.
    """
    resolved, shown = _source(path, name)
    fmt = MOLECULE_FILE_FORMATS.get(resolved.suffix.lower()) or MOLECULE_FILE_FORMATS.get(Path(shown).suffix.lower())
    if fmt is None:
        accepted = ", ".join(MOLECULE_FILE_FORMATS)
        return MoleculeFileReport(False, shown, "unknown", error=f"'{shown}' is not a molecule file ({accepted})")
    limit = MAX_MOLECULE_FILE_RECORDS if max_records is None else max_records
    budget = MAX_MOLECULE_FILE_SMILES_CHARS if max_smiles_chars is None else max_smiles_chars
    notes: list[str] = []
    molecules: list[NamedMolecule] = []
    used = 0
    try:
        lines = _lines(resolved, shown, MAX_MOLECULE_FILE_BYTES if max_bytes is None else max_bytes, MAX_MOLECULE_TEXT)
        records = _smi_records(lines, notes) if fmt == "smi" else _sdf_records(lines, shown)
        for line, text, label in records:
            if len(molecules) >= limit:
                raise FileRefused(f"'{shown}' has more than {limit:,} molecules; the limit is {limit:,}")
            report: MoleculeReport = (
                check_smiles(text, descriptors=False) if fmt == "smi" else check_molecule(text, "molblock")
            )
            used += len(report.canonical_smiles or "")
            if used > budget:
                raise FileRefused(
                    f"the molecules of '{shown}' come to more than {budget:,} characters of SMILES; the limit is {budget:,}"
                )
            molecules.append(NamedMolecule(report, label, shown, len(molecules) + 1, line))
    except FileRefused as refused:
        return MoleculeFileReport(False, shown, fmt, error=str(refused), warnings=tuple(notes))
    if not molecules:
        expected = "one SMILES per line" if fmt == "smi" else "MOL records ending in M  END"
        return MoleculeFileReport(
            False, shown, fmt, error=f"no molecule found in '{shown}' (expected {expected})", warnings=tuple(notes)
        )
    bad = next((m for m in molecules if not m.ok), None)
    error = None if bad is None else f"{_where(bad)} of '{shown}' is not a valid molecule: {bad.molecule.error}"
    return MoleculeFileReport(bad is None, shown, fmt, tuple(molecules), error, tuple(notes))


def _where(molecule: NamedMolecule) -> str:
    by_line = molecule.source.lower().endswith((".smi", ".smiles"))
    return f"line {molecule.line}" if by_line else f"record {molecule.record} (line {molecule.line})"


# ---------------------------------------------------------------- sequences


def read_sequence_file(
    path: str | os.PathLike,
    kind: str = "auto",
    *,
    name: str | None = None,
    properties: bool = True,
    max_bytes: int | None = None,
    max_records: int | None = None,
    max_chars: int | None = None,
) -> SequenceFileReport:
    """Read every record of a FASTA file, keeping the headers, within limits.

    Args:
        path: The file: FASTA (.fasta, .fa, .faa, .fna, .ffn, .frn, .fas), or a structure (.pdb, .ent, .cif,
            .mmcif), read with ``read_structure`` into one record per chain headed "1ubq.pdb chain A".
        kind: "protein", "dna", "rna" or "auto" (per record), as for ``check_fasta``.
        name: The file name to report (default: the file's own name).
        properties: Compute each record's property card.
        max_bytes: File size limit (default ``MAX_SEQUENCE_FILE_BYTES``), checked before reading.
        max_records: Record limit (default ``MAX_FASTA_RECORDS``); reading stops at the first record over it.
        max_chars: Limit on the characters of text read (default ``MAX_SEQUENCE_TEXT``), checked per line.

    Returns:
        A ``SequenceFileReport``; error positions in its records count lines from the top of the file.

    Raises:
        TypeError: If ``path`` is not a str or path-like, or ``name`` / ``kind`` is not a str.
        ValueError: If ``kind`` is not one of the names above.
    """
    from ._sequences import check_records, validated_kind  # lazy: Biopython only when a file is read
    from ._structures import STRUCTURE_FORMATS

    resolved, shown = _source(path, name)
    validated_kind(kind)
    suffixes = (resolved.suffix.lower(), Path(shown).suffix.lower())
    if any(suffix in STRUCTURE_FORMATS for suffix in suffixes):
        return _structure_sequences(resolved, shown, kind, properties)
    if not any(suffix in SEQUENCE_FILE_FORMATS for suffix in suffixes):
        accepted = ", ".join([*SEQUENCE_FILE_FORMATS, *STRUCTURE_FORMATS])
        return SequenceFileReport(
            False, shown, "unknown", error=f"'{shown}' is not a FASTA or structure file ({accepted})"
        )
    chars = MAX_SEQUENCE_TEXT if max_chars is None else max_chars
    limit = MAX_FASTA_RECORDS if max_records is None else max_records
    try:
        lines = _lines(resolved, shown, MAX_SEQUENCE_FILE_BYTES if max_bytes is None else max_bytes, chars, chars)
        records = check_records(lines, kind, properties=properties, echo="", max_records=limit, stop_early=True)
    except FileRefused as refused:
        return SequenceFileReport(False, shown, "fasta", error=str(refused))
    if records[0].record_count > limit:
        return SequenceFileReport(
            False, shown, "fasta", error=f"'{shown}' has more than {limit:,} records; the limit is {limit:,}"
        )
    if len(records) == 1 and not records[0].input:  # check_records' stand-in for a file with no record at all
        error = f"no sequence found in '{shown}' (expected FASTA records starting with '>')"
        return SequenceFileReport(False, shown, "fasta", error=error)
    bad = next((record for record in records if not record.ok), None)
    error = None
    if bad is not None:
        which = f"record '{bad.header}'" if bad.header else "the sequence"
        error = f"{which} of '{shown}' is not valid: {bad.error}"
    return SequenceFileReport(bad is None, shown, "fasta", tuple(records), error)


def _structure_sequences(path: Path, shown: str, kind: str, properties: bool) -> SequenceFileReport:
    """One record per polymer chain of a PDB / mmCIF file, headed "<file> chain <id>"."""
    from ._sequences import check_sequence
    from ._structures import read_structure

    structure = read_structure(path, name=shown)
    if not structure.ok:
        return SequenceFileReport(False, shown, structure.format, error=structure.error, warnings=structure.warnings)
    records = tuple(
        check_sequence(chain.fasta, chain.kind if kind == "auto" else kind, properties=properties)
        for chain in structure.chains
    )
    bad = next((record for record in records if not record.ok), None)
    error = None if bad is None else f"{bad.header} is not a valid sequence: {bad.error}"
    return SequenceFileReport(bad is None, shown, structure.format, records, error, structure.warnings)
