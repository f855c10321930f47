"""The one error type for bad user input in the chat layer (its message is shown to the user as is)."""

from __future__ import annotations


__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input; the message is shown to the user as is."""
