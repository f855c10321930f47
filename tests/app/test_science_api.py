"""The science endpoints: one schema (the reports' to_dict()), JSON-safe for every input kind, limits from science_tools."""

import json
import shutil

import orjson
import pytest
from studio_media import ASPIRIN, UBIQUITIN, make_pdb
from studio_media import SCIENCE_INPUTS as INPUTS

import science_tools
from app import science_api


SEQUENCE_KIND = {"protein": "protein", "dna": "dna", "rna": "rna", "fasta": "protein"}


@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("endpoint", science_api.SCIENCE_ENDPOINTS)
def test_every_result_is_json_safe_and_speaks_the_one_vocabulary(endpoint, kind):
    result = getattr(science_api, endpoint)(INPUTS[kind])
    json.dumps(result, allow_nan=False)
    orjson.dumps(result)  # Gradio's serializer: refuses int dict keys (the DNA crash of the old /check_sequence)
    assert {"kind", "ok", "input", "error", "warnings"} <= result.keys()
    if endpoint == "structure_card":  # its "input" is the file's name; none given here
        assert result["input"] == "pasted structure" and not result["ok"]
    else:
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


needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="no Java runtime on this machine (OPSIN runs in a JVM)"
)


@needs_java
def test_name_to_structure_is_the_name_reports_dict_and_says_why_a_name_fails():
    aspirin = science_api.name_to_structure("2-acetyloxybenzoic acid")
    assert aspirin == science_tools.name_to_structure("2-acetyloxybenzoic acid").to_dict()
    assert aspirin["canonical_smiles"] == ASPIRIN and aspirin["source"] == "OPSIN"
    nonsense = science_api.name_to_structure("foobarane")
    assert not nonsense["ok"] and nonsense["error"].startswith("OPSIN could not interpret this name: foobarane")


def test_name_to_structure_refuses_a_10000_character_name_and_null():
    assert "the limit is 2,000" in science_api.name_to_structure("x" * 10_000)["error"]
    assert science_api.name_to_structure(None)["error"].startswith("empty name")


def test_name_to_structure_without_java_says_how_to_enable_it(monkeypatch):
    monkeypatch.setattr(science_tools._names.shutil, "which", lambda name: None)
    result = science_api.name_to_structure("(2S)-2-aminopropanoic acid")
    assert not result["ok"] and "Java runtime not found" in result["error"] and "apt install" in result["error"]


def test_structure_card_reads_the_text_with_the_name_it_is_given(tmp_path):
    pdb = make_pdb(tmp_path / "x.pdb")
    card = science_api.structure_card(pdb.read_text(), "1abc.pdb")
    assert card == science_tools.read_structure(pdb, name="1abc.pdb").to_dict()
    assert [chain["fasta"].splitlines()[0] for chain in card["chains"]] == [">1abc.pdb chain A", ">1abc.pdb chain B"]
    assert card["ligands"] == [{"name": "ACT", "count": 1, "chains": ["A"]}]
    assert science_api.structure_card(pdb.read_text(), "")["input"] == "pasted structure"


def test_structure_card_never_opens_a_path_and_keeps_headers_on_one_line(tmp_path):
    secret = make_pdb(tmp_path / "secret.pdb")
    for path in (str(secret), "/etc/passwd", "../../etc/passwd"):
        card = science_api.structure_card(path)
        assert not card["ok"] and card["input"] == "pasted structure" and "no atoms" in card["error"]
    hostile = science_api.structure_card(secret.read_text(), "a.pdb\n>injected chain Z\n" + "y" * 500)
    header = hostile["chains"][0]["header"]
    assert "\n" not in header and header.startswith("a.pdb >injected") and len(header) < 140


def test_structure_card_bad_input_gets_clear_messages():
    assert "no atoms" in science_api.structure_card("HEADER    X\nEND\n", "empty.pdb")["error"]
    assert "no atoms" in science_api.structure_card(None)["error"]
    limit = science_tools.LIMITS["MAX_STRUCTURE_BYTES"]
    assert f"the limit is {limit:,}" in science_api.structure_card("REMARK\n" * (limit // 7 + 1))["error"]
