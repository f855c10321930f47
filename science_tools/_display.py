"""Build ``(label, value)`` display rows from a report's ``to_dict()`` (one formatter for every consumer)."""

from typing import Any

from ._labels import format_value, label


__all__ = ["MAX_DISPLAY_CHARS", "display_rows"]

MAX_DISPLAY_CHARS = 120  # long strings (sequences, reverse complements) are shortened in rows, never in to_dict()
_CONTAINERS = frozenset({"descriptors", "properties"})  # expanded into one row per entry


def _shorten(text: str) -> str:
    if len(text) <= MAX_DISPLAY_CHARS:
        return text
    return f"{text[:MAX_DISPLAY_CHARS]}… (+{len(text) - MAX_DISPLAY_CHARS:,} more)"


def _rows_for(key: str, value: Any, kind: str | None) -> list[tuple[str, str]]:
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
