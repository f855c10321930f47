"""Molecule validation with reasons: SMILES, SELFIES, InChI and MOL/SDF blocks into a ``MoleculeReport``."""

import re

from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from ._limits import MAX_MOLECULE_TEXT, MAX_SELFIES_SYMBOLS, MAX_SMILES_LENGTH, require_str
from ._rdkit_log import captured_rdkit_log
from ._reports import MoleculeReport
from ._smiles_syntax import atom_offsets, describe_syntax_problem


__all__ = ["DESCRIPTOR_NAMES", "check_molecule", "check_smiles", "parse_smiles"]

DESCRIPTOR_NAMES = (
    "molecular_weight",  # g/mol, average isotopic masses (Descriptors.MolWt)
    "exact_mass",  # monoisotopic mass (Descriptors.ExactMolWt)
    "logp",  # Wildman-Crippen logP
    "tpsa",  # topological polar surface area, Å²
    "hbd",  # H-bond donors, Lipinski definition (NH + OH)
    "hba",  # H-bond acceptors, Lipinski definition (N + O)
    "rotatable_bonds",
    "rings",
    "aromatic_rings",
    "heavy_atoms",
    "formal_charge",
    "qed",  # quantitative estimate of drug-likeness (Bickerton 2012); None if RDKit cannot compute it
    "lipinski_violations",  # MW > 500, logP > 5, HBD > 5, HBA > 10
    "lipinski_pass",  # at most one violation (Lipinski's rule of five)
)
_FORMATS = ("auto", "smiles", "selfies", "inchi", "molblock")
_VALENCE = re.compile(r"Explicit valence for atom # (\d+) (\w+), (\d+), is greater than permitted")
_KEKULIZE = re.compile(r"Can't kekulize mol\.\s+Unkekulized atoms: ([\d ]+)")
_NON_RING_AROMATIC = re.compile(r"non-ring atom (\d+) marked aromatic")
_RDKIT_POSITION = re.compile(r"check for mistakes around position (\d+)")
_SELFIES_TOKENS = re.compile(r"(?:\[[^\[\]]+\])+")
_NOT_SMILES_ASCII = re.compile(r"[^\x21-\x7e]")
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # controls and lone surrogates


def parse_smiles(smiles: str) -> Chem.Mol | None:
    """Parse and sanitise ``smiles`` with RDKit's log captured (nothing printed). None when invalid."""
    with captured_rdkit_log():
        return Chem.MolFromSmiles(smiles)


def _descriptors(mol: Chem.Mol) -> dict:
    mw = Descriptors.MolWt(mol)
    logp = Crippen.MolLogP(mol)
    hbd = rdMolDescriptors.CalcNumLipinskiHBD(mol)
    hba = rdMolDescriptors.CalcNumLipinskiHBA(mol)
    violations = sum((mw > 500, logp > 5, hbd > 5, hba > 10))
    try:
        qed = QED.qed(mol)
    except (ValueError, RuntimeError):  # QED needs properties RDKit cannot always assign (e.g. odd radicals)
        qed = None
    return {
        "molecular_weight": mw,
        "exact_mass": Descriptors.ExactMolWt(mol),
        "logp": logp,
        "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "hbd": hbd,
        "hba": hba,
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds(mol),
        "rings": rdMolDescriptors.CalcNumRings(mol),
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(mol),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
        "formal_charge": Chem.GetFormalCharge(mol),
        "qed": qed,
        "lipinski_violations": violations,
        "lipinski_pass": violations <= 1,
    }


def _success(text: str, fmt: str, mol: Chem.Mol, warnings: list[str], descriptors: bool = True) -> MoleculeReport:
    with captured_rdkit_log():
        return MoleculeReport(
            ok=True,
            input=text,
            input_format=fmt,
            canonical_smiles=Chem.MolToSmiles(mol),
            formula=rdMolDescriptors.CalcMolFormula(mol),
            descriptors=_descriptors(mol) if descriptors else {},
            warnings=tuple(warnings),
        )


def _failure(text: str, fmt: str, error: str, position: int | None = None, atoms=(), warnings=()) -> MoleculeReport:
    return MoleculeReport(
        ok=False,
        input=text,
        input_format=fmt,
        error=error,
        error_position=position,
        error_atoms=tuple(atoms),
        warnings=tuple(warnings),
    )


