"""What molecule and sequence files add to a prompt: one line per record, saying where it came from.

A molecule becomes ``caffeine (drugs.sdf, record 1) → <SMILES>…</SMILES>`` (the ``.smi`` name column, the SDF title
or name field, as ``science_tools.NamedMolecule.provenance()`` words it); a protein becomes
``ubiquitin (proteins.fasta, record 1) → <FASTA>…</FASTA>`` (the FASTA header kept; a PDB chain is named by its file
and chain), so the model, the chat bubble and the export all say which file and record each structure came from.
DNA and RNA stay plain letters: Intern-S1's ``<FASTA>`` vocabulary is for proteins.

The files are read by ``science_tools``' bounded readers (size, record and length limits checked while streaming).
"""

from __future__ import annotations

from pathlib import Path

import science_tools
from app.chat.errors import InputError


__all__ = ["ARROW", "first_molecule", "molecule_file_lines", "provenance_labels", "sequence_file_lines"]

ARROW = " → "  # between a record's provenance and its structure, in the prompt line
# The start of check_sequence's warning for letters that read like English (docs/science_tools.md, "Reads like
# English" warning). Typed into the sequence box it stays a warning; in an attached file it means the wrong file.
_PROSE_WARNING = "this reads like English words"


def _refused(report, name: str, what: str) -> InputError:
    return InputError(report.error or f"no valid {what} could be read from '{name}'")


def molecule_file_lines(path: str, name: str | None = None, max_chars: int | None = None) -> list[str]:
    """One prompt line per molecule of a .smi, .sdf or .mol file: ``provenance → <SMILES>canonical</SMILES>``.

    ``max_chars`` bounds the SMILES the file may add (default: science_tools' file budget); reading stops at the
    first record over it, so a 300,000-line .smi is never parsed whole.

    Raises:
        InputError: naming the file and the first problem (a limit, an invalid record).
    """
    shown = name or Path(path).name
    report = science_tools.read_molecule_file(path, name=shown, max_smiles_chars=max_chars)
    if not report.ok or not report.molecules:
        raise _refused(report, shown, "molecule")
    return [
        f"{molecule.provenance()}{ARROW}<SMILES>{molecule.molecule.canonical_smiles}</SMILES>"
        for molecule in report.molecules
    ]


def _sequence_label(record: science_tools.SequenceReport, number: int, file_name: str) -> str:
    header = (record.header or "").strip()
    if header and file_name in header:  # a structure's chain: "designed_peptides.pdb chain A"
        return header
    where = f"{file_name}, record {number}"
    return f"{header} ({where})" if header else where


def sequence_file_lines(path: str, name: str | None = None, max_chars: int | None = None) -> list[str]:
    """One prompt line per record of a FASTA or PDB / mmCIF file: ``header (file, record n) → sequence``.

    Proteins are wrapped in ``<FASTA>`` tags (Intern-S1's protein sub-vocabulary); DNA and RNA stay plain.

    Raises:
        InputError: naming the file and the first problem (not FASTA, a limit, an invalid record).
    """
    shown = name or Path(path).name
    report = science_tools.read_sequence_file(path, name=shown, properties=False, max_chars=max_chars)
    if not report.ok or not report.records:
        raise _refused(report, shown, "sequence")
    lines = []
    for number, record in enumerate(report.records, start=1):
        if any(warning.startswith(_PROSE_WARNING) for warning in record.warnings):
            raise InputError(
                f"record {number} of '{shown}' reads like English words, not a protein sequence; attach a FASTA file "
                "(each record starts with a '>' header line) or a PDB / mmCIF structure"
            )
        kind = "protein" if record.kind == "protein" else "text"
        sequence = science_tools.tag_for_tokenizer(record.sequence, kind) if kind == "protein" else record.sequence
        lines.append(f"{_sequence_label(record, number, shown)}{ARROW}{sequence}")
    return lines


def first_molecule(path: str, name: str | None = None, max_chars: int | None = None) -> str:
    """The canonical SMILES of the first molecule of a .smi, .sdf or .mol file (the SMILES panel's upload)."""
    shown = name or Path(path).name
    report = science_tools.read_molecule_file(path, name=shown, max_smiles_chars=max_chars)
    valid = [molecule for molecule in report.molecules if molecule.ok]
    if not valid:
        raise _refused(report, shown, "molecule")
    return valid[0].molecule.canonical_smiles


def provenance_labels(text: str) -> list[str]:
    """The provenance part of each prompt line an attachment added ("caffeine (drugs.sdf, record 1)")."""
    return [line.split(ARROW, 1)[0] for line in text.splitlines() if ARROW in line]
