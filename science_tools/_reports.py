"""Frozen result types returned by the public functions (no RDKit or Biopython import here).

Each one has ``to_dict()`` (JSON-safe, shared key vocabulary) and ``display_rows()`` (labels with units) from
``ReportMixin``; the key tables are in ``docs/science_tools.md``.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._schema import ReportMixin


__all__ = ["ConformerReport", "MoleculeReport", "SequenceReport", "Span"]


@dataclass(frozen=True)
class MoleculeReport(ReportMixin):
    """What ``check_smiles`` / ``check_molecule`` found out about one molecule.

    Attributes:
        ok: True when the input parsed and sanitised.
        input: The text as given.
        input_format: "smiles", "selfies", "inchi" or "molblock".
        canonical_smiles: RDKit canonical isomeric SMILES, or None when not ok.
        formula: Molecular formula (Hill order, charge suffix), or None when not ok.
        error: A readable reason taken from RDKit's diagnostics, or None when ok.
        error_position: 0-based character offset in ``input`` the error points at, when known.
        error_atoms: RDKit atom indices the problem involves (valence, kekulisation), when known.
        descriptors: Molecular descriptors (see ``DESCRIPTOR_NAMES``); empty when not ok.
        warnings: Non-fatal notes (e.g. "input had surrounding whitespace").
    """

    ok: bool
    input: str
    input_format: str = "smiles"
    canonical_smiles: str | None = None
    formula: str | None = None
    error: str | None = None
    error_position: int | None = None
    error_atoms: tuple[int, ...] = ()
    descriptors: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "molecule"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("canonical_smiles", "formula", "descriptors", "error", "warnings")


@dataclass(frozen=True)
class SequenceReport(ReportMixin):
    """What ``check_sequence`` found out about one protein / DNA / RNA sequence.

    Attributes:
        ok: True when the sequence is non-empty, within limits and every residue is allowed.
        kind: "protein", "dna" or "rna" (the detected or requested kind); None when nothing to classify.
        sequence: The cleaned sequence (upper case; whitespace, digits and the FASTA header removed).
        error: A readable reason naming offending characters and their 1-based positions, or None.
        properties: ProtParam card (protein) or nucleotide card (DNA/RNA); empty when not ok.
        header: The FASTA header line without ">" (None for a bare sequence).
        invalid_residues: ``(position, character)`` pairs, 1-based positions in ``sequence``.
        record_count: Number of FASTA records in the input (this report describes the first).
        warnings: Non-fatal notes (ambiguous residues excluded, trailing stop removed, ...).
        input: This record's text as typed: from its ">" header line up to the next header (the whole text
            for a bare sequence).
    """

    ok: bool
    kind: str | None
    sequence: str
    error: str | None = None
    properties: dict = field(default_factory=dict)
    header: str | None = None
    invalid_residues: tuple[tuple[int, str], ...] = ()
    record_count: int = 1
    warnings: tuple[str, ...] = ()
    input: str = ""

    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("kind", "header", "properties", "record_count", "error", "warnings")

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        wire["invalid_residues"] = [
            {"position": position, "character": character} for position, character in self.invalid_residues
        ]
        return wire


@dataclass(frozen=True)
class ConformerReport(ReportMixin):
    """A 3D conformer from ``embed_conformer``.

    Attributes:
        ok: True when embedding (and force-field optimisation) succeeded.
        molblock: V2000 MOL block with explicit hydrogens and 3D coordinates ("" when not ok).
        error: A readable reason when not ok.
        forcefield: "MMFF94", "UFF" or "none" (no parameters for either; ETKDG geometry only).
        energy: Final force-field energy in kcal/mol, when a force field ran.
        seed: The random seed used (same seed and input give the same coordinates).
        warnings: Non-fatal notes (e.g. "optimisation did not converge").
        input: The SMILES as given.
    """

    ok: bool
    molblock: str = ""
    error: str | None = None
    forcefield: str | None = None
    energy: float | None = None
    seed: int = 0
    warnings: tuple[str, ...] = ()
    input: str = ""

    REPORT_KIND: ClassVar[str] = "conformer"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("forcefield", "energy", "seed", "error", "warnings")


@dataclass(frozen=True)
class Span(ReportMixin):
    """A validated piece of science inside free text: ``text[start:end] == span.text``.

    Attributes:
        kind: "smiles", "reaction", "protein", "dna" or "formula".
        start: 0-based start offset in the scanned text.
        end: End offset (exclusive).
        text: The matched characters.
    """

    kind: str
    start: int
    end: int
    text: str

    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("kind", "text")
