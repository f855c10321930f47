"""What a protein / nucleic-acid structure file (PDB, mmCIF) adds to the prompt: one FASTA block per chain.

Each chain becomes a header line naming the file and the chain (``>1ubq.pdb chain A``) and its sequence; protein
sequences are wrapped in ``<FASTA>`` tags (``science_tools.tag_for_tokenizer``) so Intern-S1's tokenizer reads them
with its FASTA sub-vocabulary. The header stays outside the tags: that vocabulary is made of residue letters, and
the tokenizer expects sequences only between the tags. DNA / RNA chains stay untagged (there is no nucleotide
vocabulary). A last line lists the ligands, which a sequence cannot show.
"""

from __future__ import annotations

import science_tools
from science_tools import StructureReport


__all__ = ["structure_note", "structure_prompt_text"]


def structure_prompt_text(report: StructureReport) -> str:
    """The model's view of a structure: per chain ``>file chain X`` then the (tagged) sequence; then the ligands.

    Args:
        report: A ``read_structure`` report with ``ok`` set.
    """
    lines: list[str] = []
    for chain in report.chains:
        sequence = science_tools.tag_for_tokenizer(chain.sequence, "protein") if chain.kind == "protein" else None
        lines += [f">{chain.header}", sequence or chain.sequence]
    if report.ligands:
        ligands = ", ".join(f"{ligand.name} ×{ligand.count}" for ligand in report.ligands)
        lines.append(f"Ligands in {report.input}: {ligands}")
    return "\n".join(lines)


def structure_note(report: StructureReport) -> str:
    """One line for the user: what was read from the file ("1ubq.pdb: chain A (protein, 76 residues); …")."""
    chains = "; ".join(f"chain {chain.id} ({chain.kind}, {chain.length:,} residues)" for chain in report.chains)
    ligands = f"; ligands {', '.join(ligand.name for ligand in report.ligands)}" if report.ligands else ""
    return f"{report.input}: {chains}{ligands}"
