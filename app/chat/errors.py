"""The one error type for bad user input in the chat layer (its message is shown to the user as is), and the one
check of a text argument sent by an API client."""

from __future__ import annotations

from typing import Any


__all__ = ["InputError", "text_argument"]


class InputError(ValueError):
    """Bad user input; the message is shown to the user as is."""


def text_argument(value: Any, name: str) -> str:
    """An API text argument: a string, or None for an empty one; anything else is refused naming ``name``.

    Raises:
        InputError: "smiles must be text (a string), got 123 (int)".
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text (a string), got {value!r:.80} ({type(value).__name__})")
    return value
