"""Chat backends behind one interface (:class:`ChatBackend`)."""

from app.backends.base import BackendError, BackendInfo, ChatBackend, Delta, SamplingParams


__all__ = ["BackendError", "BackendInfo", "ChatBackend", "Delta", "SamplingParams"]
