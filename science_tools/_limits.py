"""Input limits shared by every public function, and the one type check they all use.

Limits keep a single request from tying up a worker (a 50 kB "SMILES", a genome pasted into the protein box).
Each limit produces a readable message instead of an exception; see ``docs/science_tools.md``.
"""

from collections.abc import Mapping
from types import MappingProxyType


__all__ = [
    "LIMITS",
    "MAX_CONFORMER_HEAVY_ATOMS",
    "MAX_CONFORMER_SECONDS",
    "MAX_DEPICTION_HEAVY_ATOMS",
    "MAX_FASTA_RECORDS",
    "MAX_GRID_CELL_HEAVY_ATOMS",
    "MAX_GRID_MOLECULES",
    "MAX_MOLECULE_FILE_BYTES",
    "MAX_MOLECULE_FILE_RECORDS",
    "MAX_MOLECULE_FILE_SMILES_CHARS",
    "MAX_MOLECULE_TEXT",
    "MAX_RESIDUES",
    "MAX_SELFIES_SYMBOLS",
    "MAX_SEQUENCE_FILE_BYTES",
    "MAX_SEQUENCE_TEXT",
    "MAX_SMILES_LENGTH",
    "MAX_SPAN_TEXT",
    "MAX_NAME_LENGTH",
    "MAX_NAMES_PER_CALL",
    "MAX_OPSIN_SECONDS",
    "MAX_STRUCTURE_ATOMS",
    "MAX_STRUCTURE_BYTES",
    "require_str",
]

MAX_SMILES_LENGTH = 5_000  # characters; the largest drug-like / peptide SMILES are well under this
MAX_MOLECULE_TEXT = 200_000  # characters for MOL/SDF blocks and InChI strings
MAX_SELFIES_SYMBOLS = 2_000  # the selfies decoder is quadratic: 2 000 symbols ≈ 0.4 s, 60 000 ≈ 4 min
# RDKit's 2D layout grows roughly cubically: measured on the 2-core dev machine, 500 heavy atoms take 1–6 s
# (chains vs. ring strings) and 2 000 take about two minutes, so the depiction limit is 500, not 2 000.
MAX_DEPICTION_HEAVY_ATOMS = 500
MAX_CONFORMER_HEAVY_ATOMS = 100  # ETKDG + MMFF: ~5 s at 60 heavy atoms, and ETKDG starts failing above ~100
MAX_CONFORMER_SECONDS = 10  # shared by both ETKDG attempts (normal, then random starting coordinates)
MAX_GRID_MOLECULES = 48
MAX_GRID_CELL_HEAVY_ATOMS = 150  # keeps a full grid to a few seconds of 2D layout (cells are small anyway)
MAX_RESIDUES = 100_000
MAX_SEQUENCE_TEXT = 2_000_000  # characters of raw paste (headers, spaces, line numbers included)
MAX_FASTA_RECORDS = 10_000
MAX_SPAN_TEXT = 200_000  # characters scanned by find_spans / tag_spans
# Files (read_molecule_file / read_sequence_file): every limit is checked before or while streaming the file in,
# never after parsing it all (issue 16: a 300 000-line .smi used to be parsed whole, ~9.6 ms a line).
MAX_MOLECULE_FILE_BYTES = 10_000_000  # checked from the file's size before reading, and again while reading
MAX_MOLECULE_FILE_RECORDS = 1_000  # molecules (.smi lines, SDF records); reading stops at the first one over
MAX_MOLECULE_FILE_SMILES_CHARS = 200_000  # total canonical SMILES the molecules of one file may come to
MAX_SEQUENCE_FILE_BYTES = 10_000_000  # FASTA files; their text must also fit MAX_SEQUENCE_TEXT characters
# Names → structures (OPSIN in a JVM): long systematic names run to a few hundred characters.
MAX_NAME_LENGTH = 2_000  # characters; checked before OPSIN starts
MAX_NAMES_PER_CALL = 100  # names converted in one JVM start
MAX_OPSIN_SECONDS = 30  # one OPSIN run (JVM start ~1-2 s + the names); then the run is killed
# Protein structures (Biopython PDB / mmCIF parsers). Most PDB entries are well under 10 MB; the largest
# mmCIF files (ribosomes, viruses) exceed this and are refused with the size and the limit.
MAX_STRUCTURE_BYTES = 20_000_000  # checked from the file's size (or the text's length) before parsing
MAX_STRUCTURE_ATOMS = 500_000  # atoms in the first model, checked after parsing, before any per-chain work

# The public, read-only view (``science_tools.LIMITS["MAX_SMILES_LENGTH"]``): consumers such as the app's tool
# loop read their science limits here instead of keeping their own numbers.
LIMITS: Mapping[str, int] = MappingProxyType(
    {name: value for name, value in globals().items() if name.startswith("MAX_") and isinstance(value, int)}
)


def require_str(value: object, name: str = "text") -> str:
    """Return ``value`` if it is a ``str``; a wrong type is a programmer error and raises ``TypeError``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, got {type(value).__name__}")
    return value
