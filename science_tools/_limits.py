"""Input limits shared by every public function, and the one type check they all use.

Limits keep a single request from tying up a worker (a 50 kB "SMILES", a genome pasted into the protein box).
Each limit produces a readable message instead of an exception; see ``docs/science_tools.md``.
"""

__all__ = [
    "MAX_CONFORMER_HEAVY_ATOMS",
    "MAX_CONFORMER_SECONDS",
    "MAX_DEPICTION_HEAVY_ATOMS",
    "MAX_GRID_MOLECULES",
    "MAX_MOLECULE_TEXT",
    "MAX_RESIDUES",
    "MAX_SEQUENCE_TEXT",
    "MAX_SMILES_LENGTH",
    "MAX_SPAN_TEXT",
    "require_str",
]

MAX_SMILES_LENGTH = 5_000  # characters; the largest drug-like / peptide SMILES are well under this
MAX_MOLECULE_TEXT = 200_000  # characters for MOL/SDF blocks and InChI strings
MAX_DEPICTION_HEAVY_ATOMS = 2_000
MAX_CONFORMER_HEAVY_ATOMS = 250  # ETKDG + MMFF on more atoms takes tens of seconds on a shared CPU
MAX_CONFORMER_SECONDS = 20  # ETKDG's own time budget per embedding attempt
MAX_GRID_MOLECULES = 48
MAX_RESIDUES = 100_000
MAX_SEQUENCE_TEXT = 2_000_000  # characters of raw paste (headers, spaces, line numbers included)
MAX_SPAN_TEXT = 200_000  # characters scanned by find_spans / tag_spans


def require_str(value: object, name: str = "text") -> str:
    """Return ``value`` if it is a ``str``; a wrong type is a programmer error and raises ``TypeError``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, got {type(value).__name__}")
    return value