def _explain_chemistry(raw: Chem.Mol, smiles: str | None) -> tuple[str, int | None, tuple[int, ...]] | None:
    """Turn ``DetectChemistryProblems`` on an unsanitised molecule into (reason, offset, atom indices)."""
    with captured_rdkit_log():
        problems = Chem.DetectChemistryProblems(raw)
    if not problems:
        return None
    offsets = atom_offsets(smiles) if smiles else []
    reasons, atoms = [], []
    for problem in problems:
        message = problem.Message()
        if match := _VALENCE.search(message):
            index, symbol, valence = int(match.group(1)), match.group(2), match.group(3)
            reasons.append(f"atom {index} ({symbol}) has valence {valence}, more than allowed")
            atoms.append(index)
        elif match := _KEKULIZE.search(message):
            indices = [int(i) for i in match.group(1).split()]
            reasons.append(
                f"can't kekulize aromatic atoms {' '.join(map(str, indices))}: no alternating single/double bond "
                "pattern exists (check ring size, a missing [nH], or charges)"
            )
            atoms.extend(indices)
        elif match := _NON_RING_AROMATIC.search(message):
            index = int(match.group(1))
            reasons.append(f"atom {index} is marked aromatic (lower case) but is not in a ring")
            atoms.append(index)
        else:
            reasons.append(message.strip())
            if problem.GetType().startswith("Atom"):
                atoms.append(problem.GetAtomIdx())
    position = offsets[atoms[0]] if atoms and atoms[0] < len(offsets) else None
    return "; ".join(reasons), position, tuple(atoms)


def _check_smiles_text(
    original: str, smiles: str, fmt: str, warnings: list[str], descriptors: bool = True
) -> MoleculeReport:
    if not smiles:
        return _failure(original, fmt, "empty input: no SMILES given", warnings=warnings)
    if len(smiles) > MAX_SMILES_LENGTH:
        return _failure(
            original,
            fmt,
            f"SMILES is {len(smiles)} characters long; the limit is {MAX_SMILES_LENGTH}",
            warnings=warnings,
        )
    if space := re.search(r"\s", smiles):
        return _failure(
            original,
            fmt,
            f"whitespace at position {space.start()}: a SMILES has no spaces (separate molecules with '.')",
            space.start(),
            warnings=warnings,
        )
    if odd := _NOT_SMILES_ASCII.search(smiles):  # RDKit would stop at a NUL or fail to encode a lone surrogate
        return _failure(
            original,
            fmt,
            f"character {odd.group()!r} at position {odd.start()} is not allowed in SMILES (SMILES is plain ASCII)",
            odd.start(),
            warnings=warnings,
        )
    if ">" in smiles:
        reaction = smiles.count(">") == 2 and "<" not in smiles
        return _failure(
            original, "reaction" if reaction else fmt, _angle_bracket_reason(smiles), smiles.index(">"),
            warnings=warnings,
        )  # fmt: skip
    with captured_rdkit_log() as sanitize_log:
        mol = Chem.MolFromSmiles(smiles)
    if mol is not None:
        return _success(original, fmt, mol, warnings, descriptors)
    with captured_rdkit_log() as log:
        raw = Chem.MolFromSmiles(smiles, sanitize=False)
    if raw is not None:
        explained = _explain_chemistry(raw, smiles)
        if explained:
            return _failure(original, fmt, explained[0], explained[1], explained[2], warnings)
        reason = sanitize_log.lines[0] if sanitize_log.lines else "no reason given"
        return _failure(original, fmt, f"RDKit could not sanitise this molecule: {reason}", warnings=warnings)
    return _failure(original, fmt, *_explain_syntax(smiles, log.lines), warnings=warnings)


def _explain_syntax(smiles: str, rdkit_lines: list[str]) -> tuple[str, int | None]:
    """A syntax failure: our scanner names the problem, RDKit's log supplies the position as a fallback."""
    ours = describe_syntax_problem(smiles)
    if ours is not None:
        return ours
    rdkit_position = next((int(m.group(1)) - 1 for line in rdkit_lines if (m := _RDKIT_POSITION.search(line))), None)
    first = next((line for line in rdkit_lines if "Parse Error" in line), "SMILES Parse Error")
    reason = first.replace("SMILES Parse Error: ", "").split(" for input:")[0].strip() or "syntax error"
    if rdkit_position is not None:
        reason = f"{reason} at position {rdkit_position}"
    return f"invalid SMILES: {reason}", rdkit_position


def check_smiles(text: str, *, descriptors: bool = True) -> MoleculeReport:
    """Validate a SMILES string and describe the molecule.

    Surrounding whitespace is ignored (with a warning). A reaction SMILES is refused with ``input_format``
    "reaction" and a reason pointing to ``check_reaction`` (or use ``check_smiles_or_reaction``, which
    dispatches). Failures carry RDKit's own diagnosis in words,
    e.g. "atom 1 (N) has valence 5, more than allowed", "unclosed ring 1 (opened at position 1)",
    "unknown element 'Xx' in bracket atom [Xx] at position 1".

    Args:
        text: The SMILES as typed or pasted by a user.
        descriptors: Compute ``descriptors`` (set False to validate only; about 10× faster per molecule).

    Returns:
        A ``MoleculeReport``; ``ok`` is False (with ``error``) for anything RDKit rejects.

    Raises:
        TypeError: If ``text`` is not a str.
    """
    require_str(text)
    smiles = text.strip()
    warnings = ["surrounding whitespace was removed"] if smiles and smiles != text else []
    return _check_smiles_text(text, smiles, "smiles", warnings, descriptors)


