"""Per-call capture of RDKit's C++ log, so reasons reach the caller instead of stderr.

RDKit reports parse and sanitisation problems only through its log (``MolFromSmiles`` just returns None).
``captured_rdkit_log`` blocks RDKit's output for the duration of one call and collects the error stream;
the previous log state is restored on exit, so other RDKit users in the process are unaffected.
A lock serialises captures because RDKit's log sinks are process-wide (Gradio runs handlers in threads).
"""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import rdBase


__all__ = ["RDKitLog", "captured_rdkit_log"]

_LOCK = threading.RLock()
_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s?")


class RDKitLog:
    """Lines RDKit wrote to its error log inside one ``captured_rdkit_log`` block (timestamps removed)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def _fill(self, raw: str) -> None:
        self.lines = [_TIMESTAMP.sub("", line).rstrip() for line in raw.splitlines() if line.strip()]


@contextmanager
def captured_rdkit_log() -> Iterator[RDKitLog]:
    """Silence RDKit and collect its error messages for one scope.

    Yields:
        An ``RDKitLog`` whose ``lines`` are filled when the block exits.
    """
    log = RDKitLog()
    with _LOCK, rdBase.BlockLogs():
        # The capture sits inside BlockLogs: it shadows the block for the error stream only,
        # while warnings and info messages stay blocked instead of reaching stderr.
        capture = rdBase.CaptureErrorLog()
        with capture:
            try:
                yield log
            finally:
                log._fill(capture.messages)
