"""Reaction SMILES ``reactants>agents>products``: every molecule checked, named by role, number and position."""

import re

from ._limits import MAX_SMILES_LENGTH, require_str
from ._molecules import check_smiles, parse_smiles
from ._reports import MoleculeReport, ReactionComponent, ReactionReport


__all__ = ["check_reaction", "check_smiles_or_reaction", "looks_like_reaction", "reaction_problem"]

_ROLES = ("reactant", "agent", "product")
_WHITESPACE = re.compile(r"\s")
_POSITION = re.compile(r"\bposition (\d+)")


def looks_like_reaction(text: str) -> bool:
    """True when ``text`` (surrounding whitespace ignored) has the reaction form: exactly two ``>``, no ``<``.

    A ``<`` means markup pasted with a molecule (``<SMILES>…``), which ``check_smiles`` explains instead.
    """
    core = text.strip()
    return core.count(">") == 2 and "<" not in core


def _molecular_weight(canonical_smiles: str) -> float | None:
    from rdkit.Chem import Descriptors  # lazy, like every RDKit use in this package

    mol = parse_smiles(canonical_smiles)
    return None if mol is None else Descriptors.MolWt(mol)


def _component(role: str, index: int, start: int, text: str, weights: bool) -> ReactionComponent:
    report = check_smiles(text, descriptors=False)
    if not report.ok:
        position = None if report.error_position is None else start + report.error_position
        # positions in check_smiles' reasons count from the molecule's first character: make them count in
        # the reaction as typed, like every other position the user sees
        error = _POSITION.sub(lambda match: f"position {int(match.group(1)) + start}", report.error or "")
        return ReactionComponent(role, index, start, text, False, error=error, error_position=position)
    weight = _molecular_weight(report.canonical_smiles) if weights else None
    return ReactionComponent(role, index, start, text, True, report.canonical_smiles, report.formula, weight)


def _split(text: str, weights: bool, offset: int) -> tuple[list[list[ReactionComponent]], str | None, int | None]:
    """Components per role, and the first structural problem (empty molecule between dots) with its offset.

    ``offset`` is where ``text`` starts in the input as given (leading whitespace), so positions count there.
    """
    groups: list[list[ReactionComponent]] = []
    for role, part in zip(_ROLES, text.split(">")):
        components: list[ReactionComponent] = []
        if part:
            position = offset
            for index, molecule in enumerate(part.split("."), start=1):
                if not molecule:
                    return groups, f"empty molecule between '.' separators in the {role}s", position
                components.append(_component(role, index, position, molecule, weights))
                position += len(molecule) + 1
        groups.append(components)
        offset += len(part) + 1
    return groups, None, None


def _form_problem(text: str, offset: int) -> tuple[str, int | None] | None:
    """A problem with the reaction's overall form, before any molecule is parsed."""
    if not text:
        return "empty input: no reaction given", None
    if len(text) > MAX_SMILES_LENGTH:
        return f"reaction SMILES is {len(text)} characters long; the limit is {MAX_SMILES_LENGTH}", None
    if text.count(">") != 2:
        return "reaction SMILES needs the form reactants>agents>products (e.g. A.B>>C)", None
    reactants, _, products = text.split(">")
    if not reactants or not products:
        return "a reaction needs at least one reactant and one product", None
    if space := _WHITESPACE.search(text):
        where = space.start() + offset
        return f"whitespace at position {where}: reaction SMILES has no spaces", where
    return None


def _check(
    original: str, text: str, warnings: tuple[str, ...], weights: bool = True, offset: int = 0
) -> ReactionReport:
    form = _form_problem(text, offset)
    if form is not None:
        return ReactionReport(ok=False, input=original, error=form[0], error_position=form[1], warnings=warnings)
    groups, problem, position = _split(text, weights, offset)
    if problem is not None:
        return ReactionReport(ok=False, input=original, error=problem, error_position=position, warnings=warnings)
    reactants, agents, products = (tuple(group) for group in groups)
    invalid = next((c for c in (*reactants, *agents, *products) if not c.ok), None)
    if invalid is not None:
        error = f"{invalid.role} {invalid.index} {invalid.text!r} (at position {invalid.start}): {invalid.error}"
        return ReactionReport(
            ok=False, input=original, reactants=reactants, agents=agents, products=products, error=error,
            error_position=invalid.error_position if invalid.error_position is not None else invalid.start,
            warnings=warnings,
        )  # fmt: skip
    canonical = ">".join(".".join(c.canonical_smiles or "" for c in group) for group in (reactants, agents, products))
    return ReactionReport(
        ok=True, input=original, canonical_smiles=canonical, reactants=reactants, agents=agents, products=products,
        warnings=warnings,
    )  # fmt: skip


def check_reaction(text: str) -> ReactionReport:
    """Check a reaction SMILES ``reactants>agents>products`` molecule by molecule.

    Surrounding whitespace is ignored (with a warning). Each molecule gets its canonical SMILES, formula and
    molecular weight, or the reason it is invalid; the report's ``error`` names the first invalid one by role,
    number and position, e.g. "product 1 'C1CC' (at position 4): unclosed ring 1 (opened at position 5)" for
    ``"CC>>C1CC"``. Every position (in messages and fields) is a 0-based offset in ``text`` as given.

    Args:
        text: The reaction as typed, e.g. ``"CCO.CC(=O)O>[H+]>CCOC(C)=O.O"``.

    Returns:
        A ``ReactionReport``.

    Raises:
        TypeError: If ``text`` is not a str.
    """
    require_str(text)
    core = text.strip()
    warnings = ("surrounding whitespace was removed",) if core and core != text else ()
    return _check(text, core, warnings, offset=len(text) - len(text.lstrip()))


def check_smiles_or_reaction(text: str) -> MoleculeReport | ReactionReport:
    """One entry point for a SMILES box that accepts molecules and reactions.

    Args:
        text: A SMILES or a reaction SMILES.

    Returns:
        ``check_reaction(text)`` when ``looks_like_reaction(text)``, else ``check_smiles(text)``; the report's
        ``kind`` ("reaction" / "molecule") says which.

    Raises:
        TypeError: If ``text`` is not a str.
    """
    require_str(text)
    return check_reaction(text) if looks_like_reaction(text) else check_smiles(text)


def reaction_problem(text: str) -> str | None:
    """Why ``text`` (taken exactly, no stripping) is not a drawable reaction SMILES, or None when it is."""
    return _check(text, text, (), weights=False).error
