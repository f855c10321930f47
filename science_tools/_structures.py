"""Protein / nucleic-acid structures (PDB, mmCIF) with Biopython: chains, sequences, ligands, FASTA per chain.

The size limit is checked before parsing (from the file's metadata, or the text's length); binary and non-UTF-8
files are refused before Biopython sees them. Biopython's parsers run quietly and, for PDB, permissively, so
small defects are tolerated; what they cannot read (a truncated coordinate line, an mmCIF without an atom table)
is reported with their reason. Only the first model is described (NMR ensembles repeat the same chains).
"""

import io
import os
from collections import Counter
from pathlib import Path

from ._files import FileRefused, open_regular_file
from ._limits import MAX_STRUCTURE_ATOMS, MAX_STRUCTURE_BYTES
from ._read_reports import StructureChain, StructureLigand, StructureReport


__all__ = ["STRUCTURE_FORMATS", "read_structure"]

STRUCTURE_FORMATS = {".pdb": "pdb", ".ent": "pdb", ".cif": "mmcif", ".mmcif": "mmcif"}
_FORMATS = ("auto", "pdb", "mmcif")
_PASTED = "pasted structure"
_WATER = frozenset({"HOH", "WAT", "DOD", "H2O", "TIP", "TIP3", "SOL"})
# Modified residues deposited as HETATM inside a chain: kept in the chain (with the parent's letter), not ligands.
_MODIFIED = {
    "MSE": "M",
    "SEC": "U",
    "PYL": "O",
    "SEP": "S",
    "TPO": "T",
    "PTR": "Y",
    "CSO": "C",
    "MLY": "K",
    "HYP": "P",
}
_DNA = {"DA": "A", "DC": "C", "DG": "G", "DT": "T", "DU": "U", "DI": "I"}
_RNA = {"A": "A", "C": "C", "G": "G", "U": "U", "I": "I"}
_SNIFF_BYTES = 8192


def _residue_letter(resname: str) -> tuple[str, str]:
    """(kind, one-letter code) of a polymer residue."""
    from Bio.SeqUtils import seq1  # lazy: Biopython only when a structure is read

    if resname in _DNA:
        return "dna", _DNA[resname]
    if resname in _RNA:
        return "rna", _RNA[resname]
    return "protein", _MODIFIED.get(resname) or seq1(resname, undef_code="X")[:1] or "X"


def _describe(model, shown: str) -> tuple[list[StructureChain], list[StructureLigand]]:
    chains, ligand_counts, ligand_chains = [], Counter(), {}
    for chain in model:
        letters, kinds = [], Counter()
        for residue in chain:
            flag, resname = residue.id[0], residue.get_resname().strip()
            if flag == "W" or resname in _WATER:
                continue
            if flag == " " or resname in _MODIFIED:
                kind, letter = _residue_letter(resname)
                kinds[kind] += 1
                letters.append(letter)
            else:
                ligand_counts[resname] += 1
                ligand_chains.setdefault(resname, []).append(chain.id)
        if letters:
            kind = kinds.most_common(1)[0][0]
            header = f"{shown} chain {chain.id}"
            chains.append(StructureChain(chain.id, kind, len(letters), "".join(letters), header))
    ligands = [
        StructureLigand(name, count, tuple(dict.fromkeys(ligand_chains[name])))
        for name, count in sorted(ligand_counts.items())
    ]
    return chains, ligands


def _parse(text: str, fmt: str):
    """Biopython structure, or raise ValueError with the parser's reason."""
    from Bio.PDB import MMCIFParser, PDBParser
    from Bio.PDB.PDBExceptions import PDBConstructionException

    try:
        if fmt == "pdb":
            return PDBParser(QUIET=True, PERMISSIVE=True).get_structure("structure", io.StringIO(text))
        return MMCIFParser(QUIET=True).get_structure("structure", io.StringIO(text))
    except KeyError as missing:  # MMCIF2Dict found no such table
        raise ValueError(f"the mmCIF has no {missing.args[0]} column (is it a coordinate file?)") from None
    except IndexError:  # a table row with fewer values than columns
        raise ValueError("a row of the atom table is incomplete (is the file truncated?)") from None
    except (PDBConstructionException, ValueError, TypeError) as error:
        raise ValueError(f"{error or type(error).__name__} (is the file complete?)") from None


