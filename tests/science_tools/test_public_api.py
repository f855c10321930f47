"""The public surface: names, lazy import, layering, and the input policy under fuzzing.

Policy: any str input → a result (never an exception); a non-str → TypeError.
"""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import science_tools as st
from science_tools._drawing import svg_is_safe


SMILES_ALPHABET = "CNOSPFIBrlcnosp()[]=#@+-/\\%.0123456789H*:$ >"
SEQUENCE_ALPHABET = "ACDEFGHIKLMNPQRSTVWYXBZJUOacgtun*-> \n0123456789|"
TEXT = hs.one_of(
    hs.text(max_size=200),
    hs.text(hs.characters(exclude_categories=()), max_size=40),  # control characters and lone surrogates too
    hs.text(alphabet=SMILES_ALPHABET, max_size=60),
    hs.text(alphabet=SEQUENCE_ALPHABET, max_size=120),
    hs.lists(hs.sampled_from(["CCO", " ", "c1ccccc1", "<SMILES>", "</SMILES>", "NaCl", "MKTAYIAKQRQISFVKSHFSRQ",
                              ">x\n", "C6H12O6", "<FASTA>", "</FASTA>", "(", ")", ".", ">>", "[Na+]", "ATGCGTACGTAGCT"]),
             max_size=12).map("".join),
)  # fmt: skip
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

TEXT_FUNCTIONS = {
    "check_smiles": st.check_smiles,
    "check_molecule": st.check_molecule,
    "check_sequence": st.check_sequence,
    "check_fasta": st.check_fasta,
    "check_reaction": st.check_reaction,
    "check_smiles_or_reaction": st.check_smiles_or_reaction,
    "find_spans": st.find_spans,
    "tag_spans": st.tag_spans,
    **{f"tag_for_tokenizer[{kind}]": (lambda text, kind=kind: st.tag_for_tokenizer(text, kind))
       for kind in ("smiles", "reaction", "selfies", "iupac", "protein", "formula")},
}  # fmt: skip
PICTURE_FUNCTIONS = {
    "draw_molecule_svg": st.draw_molecule_svg,
    "draw_reaction_svg": st.draw_reaction_svg,
    "molecule_png": st.molecule_png,
    "draw_grid_svg": lambda text: st.draw_grid_svg([text, "CCO"]),
    "legend": lambda text: st.draw_molecule_svg("CCO", legend=text),
    "grid_legends": lambda text: st.draw_grid_svg(["CCO", "c1ccccc1"], legends=[text, text]),
}


def test_public_names():
    expected = {
        "check_smiles", "check_molecule", "check_sequence", "check_fasta", "draw_molecule_svg", "draw_grid_svg",
        "draw_reaction_svg", "molecule_png", "conformer_molblock", "embed_conformer", "find_spans",
        "tag_for_tokenizer", "tag_spans", "MoleculeReport", "SequenceReport", "ConformerReport", "Span",
        "DESCRIPTOR_NAMES", "LABELS", "LIMITS", "label", "InvalidResidue", "ReactionComponent", "ReactionReport",
        "check_reaction", "check_smiles_or_reaction", "MoleculeFileReport", "NamedMolecule", "SequenceFileReport",
        "read_molecule_file", "read_sequence_file", "NameReport", "StructureChain", "StructureLigand",
        "StructureReport", "name_to_structure", "names_to_structures", "opsin_problem", "read_structure",
    }  # fmt: skip
    assert set(st.__all__) == expected
    for name in st.__all__:
        assert getattr(st, name) is not None
    with pytest.raises(AttributeError):
        st.no_such_function  # noqa: B018


def test_results_are_frozen():
    report = st.check_smiles("CCO")
    with pytest.raises(AttributeError):
        report.ok = False


