"""Display labels (lab language, with units) and value formatting for every key a report dict can hold.

One place for the words and units that cards, panels and exports show next to ``to_dict()`` values. Machine
keys stay in ``to_dict()``; labels are for people. A key whose meaning depends on the report kind (a protein's
length is in amino acids, DNA's in nucleotides) has a per-kind label in ``KIND_LABELS``.

Lengths of DNA and RNA are given in nucleotides (nt), not base pairs: a pasted sequence is one strand, and its
molecular weight (Biopython, ``double_stranded=False``) is the single strand's, so "bp" would promise a
duplex the numbers do not describe.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


__all__ = ["KIND_LABELS", "LABELS", "format_value", "label"]

LABELS: Mapping[str, str] = MappingProxyType(
    {
        # shared vocabulary
        "kind": "Type",
        "ok": "Valid",
        "input": "Input",
        "error": "Error",
        "warnings": "Notes",
        # molecules
        "input_format": "Input format",
        "canonical_smiles": "Canonical SMILES",
        "formula": "Molecular formula",
        "error_position": "Error position (0-based)",
        "error_atoms": "Atoms involved",
        "descriptors": "Descriptors",
        "molecular_weight": "Molecular weight (g/mol)",
        "exact_mass": "Exact mass (Da)",
        "logp": "logP (Crippen)",
        "tpsa": "TPSA (Å²)",
        "hbd": "H-bond donors",
        "hba": "H-bond acceptors",
        "rotatable_bonds": "Rotatable bonds",
        "rings": "Rings",
        "aromatic_rings": "Aromatic rings",
        "heavy_atoms": "Heavy atoms",
        "formal_charge": "Formal charge",
        "qed": "QED (drug-likeness, 0–1)",
        "lipinski_violations": "Lipinski rule-of-five violations",
        "lipinski_pass": "Passes Lipinski's rule of five",
        # sequences
        "sequence": "Sequence",
        "header": "FASTA header",
        "invalid_residues": "Characters not allowed",
        "position": "Position in the sequence",
        "character": "Character",
        "input_position": "Position as typed",
        "line": "Line",
        "column": "Column",
        "record_count": "FASTA records in the input",
        "properties": "Properties",
        "length": "Length",
        "isoelectric_point": "Isoelectric point (pI)",
        "charge_at_ph7": "Charge at pH 7",
        "gravy": "GRAVY (hydropathy)",
        "instability_index": "Instability index",
        "stable": "Stable (instability index < 40)",
        "aromaticity": "Aromaticity (F + W + Y fraction)",
        "extinction_coefficient_reduced": "Extinction coefficient at 280 nm, Cys reduced (M⁻¹ cm⁻¹)",
        "extinction_coefficient_cystines": "Extinction coefficient at 280 nm, cystines (M⁻¹ cm⁻¹)",
        "helix_fraction": "Helix-prone residues (%)",
        "turn_fraction": "Turn-prone residues (%)",
        "sheet_fraction": "Sheet-prone residues (%)",
        "composition": "Composition",
        "excluded_residues": "Excluded from calculations",
        "gc_content": "GC content (%)",
        "reverse_complement": "Reverse complement",
        "translation_frames": "Translation, frame",
        # reactions (the singular role names label one molecule's row: "Reactant 1")
        "reactants": "Reactants",
        "agents": "Agents (above the arrow)",
        "products": "Products",
        "reactant": "Reactant",
        "agent": "Agent",
        "product": "Product",
        "role": "Role",
        "index": "Number",
        # files
        "format": "File format",
        "molecules": "Molecules",
        "records": "Records",
        "name": "Name",
        "source": "File",
        "record": "Record in the file",
        # structures
        "models": "Models",
        "atoms": "Atoms (first model)",
        "chains": "Chains",
        "chain": "Chain",
        "ligands": "Ligands (HETATM, no water)",
        "id": "Chain ID",
        "fasta": "FASTA",
        "count": "Count",
        # names
        "opsin_smiles": "SMILES as written by OPSIN",
        # conformers
        "molblock": "MOL block (3D)",
        "forcefield": "Force field",
        "energy": "Force-field energy (kcal/mol)",
        "seed": "Random seed",
        # spans
        "start": "Start offset",
        "end": "End offset",
        "text": "Text",
    }
)

KIND_LABELS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("protein", "length"): "Length (aa)",
        ("dna", "length"): "Length (nt)",
        ("rna", "length"): "Length (nt)",
        # Da is the biochemist's unit for macromolecules (numerically equal to g/mol)
        ("protein", "molecular_weight"): "Molecular weight (Da)",
        ("dna", "molecular_weight"): "Molecular weight, single strand (Da)",
        ("rna", "molecular_weight"): "Molecular weight (Da)",
        ("reaction", "canonical_smiles"): "Reaction SMILES (canonical)",
        ("name", "source"): "Structure from",
        ("name", "name"): "Chemical name",
        ("molecule_file", "input"): "File",
        ("structure", "input"): "File",
        ("structure", "length"): "Length (residues)",
        ("structure", "name"): "Ligand",
        ("structure", "header"): "FASTA header",
        ("sequence_file", "input"): "File",
    }
)

_KIND_NAMES = {
    "dna": "DNA",
    "rna": "RNA",
    "smiles": "SMILES",
    "inchi": "InChI",
    "selfies": "SELFIES",
    "molblock": "MOL block",
    "reaction": "Reaction SMILES",
    "smi": "SMILES list (.smi)",
    "sdf": "SDF",
    "mol": "MOL file",
    "fasta": "FASTA",
    "pdb": "PDB",
    "mmcif": "mmCIF",
    "structure": "Structure",
    "name": "Name",
    "molecule_file": "Molecule file",
    "sequence_file": "Sequence file",
}
_PERCENT = frozenset({"gc_content", "helix_fraction", "turn_fraction", "sheet_fraction"})
_DECIMALS = {
    "molecular_weight": ",.2f",
    "exact_mass": ",.4f",
    "logp": ".2f",
    "tpsa": ".1f",
    "qed": ".3f",
    "isoelectric_point": ".2f",
    "charge_at_ph7": "+.2f",
    "gravy": "+.3f",
    "instability_index": ".2f",
    "aromaticity": ".3f",
    "energy": ",.2f",
}
_NAMED_VALUES = frozenset({"kind", "input_format", "format"})  # short identifiers shown as names ("dna" → "DNA")


def label(key: str, kind: str | None = None) -> str:
    """The display label (with unit) of a report key, e.g. ``label("tpsa") == "TPSA (Å²)"``.

    Args:
        key: A key of a report's ``to_dict()``, or of its ``descriptors`` / ``properties``.
        kind: The report's ``kind`` ("molecule", "protein", "dna", "rna", …) for keys whose unit depends on it:
            ``label("length", "protein") == "Length (aa)"``, ``label("length", "dna") == "Length (nt)"``.

    Returns:
        The label.

    Raises:
        KeyError: For a key no report produces (a test checks every key reports can produce has a label).
    """
    if kind is not None and (kind, key) in KIND_LABELS:
        return KIND_LABELS[(kind, key)]
    return LABELS[key]


def _count_list(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def format_value(key: str, value: Any) -> str:
    """Format one JSON-safe report value for display: units in the label, numbers rounded for reading.

    Fractions shown as percentages (GC content, secondary-structure propensities) are multiplied by 100 here;
    ``to_dict()`` keeps them as fractions between 0 and 1.

    Args:
        key: The value's key (chooses the number format).
        value: The value from ``to_dict()``.

    Returns:
        The text to show; ``"n/a"`` for a missing number.
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in _NAMED_VALUES and isinstance(value, str):
        return _KIND_NAMES.get(value, value.capitalize())
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        spec = ".1f" if key in _PERCENT else _DECIMALS.get(key, ".4g")
        number = 100 * value if key in _PERCENT else value
        text = format(number, spec)
        return format(0.0, spec) if float(text.replace(",", "")) == 0 else text  # no "-0.00"
    if isinstance(value, Mapping):
        return _count_list(value)
    if isinstance(value, list):
        return "; ".join(format_value(key, item) for item in value) or "none"
    return str(value)
