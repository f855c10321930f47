"""Character offsets of tokens: mapped back from the NFC-normalised text, and padded like the ids."""

from __future__ import annotations

import unicodedata


__all__ = ["map_offsets_to_original", "pad_offsets"]


def pad_offsets(offsets: list[tuple[int, int]], length: int, side: str) -> list[tuple[int, int]]:
    padding = [(0, 0)] * (length - len(offsets))
    return offsets + padding if side == "right" else padding + offsets


def map_offsets_to_original(offsets: list[tuple[int, int]], original: str) -> list[tuple[int, int]]:
    """Offsets were computed on NFC(text); map them back onto ``original`` (only called when the two differ).

    NFC only recombines neighbouring characters, so both strings split into the same chunks at characters that do
    not combine with their predecessor. A token maps to the original chunks it touches: from the start of the chunk
    of its first character to the end of the chunk of its last one.
    """
    boundaries = [0]
    for position in range(1, len(original)):
        char, chunk = original[position], original[boundaries[-1] : position]
        if unicodedata.combining(char) == 0 and (
            unicodedata.normalize("NFC", chunk + char) == unicodedata.normalize("NFC", chunk) + char
        ):
            boundaries.append(position)
    boundaries.append(len(original))
    chunk_start: list[int] = []  # per normalized character
    chunk_end: list[int] = []
    for start, end in zip(boundaries, boundaries[1:]):
        size = len(unicodedata.normalize("NFC", original[start:end]))
        chunk_start.extend([start] * size)
        chunk_end.extend([end] * size)
    size = len(chunk_start)
    if size != len(unicodedata.normalize("NFC", original)):  # not chunk-wise composable: clamp instead
        return [(min(s, len(original)), min(e, len(original))) for s, e in offsets]

    def remap(start: int, end: int) -> tuple[int, int]:
        if size == 0 or start >= size:
            return (len(original), len(original))
        if end <= start:
            return (chunk_start[start], chunk_start[start])
        return (chunk_start[start], chunk_end[min(end, size) - 1])

    return [remap(start, end) for start, end in offsets]
