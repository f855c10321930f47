"""Frozen result types returned by the public functions (no RDKit or Biopython import here).

Each one has ``to_dict()`` (JSON-safe, shared key vocabulary) and ``display_rows()`` (labels with units) from
``ReportMixin``; the key tables are in ``docs/science_tools.md``.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, NamedTuple

from ._schema import ReportMixin


__all__ = [
    "ConformerReport",
    "InvalidResidue",
    "MoleculeReport",
    "ReactionComponent",
    "ReactionReport",
    "SequenceReport",
    "Span",
]


class InvalidResidue(NamedTuple):
    """A character a sequence may not contain, and where the user typed it.

    Attributes:
        position: 1-based position in the cleaned sequence (whitespace, digits and the header removed).
        character: The character as typed.
        input_position: 1-based position in the record's ``input`` (the text as typed).
        line: 1-based line in the whole text given to ``check_sequence`` / ``check_fasta`` (or the file).
        column: 1-based column in that line.
    """

    position: int
    character: str
    input_position: int
    line: int
    column: int


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
        invalid_residues: ``InvalidResidue`` entries: the character, its 1-based position in ``sequence`` and
            where it was typed (position in ``input``, line and column).
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
    invalid_residues: tuple[InvalidResidue, ...] = ()
    record_count: int = 1
    warnings: tuple[str, ...] = ()
    input: str = ""

    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("kind", "header", "properties", "record_count", "error", "warnings")

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        wire["invalid_residues"] = [residue._asdict() for residue in self.invalid_residues]
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


@dataclass(frozen=True)
class ReactionComponent:
    """One molecule of a reaction SMILES.

    Attributes:
        role: "reactant", "agent" or "product".
        index: 1-based number within its role ("product 2").
        start: 0-based offset of the molecule in the reaction's ``input``.
        text: The molecule as typed.
        ok: True when RDKit accepts it.
        canonical_smiles: RDKit canonical SMILES, when ok.
        formula: Molecular formula, when ok.
        molecular_weight: Average molecular weight in g/mol, when ok.
        error: Why RDKit refuses it (positions inside the message count from the molecule's first character).
        error_position: 0-based offset of the problem in the reaction's ``input``, when known.
    """

    role: str
    index: int
    start: int
    text: str
    ok: bool
    canonical_smiles: str | None = None
    formula: str | None = None
    molecular_weight: float | None = None
    error: str | None = None
    error_position: int | None = None


@dataclass(frozen=True)
class ReactionReport(ReportMixin):
    """What ``check_reaction`` found out about a reaction SMILES ``reactants>agents>products``.

    Attributes:
        ok: True when the text has the reaction form and every molecule in it is valid.
        input: The text as given.
        canonical_smiles: The reaction rebuilt from each molecule's canonical SMILES, when ok.
        reactants: The molecules left of the first ``>``.
        agents: The molecules between the two ``>`` (catalysts, solvents, conditions); often empty.
        products: The molecules right of the second ``>``.
        error: The first problem: the form, or which molecule (role, number, position) is invalid and why.
        error_position: 0-based offset of that problem in ``input``, when known.
        warnings: Non-fatal notes.
    """

    ok: bool
    input: str
    canonical_smiles: str | None = None
    reactants: tuple[ReactionComponent, ...] = ()
    agents: tuple[ReactionComponent, ...] = ()
    products: tuple[ReactionComponent, ...] = ()
    error: str | None = None
    error_position: int | None = None
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "reaction"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = (
        "canonical_smiles",
        "reactants",
        "agents",
        "products",
        "error",
        "warnings",
    )

    def components(self) -> tuple[ReactionComponent, ...]:
        """Reactants, agents and products in reading order."""
        return (*self.reactants, *self.agents, *self.products)

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        for role in ("reactants", "agents", "products"):
            wire[role] = [asdict(component) for component in wire[role]]
        return wire
