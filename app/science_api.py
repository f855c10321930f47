"""The science endpoints: ``/check_smiles``, ``/check_sequence`` and ``/render_molecule``.

One function per endpoint, used three ways: as Gradio API endpoints (``gradio_client``), as the MCP tools of
``--mcp`` (Gradio builds each tool's description and input schema from these type hints and Google-style
docstrings, so they are written for a model to read), and as the chemistry tools the model may call mid-answer
(:mod:`app.chat.tools`). Every result is a report's ``to_dict()`` from :mod:`science_tools`: JSON-safe, one key
vocabulary (``kind``, ``ok``, ``input``, ``error``, ``warnings``, …), the limits of ``science_tools.LIMITS``.
"""

from __future__ import annotations

from typing import Any

import science_tools
from app.chat.errors import text_argument


__all__ = ["SCIENCE_ENDPOINTS", "check_sequence", "check_smiles", "render_molecule"]

SCIENCE_ENDPOINTS = ("check_smiles", "check_sequence", "render_molecule")
PICTURE_SIZES = range(50, 2001)  # pixels; science_tools allows up to 4000, a chat card never needs that much


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
