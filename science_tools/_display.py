"""Build ``(label, value)`` display rows from a report's ``to_dict()`` (one formatter for every consumer)."""

from typing import Any

from ._labels import format_value, label


__all__ = ["MAX_DISPLAY_CHARS", "display_rows"]

MAX_DISPLAY_CHARS = 120  # long strings (sequences, reverse complements) are shortened in rows, never in to_dict()
_CONTAINERS = frozenset({"descriptors", "properties"})  # expanded into one row per entry
_COMPONENT_LISTS = frozenset({"reactants", "agents", "products"})  # one row per molecule of a reaction


def _shorten(text: str) -> str:
    if len(text) <= MAX_DISPLAY_CHARS:
        return text
    return f"{text[:MAX_DISPLAY_CHARS]}… (+{len(text) - MAX_DISPLAY_CHARS:,} more)"


def _component_row(component: dict[str, Any]) -> tuple[str, str]:
    """ "Reactant 1: CCO · C2H6O · 46.07 g/mol", or the molecule and why it is invalid."""
    name = f"{label(component['role'])} {component['index']}"
    if not component["ok"]:
        return name, _shorten(f"{component['text']} (invalid: {component['error']})")
    weight = format_value("molecular_weight", component["molecular_weight"])
    return name, _shorten(f"{component['canonical_smiles']} · {component['formula']} · {weight} g/mol")


def _molecule_row(molecule: dict[str, Any]) -> tuple[str, str]:
    """ "aspirin: CC(=O)Oc1ccccc1C(=O)O", or the record and why it is invalid."""
    name = molecule["name"] or f"{label('record')} {molecule['record']}"
    value = molecule["canonical_smiles"] if molecule["ok"] else f"invalid: {molecule['error']}"
    return name, _shorten(value)


def _record_row(number: int, record: dict[str, Any]) -> tuple[str, str]:
    """ "sp|P69905|HBA_HUMAN: Protein, 142 aa", or the record and why it is invalid."""
    name = record["header"] or f"{label('record')} {number}"
    if not record["ok"]:
        return name, _shorten(f"invalid: {record['error']}")
    unit = "aa" if record["kind"] == "protein" else "nt"
    return name, f"{format_value('kind', record['kind'])}, {len(record['sequence']):,} {unit}"


def _chain_row(chain: dict[str, Any]) -> tuple[str, str]:
    """ "Chain A: Protein, 76 residues"."""
    residues = "residue" if chain["length"] == 1 else "residues"
    return f"{label('chain')} {chain['id']}", f"{format_value('kind', chain['kind'])}, {chain['length']:,} {residues}"


def _ligand_text(ligands: list[dict[str, Any]]) -> str:
    """ "HEM × 1 (A), SO4 × 2 (A, B)"."""
    return ", ".join(f"{ligand['name']} × {ligand['count']} ({', '.join(ligand['chains'])})" for ligand in ligands)


def _rows_for(key: str, value: Any, kind: str | None) -> list[tuple[str, str]]:
    if key == "chains" and isinstance(value, list):
        return [_chain_row(chain) for chain in value]
    if key == "ligands" and isinstance(value, list):
        return [(label(key, kind), _shorten(_ligand_text(value)))]
    if (key == "models" and value in (0, 1)) or (key == "atoms" and value == 0):
        return []  # one model is the usual case; a failed read has none
    if key in _COMPONENT_LISTS and isinstance(value, list):
        return [_component_row(component) for component in value]
    if key == "molecules" and isinstance(value, list):
        return [_molecule_row(molecule) for molecule in value]
    if key == "records" and isinstance(value, list):
        return [_record_row(number, record) for number, record in enumerate(value, 1)]
    if key == "translation_frames" and isinstance(value, list):
        return [
            (f"{label(key, kind)} +{frame}", _shorten(str(protein)) or "(no complete codon)")
            for frame, protein in enumerate(value, 1)
        ]
    if key == "excluded_residues" and not value:
        return []
    if key == "record_count" and value == 1:
        return []
    return [(label(key, kind), _shorten(format_value(key, value)))]


def display_rows(data: dict[str, Any], keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Rows for the listed top-level ``keys`` of a report dict, in that order.

    ``None`` and empty top-level values are skipped (no "Error: n/a" on a valid report); ``descriptors`` and
    ``properties`` are expanded into one row per entry, where a missing number shows as "n/a".

    Args:
        data: A report's ``to_dict()``.
        keys: The report type's display keys (``DISPLAY_KEYS`` of its class).

    Returns:
        ``[(label with unit, formatted value), …]``.
    """
    kind = data.get("kind")
    rows: list[tuple[str, str]] = []
    for key in keys:
        value = data.get(key)
        if key in _CONTAINERS and isinstance(value, dict):
            for inner_key, inner_value in value.items():
                rows += _rows_for(inner_key, inner_value, kind)
        elif value not in (None, "", []):
            rows += _rows_for(key, value, kind)
    return rows
