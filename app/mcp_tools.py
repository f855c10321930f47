"""Science tools for agents: plain functions exposed as Gradio API endpoints and, with ``mcp_server=True``, MCP tools.

Gradio builds each MCP tool's description and input schema from the function's type hints and Google-style
docstring, so these are written for a model to read. Register them after the Blocks is built::

    with gr.Blocks() as demo:
        ...
    register_api(demo)
    demo.launch(mcp_server=True)   # MCP at http://HOST:PORT/gradio_api/mcp/ (schema: …/mcp/schema)
"""

from __future__ import annotations

from typing import Any

from app.chat.tools import MAX_SEQUENCE_CHARS, MAX_SMILES_CHARS


__all__ = ["API_FUNCTIONS", "draw_molecule", "protein_card", "register_api", "validate_smiles"]


def _too_long(value: str, limit: int, what: str) -> str | None:
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > limit:
        return f"{what} is longer than {limit} characters"
    return None


def validate_smiles(smiles: str) -> dict[str, Any]:
    """Check whether a SMILES string describes a valid molecule, and describe the molecule.

    Args:
        smiles: The molecule as a SMILES string, for example "CCO" (ethanol) or "c1ccccc1" (benzene).

    Returns:
        A dictionary with "ok" (true when RDKit accepts the molecule), "canonical_smiles", "formula",
        "descriptors" (molecular weight, logP, TPSA, H-bond donors/acceptors, rings, QED, Lipinski) and
        "error" (the reason in words when the SMILES is invalid, for example an unclosed ring).
    """
    problem = _too_long(smiles, MAX_SMILES_CHARS, "smiles")
    if problem:
        return {"ok": False, "canonical_smiles": None, "formula": None, "descriptors": {}, "error": problem}
    import science_tools

    report = science_tools.check_smiles(smiles)
    return {
        "ok": report.ok,
        "canonical_smiles": report.canonical_smiles,
        "formula": report.formula,
        "descriptors": dict(report.descriptors),
        "error": report.error,
    }


def draw_molecule(smiles: str, width: int = 320, height: int = 240) -> dict[str, Any]:
    """Draw the 2D structure of a molecule given as SMILES, as an SVG picture.

    Args:
        smiles: The molecule as a SMILES string, for example "CC(=O)Oc1ccccc1C(=O)O" (aspirin).
        width: Picture width in pixels (50 to 2000).
        height: Picture height in pixels (50 to 2000).

    Returns:
        A dictionary with "ok", "canonical_smiles", "formula", "svg" (the SVG markup, drawn by RDKit) and
        "error" (why nothing was drawn, when the SMILES is invalid or the size is out of range).
    """
    failure = {"ok": False, "canonical_smiles": None, "formula": None, "svg": None}
    problem = _too_long(smiles, MAX_SMILES_CHARS, "smiles")
    if problem:
        return {**failure, "error": problem}
    if not (50 <= int(width) <= 2000 and 50 <= int(height) <= 2000):
        return {**failure, "error": f"width and height must be between 50 and 2000 pixels, got {width}×{height}"}
    import science_tools

    report = science_tools.check_smiles(smiles)
    if not report.ok:
        return {**failure, "error": report.error}
    svg = science_tools.draw_molecule_svg(report.canonical_smiles, width=int(width), height=int(height))
    return {"ok": True, "canonical_smiles": report.canonical_smiles, "formula": report.formula, "svg": svg,
            "error": None}  # fmt: skip


def protein_card(sequence: str) -> dict[str, Any]:
    """Check a protein, DNA or RNA sequence (plain or FASTA) and compute its property card.

    Args:
        sequence: The sequence as one-letter codes, optionally as FASTA with a ">" header line.

    Returns:
        A dictionary with "ok", "kind" ("protein", "dna" or "rna"), "length", "properties" (for proteins:
        molecular weight, isoelectric point, charge at pH 7, GRAVY, instability index, aromaticity, secondary
        structure fractions; for nucleic acids: GC content, molecular weight, reverse complement) and "error"
        (which characters at which positions are not allowed, when the sequence is invalid).
    """
    problem = _too_long(sequence, MAX_SEQUENCE_CHARS, "sequence")
    if problem:
        return {"ok": False, "kind": None, "length": 0, "properties": {}, "error": problem}
    import science_tools

    report = science_tools.check_sequence(sequence)
    return {
        "ok": report.ok,
        "kind": report.kind,
        "length": len(report.sequence),
        "properties": dict(report.properties),
        "error": report.error,
    }


API_FUNCTIONS = (validate_smiles, draw_molecule, protein_card)


def register_api(demo: Any) -> list[str]:
    """Add the functions above to ``demo`` as API endpoints; returns their names.

    Call it after the ``with gr.Blocks()`` block has closed: re-entering the context from inside it left Gradio's
    context stack broken for the next Blocks built in the same process. They become MCP tools when the app is launched with ``mcp_server=True`` (or ``GRADIO_MCP_SERVER=True``).
    """
    import gradio as gr

    names = []
    with demo:  # gr.api attaches to the Blocks whose context is open
        for function in API_FUNCTIONS:
            gr.api(function, api_name=function.__name__)
            names.append(function.__name__)
    return names