def _guess_format(text: str) -> str:
    if text.startswith("InChI="):
        return "inchi"
    if "M  END" in text or "V2000" in text or "V3000" in text:
        return "molblock"
    if _SELFIES_TOKENS.fullmatch(text) and text.count("[") >= 2:
        return "selfies"
    return "smiles"


def _check_selfies(original: str, text: str) -> MoleculeReport:
    import selfies  # lazy: only SELFIES input needs it

    symbols = text.count("[")
    if symbols > MAX_SELFIES_SYMBOLS:
        return _failure(original, "selfies", f"SELFIES has {symbols} symbols; the limit is {MAX_SELFIES_SYMBOLS}")
    try:
        smiles = selfies.decoder(text)
    except selfies.DecoderError as error:
        return _failure(original, "selfies", f"invalid SELFIES: {str(error).splitlines()[0]}")
    except Exception as error:  # noqa: BLE001 - selfies raises assorted errors on hostile input
        return _failure(original, "selfies", f"invalid SELFIES: {type(error).__name__}")
    if not smiles:
        return _failure(original, "selfies", "SELFIES decodes to an empty molecule")
    return _check_smiles_text(original, smiles, "selfies", [f"decoded to SMILES {smiles}"])


def _check_inchi(original: str, text: str) -> MoleculeReport:
    from rdkit.Chem import rdinchi  # lazy: InChI input only; gives the InChI library's own message

    with captured_rdkit_log():
        mol, _, message, inchi_log = rdinchi.InchiToMol(text, True, True)
    if mol is None:
        # the library ends its log with e.g. "Structure: 1 Syntax error (-2) in MOBILE_H_FORMULA (0)"
        lines = [line.strip() for line in f"{message}\n{inchi_log}".splitlines() if "error" in line.lower()]
        detail = re.sub(r"^Structure: \d+\s*", "", lines[-1]) if lines else ""
        return _failure(original, "inchi", f"invalid InChI{': ' + detail if detail else ''}")
    return _success(original, "inchi", mol, [])


def _check_molblock(original: str, text: str) -> MoleculeReport:
    records = [record for record in text.split("$$$$") if record.strip()]
    warnings = ["SDF has several records; only the first was read"] if len(records) > 1 else []
    block = records[0] if records else text
    with captured_rdkit_log() as log:
        raw = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False)
    if raw is None:
        detail = "; ".join(log.lines[:2])
        return _failure(original, "molblock", f"invalid MOL block{': ' + detail if detail else ''}", warnings=warnings)
    explained = _explain_chemistry(raw, None)
    if explained:
        return _failure(original, "molblock", explained[0], None, explained[2], warnings)
    with captured_rdkit_log() as log:
        mol = Chem.MolFromMolBlock(block)
    if mol is None:
        return _failure(original, "molblock", "; ".join(log.lines[:2]) or "RDKit could not sanitise this MOL block")
    return _success(original, "molblock", mol, warnings)


def check_molecule(text: str, fmt: str = "auto") -> MoleculeReport:
    """Validate a molecule given as SMILES, SELFIES, InChI or a MOL/SDF block.

    Args:
        text: The molecule text.
        fmt: "smiles", "selfies", "inchi", "molblock", or "auto" to guess from the text ("InChI=" prefix,
            a MOL block's "M  END"/"V2000" lines, or only bracketed tokens like "[C][=O]" for SELFIES).

    Returns:
        A ``MoleculeReport`` with ``input_format`` set to the format actually used.

    Raises:
        TypeError: If ``text`` or ``fmt`` is not a str.
        ValueError: If ``fmt`` is not one of the names above.
    """
    require_str(text)
    require_str(fmt, "fmt")
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    if len(text) > MAX_MOLECULE_TEXT:
        return _failure(text, fmt, f"input is {len(text)} characters long; the limit is {MAX_MOLECULE_TEXT}")
    stripped = text.strip()
    chosen = _guess_format(stripped) if fmt == "auto" else fmt
    if not stripped:
        return _failure(text, chosen, "empty input: no molecule given")
    if chosen in ("inchi", "molblock") and (odd := _UNREADABLE.search(text)):
        return _failure(text, chosen, f"unreadable character {odd.group()!r} at position {odd.start()}", odd.start())
    if chosen == "smiles":
        return check_smiles(text)
    if chosen == "selfies":
        return _check_selfies(text, stripped)
    if chosen == "inchi":
        return _check_inchi(text, stripped)
    return _check_molblock(text, text)  # no strip: a MOL block starts with a (possibly empty) title line


def _angle_bracket_reason(smiles: str) -> str:
    """'>' is not SMILES: a reaction (reactants>agents>products) or markup pasted along with the molecule."""
    if smiles.count(">") == 2 and "<" not in smiles:
        return "this is a reaction SMILES (reactants>agents>products), not a single molecule; use check_reaction"
    return (
        f"character '>' at position {smiles.index('>')} is not allowed in SMILES "
        "(tags or HTML around the molecule? paste the bare SMILES)"
    )
