"""Seeded 3D conformers: ETKDGv3 embedding, then MMFF94 (UFF when MMFF has no parameters)."""

import time

from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

from ._limits import MAX_CONFORMER_HEAVY_ATOMS, MAX_CONFORMER_SECONDS, require_str
from ._molecules import check_smiles, parse_smiles
from ._rdkit_log import captured_rdkit_log
from ._reports import ConformerReport


__all__ = ["conformer_molblock", "embed_conformer"]

_MAX_OPTIMISER_ITERATIONS = 500  # enough for a viewer-quality geometry; non-convergence is reported as a warning


def _embed(mol: Chem.Mol, seed: int) -> int:
    """ETKDGv3 embedding within MAX_CONFORMER_SECONDS; returns the conformer id, -1 on failure."""
    deadline = time.monotonic() + MAX_CONFORMER_SECONDS
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.numThreads = 1  # deterministic and polite on a shared CPU
    params.timeout = MAX_CONFORMER_SECONDS
    conformer_id = rdDistGeom.EmbedMolecule(mol, params)
    remaining = int(deadline - time.monotonic())
    if conformer_id < 0 and remaining >= 1:  # cages and strained rings often embed from random coordinates
        params.useRandomCoords = True
        params.timeout = remaining
        conformer_id = rdDistGeom.EmbedMolecule(mol, params)
    return conformer_id


def _optimise(mol: Chem.Mol) -> tuple[str, float | None, list[str]]:
    """Relax the embedded geometry; returns (force field name, energy, warnings)."""
    if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
        properties = rdForceFieldHelpers.MMFFGetMoleculeProperties(mol)
        field = rdForceFieldHelpers.MMFFGetMoleculeForceField(mol, properties)
        name = "MMFF94"
    elif rdForceFieldHelpers.UFFHasAllMoleculeParams(mol):
        field = rdForceFieldHelpers.UFFGetMoleculeForceField(mol)
        name = "UFF"
    else:
        return "none", None, ["no MMFF94 or UFF parameters for this molecule; geometry is ETKDG only"]
    not_converged = field.Minimize(maxIts=_MAX_OPTIMISER_ITERATIONS)
    warnings = [f"{name} optimisation did not converge in {_MAX_OPTIMISER_ITERATIONS} steps"] if not_converged else []
    return name, field.CalcEnergy(), warnings


def embed_conformer(smiles: str, seed: int = 0) -> ConformerReport:
    """Build one 3D conformer for a 3D viewer (3Dmol.js reads the MOL block as "mol"/"sdf").

    Args:
        smiles: The molecule as SMILES.
        seed: Random seed for ETKDG; the same SMILES and seed always give the same coordinates.

    Returns:
        A ``ConformerReport``; ``ok`` is False with a reason for invalid SMILES, molecules over
        ``MAX_CONFORMER_HEAVY_ATOMS`` heavy atoms, or when embedding fails within the time budget.

    Raises:
        TypeError: If ``smiles`` is not a str or ``seed`` is not an int.
        ValueError: If ``seed`` is negative or above 2**31 - 1.
    """
    require_str(smiles, "smiles")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be int, got {type(seed).__name__}")
    if not 0 <= seed < 2**31:
        raise ValueError(f"seed must be between 0 and 2**31 - 1, got {seed}")
    report = check_smiles(smiles, descriptors=False)
    if not report.ok:
        return ConformerReport(ok=False, error=f"invalid SMILES: {report.error}", seed=seed, input=smiles)
    mol = parse_smiles(smiles.strip())
    heavy = mol.GetNumHeavyAtoms()
    if heavy > MAX_CONFORMER_HEAVY_ATOMS:
        return ConformerReport(
            ok=False,
            error=f"{heavy} heavy atoms; the 3D limit is {MAX_CONFORMER_HEAVY_ATOMS}",
            seed=seed,
            input=smiles,
        )
    started = time.monotonic()
    with captured_rdkit_log() as log:
        mol = Chem.AddHs(mol)
        if _embed(mol, seed) < 0:
            failed = True
        else:
            failed = False
            name, energy, warnings = _optimise(mol)
            block = Chem.MolToMolBlock(mol)
    if failed:
        timed_out = time.monotonic() - started >= 0.9 * MAX_CONFORMER_SECONDS
        why = (
            f"ETKDG ran out of its {MAX_CONFORMER_SECONDS} s budget; large flexible molecules need longer"
            if timed_out
            else "ETKDG found no geometry that satisfies the distance bounds; strained rings or impossible stereo?"
        )
        detail = f" RDKit: {log.lines[0]}" if log.lines else ""
        error = f"could not embed a 3D conformer: {why}.{detail}"
        return ConformerReport(ok=False, error=error, seed=seed, input=smiles)
    return ConformerReport(
        ok=True, molblock=block, forcefield=name, energy=energy, seed=seed, warnings=tuple(warnings), input=smiles
    )


def conformer_molblock(smiles: str, seed: int = 0) -> str:
    """The MOL block of ``embed_conformer(smiles, seed)``, or "" when no conformer could be made.

    Use ``embed_conformer`` when you need the reason for a failure.

    Args:
        smiles: The molecule as SMILES.
        seed: Random seed for ETKDG (deterministic output).

    Returns:
        A V2000 MOL block with hydrogens and 3D coordinates, or "" on failure.

    Raises:
        TypeError: If ``smiles`` is not a str or ``seed`` is not an int.
        ValueError: If ``seed`` is out of range.
    """
    return embed_conformer(smiles, seed).molblock
