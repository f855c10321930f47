"""The science endpoints: ``/check_smiles``, ``/check_sequence``, ``/render_molecule``, ``/name_to_structure``
and ``/structure_card``.

One function per endpoint, used three ways: as Gradio API endpoints (``gradio_client``), as the MCP tools of
``--mcp`` (Gradio builds each tool's description and input schema from these type hints and Google-style
docstrings, so they are written for a model to read), and — the first three — as the chemistry tools the model
may call mid-answer (:mod:`app.chat.tools`). Every result is a report's ``to_dict()`` from :mod:`science_tools`: JSON-safe, one key
vocabulary (``kind``, ``ok``, ``input``, ``error``, ``warnings``, …), the limits of ``science_tools.LIMITS``.
"""

from __future__ import annotations

import re
from typing import Any

import science_tools
from app.chat import names
from app.chat.errors import text_argument


__all__ = [
    "SCIENCE_ENDPOINTS",
    "check_sequence",
    "check_smiles",
    "name_to_structure",
    "render_molecule",
    "structure_card",
]

SCIENCE_ENDPOINTS = ("check_smiles", "check_sequence", "render_molecule", "name_to_structure", "structure_card")
PICTURE_SIZES = range(50, 2001)  # pixels; science_tools allows up to 4000, a chat card never needs that much
MAX_FILE_LABEL_CHARS = 120  # a structure's file name as FASTA headers show it
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def check_smiles(smiles: str) -> dict:
    """Check whether a SMILES string is a valid molecule, and describe the molecule.

    Args:
        smiles: The molecule as a SMILES string, for example "CCO" (ethanol) or "CC(=O)Oc1ccccc1C(=O)O" (aspirin).

    Returns:
        A molecule report: "kind" ("molecule"), "ok" (true when RDKit accepts it), "input", "canonical_smiles",
        "formula", "descriptors" (molecular_weight in g/mol, exact_mass in Da, logp, tpsa in Å², hbd, hba,
        rotatable_bonds, rings, aromatic_rings, heavy_atoms, formal_charge, qed, lipinski_violations,
        lipinski_pass), "error" (the reason in words when invalid, for example an unclosed ring),
        "error_position" (0-based character index) and "warnings".
    """
    return science_tools.check_smiles(text_argument(smiles, "smiles")).to_dict()


def check_sequence(sequence: str) -> dict:
    """Check a protein, DNA or RNA sequence (plain letters or FASTA) and compute its properties.

    Args:
        sequence: The sequence as one-letter codes, optionally as FASTA with a ">" header line.

    Returns:
        A sequence report: "kind" ("protein", "dna" or "rna"), "ok", "input", "sequence" (cleaned), "header",
        "properties" (proteins: length in aa, molecular_weight in Da, isoelectric_point, charge_at_ph7, gravy,
        instability_index, aromaticity, extinction coefficients, secondary-structure fractions, composition;
        DNA/RNA: length in nt, gc_content, molecular_weight, reverse_complement, translation_frames,
        composition), "error" (which characters at which 1-based positions are not allowed),
        "invalid_residues", "record_count" and "warnings".
    """
    return science_tools.check_sequence(text_argument(sequence, "sequence")).to_dict()


def render_molecule(smiles: str, width: int = 320, height: int = 240) -> dict:
    """Draw the 2D structure of a molecule given as SMILES, as an SVG picture (drawn by RDKit).

    Args:
        smiles: The molecule as a SMILES string, for example "CC(=O)Oc1ccccc1C(=O)O" (aspirin).
        width: Picture width in pixels (50 to 2000).
        height: Picture height in pixels (50 to 2000).

    Returns:
        The molecule report of check_smiles plus "svg": the SVG markup, or null when the SMILES is invalid or the
        molecule was not drawn (a note in "warnings" says why, e.g. more heavy atoms than the drawing limit).
    """
    report = science_tools.check_smiles(text_argument(smiles, "smiles"))
    result = {**report.to_dict(), "svg": None}
    if not report.ok:
        return result
    size = (_pixels(width), _pixels(height))
    limit = science_tools.LIMITS["MAX_DEPICTION_HEAVY_ATOMS"]
    heavy_atoms = report.descriptors.get("heavy_atoms", 0)
    if None in size:
        reason = f"width and height must be whole numbers of pixels from 50 to 2000, got {width!r}×{height!r}"
    elif heavy_atoms > limit:
        reason = f"{heavy_atoms} heavy atoms, more than the drawing limit of {limit}"
    else:
        result["svg"] = science_tools.draw_molecule_svg(report.canonical_smiles, width=size[0], height=size[1])
        return result
    result["warnings"] = [*result["warnings"], f"not drawn: {reason}"]
    return result


def _pixels(value: Any) -> int | None:
    """``value`` as a picture size in pixels, or None when it is not a whole number in :data:`PICTURE_SIZES`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        return None
    return int(value) if int(value) in PICTURE_SIZES else None


def name_to_structure(name: str) -> dict:
    """Convert a chemical name (IUPAC or systematic) into its structure with OPSIN.

    Args:
        name: The chemical name, for example "2-acetyloxybenzoic acid" (aspirin) or "(2S)-2-aminopropanoic acid".

    Returns:
        A name report: "kind" ("name"), "ok" (true when OPSIN understood the name and RDKit accepts the
        structure), "input", "name" (as sent to OPSIN), "canonical_smiles" (RDKit canonical SMILES), "formula",
        "source" ("OPSIN"), "opsin_smiles", "error" (OPSIN's own reason for a name it cannot read, or why name
        conversion is off on this server, e.g. no Java runtime) and "warnings".
    """
    return names.name_to_structure(text_argument(name, "name")).to_dict()


def structure_card(structure: str, name: str = "") -> dict:
    """Describe a protein or nucleic-acid structure given as the text of a PDB or mmCIF file.

    Args:
        structure: The whole text of a PDB or mmCIF file, for example the contents of 1ubq.pdb.
        name: The file name, for example "1ubq.pdb": it heads each chain's FASTA record ("1ubq.pdb chain A") and
            its suffix (.pdb, .ent, .cif, .mmcif) picks the format; empty: "pasted structure", format guessed.

    Returns:
        A structure report: "kind" ("structure"), "ok", "input" (the name), "format" ("pdb" or "mmcif"),
        "models", "atoms" (in model 1), "chains" (each with "id", "kind" protein/dna/rna, "length" in residues,
        "sequence", "header" and "fasta"), "ligands" (each with "name", "count", "chains"), "error" (why the
        text was refused or could not be read: over the size limit, no ATOM records, not a structure) and
        "warnings".
    """
    text = text_argument(structure, "structure")
    if "\n" not in text and "\r" not in text:
        text += "\n"  # science_tools reads a one-line str as a path; an API caller's text is never a path here
    return science_tools.read_structure(text, name=_file_label(name)).to_dict()


def _file_label(name: Any) -> str | None:
    """The file name as headers show it: one line, at most :data:`MAX_FILE_LABEL_CHARS`; None for none."""
    if not isinstance(name, str):
        return None
    label = _CONTROL.sub(" ", name).strip()[:MAX_FILE_LABEL_CHARS]
    return label or None
