"""Chemical names in answers become structures: ``<IUPAC>`` spans → OPSIN (one JVM run per answer) → cards.

Intern-S1's tokenizer switches to its IUPAC sub-vocabulary exactly between the ``<IUPAC>`` and ``</IUPAC>`` tags
(there is no auto-detection for names, unlike SMILES and FASTA), and the local backend streams those tags as text,
as remote servers do; so the tagged spans of the answer text *are* the tokenizer's IUPAC spans, for every backend
(``tests/app/chat/test_answer_names.py`` checks this against the tokenizer). Conversion runs after an answer has ended,
never on the streaming path: one OPSIN run for all the answer's new names (a JVM start costs about 1–2 s), and a
bounded cache shared with the ``/name_to_structure`` endpoint so a name is converted once per process.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import science_tools
from app.chat.history import Answer, Found
from science_tools import NameReport


__all__ = [
    "MAX_NAMES_PER_ANSWER",
    "NameCache",
    "add_name_structures",
    "candidate_names",
    "convert_names",
    "name_to_structure",
    "names_unavailable",
    "structures_from_names",
]

MAX_NAMES_PER_ANSWER = 8  # like MAX_FOUND_PER_ANSWER: each converted name becomes a card
_CACHE_SIZE = 1024
# Names hold no angle brackets, so an unclosed tag (an answer cut off mid-name) ends at the next tag.
_IUPAC_SPAN = re.compile(r"<IUPAC>([^<>]*)</IUPAC>")
# science_tools' wording for a name OPSIN ran on and could not read: a fact about the name, so worth caching.
# Other failures (no Java, a timeout, an input rule) are not cached: they depend on the machine or are cheap.
_NOT_UNDERSTOOD = "OPSIN could not interpret this name"


def candidate_names(text: str, limit: int = MAX_NAMES_PER_ANSWER) -> list[str]:
    """The names the model tagged ``<IUPAC>…</IUPAC>`` in ``text``, stripped, each once, in order, at most ``limit``.

    An unclosed tag (an answer cut off mid-name) yields nothing for that span.
    """
    names: list[str] = []
    for match in _IUPAC_SPAN.finditer(text or ""):
        name = match.group(1).strip()
        if name and name not in names:
            names.append(name)
    return names[:limit]


class NameCache:
    """A thread-safe, bounded (least recently used) name → :class:`NameReport` cache around OPSIN."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._reports: OrderedDict[str, NameReport] = OrderedDict()
        self._lock = threading.Lock()
        self.opsin_runs = 0  # how many times OPSIN was started (for tests and the curious)

    def convert(self, names: list[str]) -> list[NameReport]:
        """Reports for ``names`` in order: cached ones at once, all others in one ``names_to_structures`` run."""
        with self._lock:
            known = {name: self._reports[name] for name in names if name in self._reports}
            for name in known:
                self._reports.move_to_end(name)
        missing = [name for name in dict.fromkeys(names) if name not in known]
        if missing:
            batch = science_tools.LIMITS["MAX_NAMES_PER_CALL"]
            fresh: dict[str, NameReport] = {}
            for start in range(0, len(missing), batch):  # one OPSIN run per batch (nearly always just one)
                self.opsin_runs += 1
                chunk = missing[start : start + batch]
                fresh.update(zip(chunk, science_tools.names_to_structures(chunk)))
            with self._lock:
                for name, report in fresh.items():
                    if report.ok or (report.error or "").startswith(_NOT_UNDERSTOOD):
                        self._reports[name] = report
                        self._reports.move_to_end(name)
                while len(self._reports) > self._size:
                    self._reports.popitem(last=False)
            known.update(fresh)
        return [known[name] for name in names]

    def clear(self) -> None:
        with self._lock:
            self._reports.clear()


_CACHE = NameCache()


def _shared(cache: NameCache | None) -> NameCache:
    return _CACHE if cache is None else cache  # looked up per call, so tests can swap the process-wide cache


def names_unavailable() -> str | None:
    """Why names cannot be converted on this machine (no Java, no OPSIN), with how to enable it; None when they can."""
    return science_tools.opsin_problem()


def convert_names(names: list[str], cache: NameCache | None = None) -> list[NameReport]:
    """Reports for ``names`` (one OPSIN run at most, cached); every name fails with the reason when OPSIN is off."""
    return _shared(cache).convert(list(names)) if names else []


def name_to_structure(name: str, cache: NameCache | None = None) -> NameReport:
    """One name through the shared cache (the ``/name_to_structure`` endpoint and the SMILES panel's name box)."""
    return _shared(cache).convert([name])[0]


def structures_from_names(answer: Answer, cache: NameCache | None = None) -> list[Found]:
    """Molecules for the names tagged in a finished answer that OPSIN converts, each with its provenance.

    Names whose structure the answer already holds (the same canonical SMILES among :attr:`Answer.found`) are left
    out, so a molecule written both ways gets one card. Nothing is converted while OPSIN is off (the SMILES panel
    says why) or before the answer has ended.

    Returns:
        ``Found(kind="smiles", text=canonical SMILES, origin="from the name …, OPSIN")`` items, in answer order.
    """
    names = candidate_names(answer.content) if answer.done else []
    if not names or names_unavailable():
        return []
    held = {_canonical(item.text) for item in answer.found if item.kind == "smiles"}
    added: list[Found] = []
    for report in convert_names(names, cache):
        if report.ok and report.canonical_smiles not in held:
            held.add(report.canonical_smiles)
            added.append(Found(kind="smiles", text=report.canonical_smiles, origin=report.provenance()))
    return added


def _canonical(smiles: str) -> str | None:
    report = science_tools.check_smiles(smiles, descriptors=False)
    return report.canonical_smiles if report.ok else None


def add_name_structures(answers: list[Answer], cache: NameCache | None = None) -> bool:
    """Give each finished answer the molecules of the names it tagged (one OPSIN run for all their new names).

    For the page after an answer ends (the last answer) and after an import (every answer). Safe to repeat: a
    molecule an answer already holds is not added again.

    Returns:
        True when some answer gained a molecule (the chat needs re-rendering).
    """
    finished = [answer for answer in answers if answer.done]
    wanted = [name for answer in finished for name in candidate_names(answer.content)]
    if not wanted or names_unavailable():
        return False
    convert_names(list(dict.fromkeys(wanted)), cache)  # warms the cache: the loop below runs no OPSIN
    changed = False
    for answer in finished:
        added = structures_from_names(answer, cache)
        if added:
            answer.found = [*answer.found, *added]
            changed = True
    return changed