def _fresh_import(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_is_lazy_and_light():
    loaded = _fresh_import("import json, sys, science_tools; print(json.dumps(sorted(sys.modules)))")
    top = {name.split(".")[0] for name in loaded}
    assert not top & {"rdkit", "Bio", "selfies", "PIL", "torch", "transformers", "gradio", "intern_s1", "app"}


def test_using_every_function_imports_no_forbidden_layer():
    code = (
        "import json, sys, science_tools as st\n"
        "st.check_smiles('CCO'); st.check_molecule('[C][O]'); st.check_sequence('MKT'); st.find_spans('CCO x')\n"
        "st.draw_molecule_svg('CCO'); st.molecule_png('CCO'); st.draw_reaction_svg('C>>C'); st.tag_spans('CCO')\n"
        "st.conformer_molblock('CCO')\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    top = {name.split(".")[0] for name in _fresh_import(code)}
    assert "rdkit" in top and "Bio" in top
    assert not top & {"torch", "transformers", "gradio", "intern_s1", "app"}


NON_STR_CALLS = {
    **TEXT_FUNCTIONS,
    "draw_molecule_svg": st.draw_molecule_svg,
    "draw_reaction_svg": st.draw_reaction_svg,
    "molecule_png": st.molecule_png,
    "draw_grid_svg": lambda value: st.draw_grid_svg([value]),
    "legend": lambda value: st.draw_molecule_svg("CCO", legend=value),
    "grid_legends": lambda value: st.draw_grid_svg(["CCO"], legends=[value]),
    "check_molecule_fmt": lambda value: st.check_molecule("CCO", value),
    "check_sequence_kind": lambda value: st.check_sequence("MKT", value),
    "tag_kind": lambda value: st.tag_for_tokenizer("CCO", value),
    "read_molecule_file": st.read_molecule_file,
    "read_sequence_file": st.read_sequence_file,
    "read_structure": st.read_structure,
    "name_to_structure": st.name_to_structure,
}


@pytest.mark.parametrize("name", sorted(NON_STR_CALLS))
@pytest.mark.parametrize("value", [None, 1, b"CCO", ["CCO"]], ids=["None", "int", "bytes", "list"])
def test_non_str_raises_type_error(name, value):
    with pytest.raises(TypeError):
        NON_STR_CALLS[name](value)


@pytest.mark.parametrize("value", [None, 3.0, b"C"])
def test_conformer_non_str_raises_type_error(value):
    with pytest.raises(TypeError):
        st.conformer_molblock(value)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TEXT_FUNCTIONS))
def test_no_text_makes_text_functions_raise(name):
    function = TEXT_FUNCTIONS[name]

    @FUZZ
    @given(TEXT)
    def run(text):
        function(text)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PICTURE_FUNCTIONS))
def test_no_text_makes_picture_functions_raise(name):
    function = PICTURE_FUNCTIONS[name]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(TEXT)
    def run(text):
        result = function(text)
        assert isinstance(result, str | bytes) and result
        if isinstance(result, str):
            assert svg_is_safe(result)  # well-formed XML, no script / event attributes, even for error pictures

    run()


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True)
@given(hs.text(alphabet=SMILES_ALPHABET, max_size=30))
def test_no_text_makes_conformers_raise(text):
    report = st.embed_conformer(text)
    assert report.ok == bool(report.molblock)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(TEXT)
def test_spans_always_slice_their_text(text):
    for span in st.find_spans(text):
        assert text[span.start : span.end] == span.text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["read_structure", "read_molecule_file", "read_sequence_file"])
def test_no_text_makes_readers_raise(name, tmp_path, monkeypatch):
    """Text with a line break is a pasted structure; without, a path (odd characters included)."""
    monkeypatch.chdir(tmp_path)  # relative "paths" the fuzzer invents resolve in an empty folder
    function = getattr(st, name)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(TEXT)
    def run(text):
        report = function(text)
        assert report.ok in (True, False)
        json.dumps(report.to_dict(), allow_nan=False)

    run()