def _guess_format(text: str, shown: str) -> str:
    by_name = STRUCTURE_FORMATS.get(Path(shown).suffix.lower())
    if by_name:
        return by_name
    return "mmcif" if text.lstrip().startswith("data_") else "pdb"


def _read_text(path: Path, shown: str) -> str:
    with open_regular_file(path, shown, MAX_STRUCTURE_BYTES) as handle:
        data = handle.read(MAX_STRUCTURE_BYTES + 1)
    if len(data) > MAX_STRUCTURE_BYTES:
        raise FileRefused(f"'{shown}' is larger than {MAX_STRUCTURE_BYTES / 1e6:.1f} MB (the limit)")
    if b"\0" in data[:_SNIFF_BYTES]:
        raise FileRefused(f"'{shown}' is not a text file (it contains NUL bytes); PDB and mmCIF files are text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefused(f"'{shown}' is not text (byte {error.start} cannot be decoded as UTF-8)") from None


def _source(source: str | os.PathLike, name: str | None) -> tuple[str | None, str, str]:
    """(text or None, path or "", shown name) for a path-like, a path string, or pasted text (has a line break)."""
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"source must be str or os.PathLike, got {type(source).__name__}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be str, got {type(name).__name__}")
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source, "", name or _PASTED
    path = Path(source)
    return None, str(path), name or path.name


def read_structure(source: str | os.PathLike, fmt: str = "auto", *, name: str | None = None) -> StructureReport:
    """Read a PDB or mmCIF structure: chains with lengths and sequences, ligands, one FASTA record per chain.

    Args:
        source: A path (``str`` without a line break, or ``os.PathLike``) or the file's text (a ``str`` with line
            breaks, e.g. pasted into a box).
        fmt: "pdb", "mmcif", or "auto" (by the name's suffix .pdb/.ent/.cif/.mmcif, else "data_" → mmCIF).
        name: The file name to report and to put in FASTA headers (default: the file's own name).

    Returns:
        A ``StructureReport``; FASTA headers read "1ubq.pdb chain A". A file over ``MAX_STRUCTURE_BYTES``, a binary
        file, a file without ATOM records or one Biopython cannot parse gets ``ok=False`` and a clear ``error``.

    Raises:
        TypeError: If ``source`` is not a str or path-like, or ``name`` / ``fmt`` is not a str.
        ValueError: If ``fmt`` is not one of the names above.
    """
    text, path, shown = _source(source, name)
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be str, got {type(fmt).__name__}")
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    try:
        if text is None:
            text = _read_text(Path(path), shown)
        elif len(text) > MAX_STRUCTURE_BYTES:
            raise FileRefused(f"the structure is {len(text):,} characters long; the limit is {MAX_STRUCTURE_BYTES:,}")
    except FileRefused as refused:
        return StructureReport(False, shown, fmt if fmt != "auto" else "unknown", error=str(refused))
    chosen = _guess_format(text, shown) if fmt == "auto" else fmt
    return _report(text, chosen, shown)


def _report(text: str, fmt: str, shown: str) -> StructureReport:
    label = "PDB" if fmt == "pdb" else "mmCIF"
    try:
        structure = _parse(text, fmt)
    except ValueError as error:
        return StructureReport(False, shown, fmt, error=f"'{shown}' could not be read as {label}: {error}")
    models = list(structure)
    if not models or not any(True for _ in models[0].get_atoms()):
        return StructureReport(
            False,
            shown,
            fmt,
            len(models),
            error=f"'{shown}' has no atoms (no ATOM or HETATM records): not a coordinate file?",
        )
    atoms = sum(1 for _ in models[0].get_atoms())
    if atoms > MAX_STRUCTURE_ATOMS:
        error = f"'{shown}' has {atoms:,} atoms in its first model; the limit is {MAX_STRUCTURE_ATOMS:,}"
        return StructureReport(False, shown, fmt, len(models), atoms, error=error)
    chains, ligands = _describe(models[0], shown)
    warnings = [f"{len(models)} models; chains and ligands are from model 1"] if len(models) > 1 else []
    error = None
    if not chains:
        error = f"'{shown}' has no protein or nucleic-acid chain (no ATOM records; only ligands or water)"
    return StructureReport(
        bool(chains), shown, fmt, len(models), atoms, tuple(chains), tuple(ligands), error, tuple(warnings)
    )
