"""Report types for what is read from files and names: molecule and sequence files, names, structures.

Split from ``_reports.py`` to keep each module small; same ``ReportMixin`` schema (see ``docs/science_tools.md``).
"""

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ._reports import MoleculeReport, SequenceReport
from ._schema import ReportMixin


__all__ = [
    "MoleculeFileReport",
    "NameReport",
    "NamedMolecule",
    "SequenceFileReport",
    "StructureChain",
    "StructureLigand",
    "StructureReport",
]


@dataclass(frozen=True)
class NamedMolecule(ReportMixin):
    """A molecule read from a file, with where it came from.

    Attributes:
        molecule: The ``MoleculeReport`` of the record (a .smi line's SMILES, an SDF/MOL record's MOL block).
        name: The .smi name column, the SDF/MOL title line, or an SDF ``<Name>``/``<Title>``/``<ID>`` data field;
            None when the file gives none.
        source: The file name (no directory).
        record: 1-based number of the molecule in the file.
        line: 1-based line on which the record starts.
    """

    molecule: MoleculeReport
    name: str | None
    source: str
    record: int
    line: int

    REPORT_KIND: ClassVar[str] = "molecule"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = (
        "name", "source", "line", "canonical_smiles", "formula", "descriptors", "error", "warnings",
    )  # fmt: skip

    @property
    def ok(self) -> bool:
        """Whether the molecule itself is valid."""
        return self.molecule.ok

    def provenance(self) -> str:
        """Where the molecule came from, for prompts, cards and exports.

        Returns:
            "aspirin (drugs.smi, line 3)" for a line of a SMILES list, "caffeine (caffeine.sdf, record 1)" for an
            SDF/MOL record; without a name just the part in parentheses.
        """
        by_line = self.source.lower().endswith((".smi", ".smiles"))
        where = f"{self.source}, line {self.line}" if by_line else f"{self.source}, record {self.record}"
        return f"{self.name} ({where})" if self.name else where

    def _wire_fields(self) -> dict[str, Any]:
        wire = self.molecule._wire_fields()
        wire.update(name=self.name, source=self.source, record=self.record, line=self.line)
        return wire


@dataclass(frozen=True)
class MoleculeFileReport(ReportMixin):
    """What ``read_molecule_file`` read from a .smi, .sdf or .mol file.

    Attributes:
        ok: True when the file was read within the limits, held at least one molecule, and every molecule is valid.
        input: The file name (no directory).
        format: "smi", "sdf" or "mol".
        molecules: Every molecule read, valid or not, in file order.
        error: Why the file was refused, or which record is invalid first ("line 3 of 'x.smi': …").
        warnings: Non-fatal notes (a header line skipped, …).
    """

    ok: bool
    input: str
    format: str
    molecules: tuple[NamedMolecule, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "molecule_file"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("input", "format", "molecules", "error", "warnings")

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        wire["molecules"] = [molecule.to_dict() for molecule in self.molecules]
        return wire


@dataclass(frozen=True)
class SequenceFileReport(ReportMixin):
    """What ``read_sequence_file`` read from a FASTA file.

    Attributes:
        ok: True when the file was read within the limits and every record is a valid sequence.
        input: The file name (no directory).
        format: "fasta".
        records: One ``SequenceReport`` per record, FASTA headers kept, in file order.
        error: Why the file was refused, or which record is invalid first.
        warnings: Non-fatal notes.
    """

    ok: bool
    input: str
    format: str
    records: tuple[SequenceReport, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "sequence_file"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("input", "format", "records", "error", "warnings")

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        wire["records"] = [record.to_dict() for record in self.records]
        return wire


@dataclass(frozen=True)
class NameReport(ReportMixin):
    """What ``name_to_structure`` made of a chemical name.

    Attributes:
        ok: True when OPSIN understood the name and RDKit accepted the structure.
        input: The name as given.
        name: The name as sent to OPSIN (surrounding whitespace removed).
        canonical_smiles: RDKit canonical SMILES of OPSIN's structure, when ok.
        formula: Molecular formula, when ok.
        source: Where the structure came from: "OPSIN".
        opsin_smiles: The SMILES exactly as OPSIN wrote it, when ok.
        error: OPSIN's own reason for a name it cannot read, or why OPSIN could not run (no Java, timeout).
        warnings: Non-fatal notes.
    """

    ok: bool
    input: str
    name: str
    canonical_smiles: str | None = None
    formula: str | None = None
    source: str = "OPSIN"
    opsin_smiles: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "name"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = ("name", "canonical_smiles", "formula", "source", "error", "warnings")

    def provenance(self) -> str:
        """For cards: 'from the name 2-acetyloxybenzoic acid, OPSIN'."""
        return f"from the name {self.name}, {self.source}"


@dataclass(frozen=True)
class StructureChain:
    """One polymer chain of a structure (first model).

    Attributes:
        id: The chain identifier ("A").
        kind: "protein", "dna" or "rna" (the majority of its residues).
        length: Observed residues (ATOM records plus common modified residues such as MSE); SEQRES is not used,
            so unresolved residues are not counted.
        sequence: One-letter sequence of those residues ("X" for an unknown residue).
        header: The FASTA header naming the file and chain: "1ubq.pdb chain A".
    """

    id: str
    kind: str
    length: int
    sequence: str
    header: str

    @property
    def fasta(self) -> str:
        """The chain as one FASTA record: ">1ubq.pdb chain A\nMQIF…"."""
        return f">{self.header}\n{self.sequence}"


@dataclass(frozen=True)
class StructureLigand:
    """A ligand: HETATM residues of one name that are neither water nor part of a chain.

    Attributes:
        name: The residue name ("HEM", "SO4").
        count: How many such residues the first model holds.
        chains: The chains they are assigned to.
    """

    name: str
    count: int
    chains: tuple[str, ...]


@dataclass(frozen=True)
class StructureReport(ReportMixin):
    """What ``read_structure`` found in a PDB or mmCIF file.

    Attributes:
        ok: True when the file parsed and holds at least one protein / nucleic-acid chain.
        input: The file name (or "pasted structure" for text).
        format: "pdb" or "mmcif".
        models: Number of models (NMR ensembles have many; chains and ligands come from the first).
        atoms: Atoms in the first model.
        chains: Polymer chains with their lengths and sequences.
        ligands: Ligands (HETATM residues other than water and modified chain residues), by name.
        error: Why the file was refused or could not be read.
        warnings: Non-fatal notes.
    """

    ok: bool
    input: str
    format: str
    models: int = 0
    atoms: int = 0
    chains: tuple[StructureChain, ...] = ()
    ligands: tuple[StructureLigand, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = ()

    REPORT_KIND: ClassVar[str] = "structure"
    DISPLAY_KEYS: ClassVar[tuple[str, ...]] = (
        "input",
        "format",
        "models",
        "atoms",
        "chains",
        "ligands",
        "error",
        "warnings",
    )

    def fasta(self) -> str:
        """Every chain as a FASTA record (headers name the file and chain), one after another."""
        return "\n".join(chain.fasta for chain in self.chains)

    def _wire_fields(self) -> dict[str, Any]:
        wire = super()._wire_fields()
        wire["chains"] = [{**asdict(chain), "fasta": chain.fasta} for chain in self.chains]
        wire["ligands"] = [asdict(ligand) for ligand in self.ligands]
        return wire
