"""Chemistry and biology helpers for Intern-S1 Studio: validation with reasons, pictures, cards, spans, files,
names and structures.

Pure science: RDKit, Biopython, selfies, Pillow and OPSIN (the jar ``py2opsin`` ships, run in a JVM) only (no
torch, transformers or gradio). The public API is
flat (``science_tools.check_smiles``, ``science_tools.draw_molecule_svg`` …) and lazy: ``import science_tools``
loads nothing heavy; RDKit / Biopython are imported on first use of a function that needs them.

Input policy for every public function: a wrong *type* raises ``TypeError``; bad *user data* gives a result
with ``ok=False`` and a readable ``error`` (or, for picture functions, a picture of the error message).

One schema: every report has ``to_dict()`` (JSON-safe, shared keys ``kind``, ``ok``, ``input``, ``error``,
``warnings``) and ``display_rows()`` (labels with units from ``label`` / ``LABELS``); ``LIMITS`` holds every
input limit.
"""

from importlib import import_module
from typing import TYPE_CHECKING


__all__ = [
    "DESCRIPTOR_NAMES",
    "LABELS",
    "LIMITS",
    "ConformerReport",
    "MoleculeReport",
    "SequenceReport",
    "Span",
    "check_fasta",
    "check_molecule",
    "check_sequence",
    "check_smiles",
    "conformer_molblock",
    "draw_grid_svg",
    "draw_molecule_svg",
    "draw_reaction_svg",
    "embed_conformer",
    "find_spans",
    "label",
    "molecule_png",
    "tag_for_tokenizer",
    "tag_spans",
    "InvalidResidue",
    "ReactionComponent",
    "ReactionReport",
    "check_reaction",
    "check_smiles_or_reaction",
    "MoleculeFileReport",
    "NamedMolecule",
    "SequenceFileReport",
    "read_molecule_file",
    "read_sequence_file",
    "NameReport",
    "StructureChain",
    "StructureLigand",
    "StructureReport",
    "name_to_structure",
    "names_to_structures",
    "opsin_problem",
    "read_structure",
]

_LOCATIONS = {
    "DESCRIPTOR_NAMES": "._molecules",
    "LABELS": "._labels",
    "LIMITS": "._limits",
    "ConformerReport": "._reports",
    "MoleculeReport": "._reports",
    "SequenceReport": "._reports",
    "Span": "._reports",
    "check_fasta": "._sequences",
    "check_molecule": "._molecules",
    "check_sequence": "._sequences",
    "check_smiles": "._molecules",
    "conformer_molblock": "._conformers",
    "draw_grid_svg": "._drawing",
    "draw_molecule_svg": "._drawing",
    "draw_reaction_svg": "._drawing",
    "embed_conformer": "._conformers",
    "find_spans": "._spans",
    "label": "._labels",
    "molecule_png": "._drawing",
    "tag_for_tokenizer": "._tagging",
    "tag_spans": "._tagging",
    "InvalidResidue": "._reports",
    "ReactionComponent": "._reports",
    "ReactionReport": "._reports",
    "check_reaction": "._reactions",
    "check_smiles_or_reaction": "._reactions",
    "MoleculeFileReport": "._read_reports",
    "NamedMolecule": "._read_reports",
    "SequenceFileReport": "._read_reports",
    "read_molecule_file": "._files",
    "read_sequence_file": "._files",
    "NameReport": "._read_reports",
    "StructureChain": "._read_reports",
    "StructureLigand": "._read_reports",
    "StructureReport": "._read_reports",
    "name_to_structure": "._names",
    "names_to_structures": "._names",
    "opsin_problem": "._names",
    "read_structure": "._structures",
}


def __getattr__(name: str):
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'science_tools' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # keeps IDEs and type checkers aware of the lazy names
    from ._conformers import conformer_molblock, embed_conformer
    from ._drawing import draw_grid_svg, draw_molecule_svg, draw_reaction_svg, molecule_png
    from ._files import read_molecule_file, read_sequence_file
    from ._labels import LABELS, label
    from ._limits import LIMITS
    from ._molecules import DESCRIPTOR_NAMES, check_molecule, check_smiles
    from ._names import name_to_structure, names_to_structures, opsin_problem
    from ._reactions import check_reaction, check_smiles_or_reaction
    from ._read_reports import (
        MoleculeFileReport,
        NamedMolecule,
        NameReport,
        SequenceFileReport,
        StructureChain,
        StructureLigand,
        StructureReport,
    )
    from ._reports import (
        ConformerReport,
        InvalidResidue,
        MoleculeReport,
        ReactionComponent,
        ReactionReport,
        SequenceReport,
        Span,
    )
    from ._sequences import check_fasta, check_sequence
    from ._spans import find_spans
    from ._structures import read_structure
    from ._tagging import tag_for_tokenizer, tag_spans
