"""A small pure-Python SMILES scanner used to explain RDKit's parse failures in words.

RDKit says *that* a SMILES failed ("syntax error ... around position 3", "unclosed ring"); this scanner says
*what* failed (which element is unknown, which ring label is never closed) and maps RDKit atom indices back
to character offsets. It is a diagnostic aid only: RDKit remains the judge of validity.
"""

import re


__all__ = ["ELEMENTS", "atom_offsets", "describe_syntax_problem"]

# fmt: off
_ELEMENT_TABLE = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu "
    "Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg "
    "Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
)
# fmt: on
ELEMENTS = frozenset(_ELEMENT_TABLE.split())
_ORGANIC = ("Cl", "Br", "B", "C", "N", "O", "P", "S", "F", "I")  # two-letter symbols first
_AROMATIC = frozenset("bcnops")
_BRACKET_AROMATIC = frozenset({"b", "c", "n", "o", "p", "s", "se", "te", "as", "si"})
_BONDS = frozenset("-=#$:/\\")
_BRACKET_ATOM = re.compile(
    r"(?P<isotope>\d+)?(?P<symbol>[A-Z][a-z]?|[a-z][a-z]?|\*)"
    r"(?P<chiral>@(?:@|TH[12]|AL[12]|SP[1-3]|TB\d{1,2}|OH\d{1,2})?)?"
    r"(?P<hcount>H\d*)?(?P<charge>(?:\+\+?|--?)\d*)?(?P<map>:\d+)?"
)


def _bracket_symbol_problem(content: str) -> str | None:
    """Return why the inside of one ``[...]`` atom is not a valid bracket atom, or None when it is."""
    if not content:
        return "empty bracket atom []"
    match = _BRACKET_ATOM.fullmatch(content)
    if match is None:
        letters = re.match(r"\d*([A-Za-z]{1,2})", content)
        if letters and letters.group(1) not in ELEMENTS and letters.group(1).lower() not in _BRACKET_AROMATIC:
            return f"unknown element '{letters.group(1)}' in bracket atom [{content}]"
        return f"malformed bracket atom [{content}]"
    symbol = match.group("symbol")
    if symbol == "*" or symbol in ELEMENTS or symbol in _BRACKET_AROMATIC:
        return None
    return f"unknown element '{symbol}' in bracket atom [{content}]"


def _needs_brackets(symbol: str, offset: int) -> str:
    return (
        f"element '{symbol}' at position {offset} must be written in brackets, e.g. [{symbol}] "
        "(only B, C, N, O, P, S, F, Cl, Br, I may appear without brackets)"
    )


def _scan(smiles: str) -> tuple[list[int], str | None, int | None]:
    """Walk the string once. Returns (atom offsets, first problem, its offset)."""
    atoms: list[int] = []
    open_rings: dict[str, int] = {}
    branches: list[int] = []
    previous = ""  # "atom", "bond", "open", "dot" or "" at the start
    i = 0
    while i < len(smiles):
        ch = smiles[i]
        if ch == "[":
            close = smiles.find("]", i + 1)
            nested = smiles.find("[", i + 1)
            if close < 0 or (0 <= nested < close):
                return atoms, f"bracket '[' at position {i} is never closed", i
            problem = _bracket_symbol_problem(smiles[i + 1 : close])
            if problem:
                return atoms, f"{problem} at position {i}", i
            atoms.append(i)
            previous, i = "atom", close + 1
            continue
        if ch == "]":
            return atoms, f"']' at position {i} has no matching '['", i
        organic = next((sym for sym in _ORGANIC if smiles.startswith(sym, i)), None)
        two = smiles[i : i + 2]
        if organic and len(organic) == 1 and len(two) == 2 and two in ELEMENTS and two[1] not in _AROMATIC:
            return atoms, _needs_brackets(two, i), i  # "Na", "Sn": not N followed by junk
        if organic or ch in _AROMATIC or ch == "*":
            atoms.append(i)
            previous, i = "atom", i + len(organic or ch)
            continue
        if ch.isalpha():
            two = smiles[i : i + 2]
            symbol = two if len(two) == 2 and two[1].islower() and two in ELEMENTS else ch
            if symbol in ELEMENTS:
                return atoms, _needs_brackets(symbol, i), i
            guess = two if len(two) == 2 and two[1].islower() else ch
            return atoms, f"unknown element '{guess}' at position {i}", i
        if ch.isdigit() or ch == "%":
            label = ch
            if ch == "%":
                label = smiles[i : i + 3]
                if not re.fullmatch(r"%\d\d", label):
                    return atoms, f"ring label '%' at position {i} must be followed by two digits", i
            if previous not in ("atom", "bond"):
                return atoms, f"ring label {label.lstrip('%')} at position {i} does not follow an atom", i
            if label in open_rings:
                del open_rings[label]
            else:
                open_rings[label] = i
            previous, i = "atom", i + len(label)
            continue
        if ch in _BONDS:
            if previous in ("bond", "", "dot"):
                return atoms, f"bond '{ch}' at position {i} is not between two atoms", i
            previous, i = "bond", i + 1
            continue
        if ch == "(":
            if previous != "atom":
                return atoms, f"branch '(' at position {i} does not follow an atom", i
            branches.append(i)
            previous, i = "open", i + 1
            continue
        if ch == ")":
            if not branches:
                return atoms, f"')' at position {i} has no matching '('", i
            if previous in ("open", "bond"):
                return atoms, f"empty or unfinished branch closed at position {i}", i
            branches.pop()
            previous, i = "atom", i + 1
            continue
        if ch == ".":
            if previous != "atom":
                return atoms, f"'.' at position {i} does not follow an atom", i
            previous, i = "dot", i + 1
            continue
        return atoms, f"character {ch!r} at position {i} is not allowed in SMILES", i
    if branches:
        return atoms, f"branch '(' at position {branches[-1]} is never closed", branches[-1]
    if open_rings:
        label, where = min(open_rings.items(), key=lambda item: item[1])
        return atoms, f"unclosed ring {label.lstrip('%')} (opened at position {where})", where
    if previous in ("bond", "dot"):
        return atoms, f"SMILES ends with a dangling '{smiles[-1]}'", len(smiles) - 1
    return atoms, None, None


def describe_syntax_problem(smiles: str) -> tuple[str, int] | None:
    """Name the first syntax problem in ``smiles`` and its 0-based offset, or None when the scan finds none."""
    _, problem, where = _scan(smiles)
    return None if problem is None else (problem, where)


def atom_offsets(smiles: str) -> list[int]:
    """0-based character offset of each atom, in RDKit's atom order for an unsanitised parse."""
    return _scan(smiles)[0]
