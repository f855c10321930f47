"""The science endpoints: one schema (the reports' to_dict()), JSON-safe for every input kind, limits from science_tools."""

import json

import orjson
import pytest
from studio_media import ASPIRIN, UBIQUITIN

import science_tools
from app import science_api


INPUTS = {
    "smiles": ASPIRIN,
    "reaction": "CC(=O)O.OCC>>CC(=O)OCC",
    "protein": UBIQUITIN,
    "dna": "ATGCGTACGTTAGCATGCAAATTTGGG",
    "rna": "AUGCGUACGUUAGCAUGCAAAUUU",
    "fasta": f">sp|P0CG48|UBQ_HUMAN Ubiquitin\n{UBIQUITIN}\n",
    "invalid": "C1CC(!<script>",
}
SEQUENCE_KIND = {"protein": "protein", "dna": "dna", "rna": "rna", "fasta": "protein"}


@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("endpoint", science_api.SCIENCE_ENDPOINTS)
def test_every_result_is_json_safe_and_speaks_the_one_vocabulary(endpoint, kind):
    result = getattr(science_api, endpoint)(INPUTS[kind])
    json.dumps(result, allow_nan=False)
    orjson.dumps(result)  # Gradio's serializer: refuses int dict keys (the DNA crash of the old /check_sequence)
    assert {"kind", "ok", "input", "error", "warnings"} <= result.keys()
    assert result["input"] == INPUTS[kind] or endpoint == "check_sequence" and kind == "fasta"
    assert (result["error"] is None) == result["ok"]


def test_results_are_the_reports_own_dicts():
    assert science_api.check_smiles("OCC") == science_tools.check_smiles("OCC").to_dict()
    assert science_api.check_sequence(UBIQUITIN) == science_tools.check_sequence(UBIQUITIN).to_dict()
    drawn = science_api.render_molecule(ASPIRIN)
    assert drawn.pop("svg").lstrip().startswith("<svg") and drawn == science_tools.check_smiles(ASPIRIN).to_dict()


@pytest.mark.parametrize("kind", ["protein", "dna", "rna", "fasta"])
def test_sequences_of_every_kind_are_checked(kind):
    result = science_api.check_sequence(INPUTS[kind])
    assert result["ok"] and result["kind"] == SEQUENCE_KIND[kind] and result["properties"]["length"] > 0


def test_molecules_reactions_and_invalid_input_through_check_smiles():
    assert science_api.check_smiles(ASPIRIN)["formula"] == "C9H8O4"
    reaction = science_api.check_smiles(INPUTS["reaction"])
    assert not reaction["ok"] and "reaction" in reaction["error"]
    invalid = science_api.check_smiles(INPUTS["invalid"])
    assert not invalid["ok"] and invalid["error"]
    assert science_api.check_smiles(None)["ok"] is False  # an API client's null is an empty box


def test_limits_come_from_science_tools():
    limit = science_tools.LIMITS["MAX_SMILES_LENGTH"]
    assert science_api.check_smiles("C" * limit)["ok"]
    assert "limit" in science_api.check_smiles("C" * (limit + 1))["error"]


def test_render_molecule_says_why_nothing_was_drawn():
    assert science_api.render_molecule("C1CC")["svg"] is None
    small = science_api.render_molecule("CCO", width=100, height=80.0)
    assert small["svg"] and 'width="100' in small["svg"].replace("'", '"')
    bad_size = science_api.render_molecule("CCO", width=10)
    assert bad_size["ok"] and bad_size["svg"] is None
    assert bad_size["warnings"] == ["not drawn: width and height must be whole numbers of pixels from 50 to 2000, "
                                    "got 10×240"]  # fmt: skip
    limit = science_tools.LIMITS["MAX_DEPICTION_HEAVY_ATOMS"]
    big = science_api.render_molecule("C" * (limit + 1))
    assert big["ok"] and big["svg"] is None and f"more than the drawing limit of {limit}" in big["warnings"][-1]
