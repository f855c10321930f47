"""The one science schema: JSON-safe ``to_dict()``, one key vocabulary, labels with units, limits in one place."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import science_tools as st
from science_tools._schema import json_safe


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = hs.one_of(
    hs.text(max_size=120),
    hs.text(hs.characters(exclude_categories=()), max_size=40),  # control characters and lone surrogates too
    hs.text(alphabet="ACGTUMKQRNLIHSWYFP*!> \n0123456789", max_size=120),
    hs.text(alphabet="CNOcno()[]=#12+->.", max_size=40),
)

# One case per input kind the app accepts, valid and invalid (issue 12's list).
CASES = {
    "smiles": lambda: st.check_smiles("CC(=O)Oc1ccccc1C(=O)O"),
    "smiles_invalid": lambda: st.check_smiles("C1CC(N"),
    "reaction_in_smiles_box": lambda: st.check_smiles("CCO.CC(=O)O>[H+]>CCOC(C)=O.O"),
    "reaction": lambda: st.check_reaction("CCO.CC(=O)O>[H+]>CCOC(C)=O.O"),
    "reaction_invalid": lambda: st.check_reaction("CC.C1CC>>Xx"),
    "selfies": lambda: st.check_molecule("[C][C][O]"),
    "inchi_invalid": lambda: st.check_molecule("InChI=1S/nonsense"),
    "protein": lambda: st.check_sequence("MKTAYIAKQRQISFVKSHFSRQXU*"),
    "protein_invalid": lambda: st.check_sequence("MKT 4 AY!IAK"),
    "dna": lambda: st.check_sequence("ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG"),
    "dna_ambiguous": lambda: st.check_sequence("ATGNNNACGTAA"),
    "dna_invalid": lambda: st.check_sequence("ATGCGT!ACG", "dna"),
    "rna": lambda: st.check_sequence("AUGGCUUAAGGC"),
    "rna_invalid": lambda: st.check_sequence("AUGXCUU", "rna"),
    "empty_sequence": lambda: st.check_sequence(""),
    "conformer": lambda: st.embed_conformer("CCO"),
    "conformer_invalid": lambda: st.embed_conformer("C1CC"),
}
FASTA = ">sp|P1|first protein\nMKTAYIAKQR\n>dna record\nATGCGTACGTAG\n>rna\nAUGGCU\n>bad\nMK!T\n"


def assert_json_safe(value, path="$"):
    """Only str keys; values str/int/float/bool/None/list/dict; no NaN/inf; strings encodable as UTF-8."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: key {key!r} is {type(key).__name__}"
            assert_json_safe(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_json_safe(item, f"{path}[{index}]")
    elif isinstance(value, float):
        assert math.isfinite(value), f"{path}: {value}"
    elif isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates (orjson and HTTP bodies refuse them)
    else:
        assert value is None or isinstance(value, bool | int), f"{path}: {type(value).__name__}"


def round_trip(report) -> dict:
    data = report.to_dict()
    assert_json_safe(data)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    return data


def all_reports():
    reports = [make() for make in CASES.values()]
    reports += st.check_fasta(FASTA)
    reports += st.find_spans("Ethanol CCO and <SMILES>CC>>CC</SMILES>, MKTAYIAKQRQISFVKSHFSRQ, C6H12O6.")
    return reports


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_input_kind_survives_json(case):
    data = round_trip(CASES[case]())
    assert {"kind", "ok", "input", "error", "warnings"} <= set(data)
    assert list(data)[:3] == ["kind", "ok", "input"]
    assert (data["error"] is None) == data["ok"]
    assert isinstance(data["warnings"], list)


def test_multi_record_fasta_survives_json_and_keeps_headers():
    dicts = [round_trip(report) for report in st.check_fasta(FASTA)]
    assert [d["kind"] for d in dicts] == ["protein", "dna", "rna", "protein"]
    assert [d["header"] for d in dicts] == ["sp|P1|first protein", "dna record", "rna", "bad"]
    assert [d["ok"] for d in dicts] == [True, True, True, False]
    assert all(d["record_count"] == 4 for d in dicts)
    assert dicts[1]["input"] == ">dna record\nATGCGTACGTAG\n"  # the record as typed, not the whole paste


def test_dna_translation_frames_are_a_list_in_frame_order():
    data = round_trip(CASES["dna"]())
    assert data["properties"]["translation_frames"][0] == "MAIVMGR*KGAR*"
    assert len(data["properties"]["translation_frames"]) == 3


def test_invalid_residues_are_objects_with_position_and_character():
    data = round_trip(st.check_sequence("MKT 4 !AY?"))
    assert data["invalid_residues"] == [
        {"position": 4, "character": "!", "input_position": 7, "line": 1, "column": 7},
        {"position": 7, "character": "?", "input_position": 10, "line": 1, "column": 10},
    ]


def test_spans_survive_json():
    for span in st.find_spans("CCO then c1ccccc1"):
        assert round_trip(span) == {"kind": "smiles", "start": span.start, "end": span.end, "text": span.text}


def test_json_safe_rules():
    assert json_safe({"a": (1, 2.5, float("nan")), "b": float("inf"), "c": "x\ud800y"}) == {
        "a": [1, 2.5, None],
        "b": None,
        "c": "x\ufffdy",
    }
    with pytest.raises(TypeError, match="keys must be str"):
        json_safe({1: "frame"})
    with pytest.raises(TypeError, match="not part of the science schema"):
        json_safe(object())


def test_orjson_accepts_every_report():
    orjson = pytest.importorskip("orjson")  # Gradio serialises with orjson, which refuses NaN keys and surrogates
    for report in [*all_reports(), st.check_smiles("C\ud800C"), st.check_sequence("MK\ud800T")]:
        assert json.loads(orjson.dumps(report.to_dict())) == report.to_dict()


@FUZZ
@given(ANY_TEXT)
def test_any_text_gives_json_safe_dicts(text):
    reports = [st.check_smiles(text), st.check_molecule(text), st.check_sequence(text), *st.check_fasta(text)]
    reports += [st.check_reaction(text), st.check_smiles_or_reaction(text)]
    reports += st.find_spans(text)
    for report in reports:
        data = round_trip(report)
        if "ok" in data:  # checking reports: an error exactly when not ok
            assert (data["error"] is None) == data["ok"]


_COUNT_TABLES = ("composition", "excluded_residues")  # keyed by residue letters, not by schema keys
_ROLE_LISTS = {"reactants": "reactant", "agents": "agent", "products": "product"}  # rows say "Reactant 1"


def _keys_by_kind(data: dict) -> set[tuple[str | None, str]]:
    """Every (kind, key) pair in a report dict, nested dicts and lists of dicts included."""
    kind = data.get("kind")
    keys, pending = set(), [data]
    while pending:
        item = pending.pop()
        for key, value in item.items():
            keys.add((kind, key))
            if key in _ROLE_LISTS:
                keys.add((kind, _ROLE_LISTS[key]))
            if isinstance(value, dict) and key not in _COUNT_TABLES:
                pending.append(value)
            elif isinstance(value, list):
                pending += [entry for entry in value if isinstance(entry, dict)]
    return keys


def test_every_key_any_report_produces_has_a_label():
    produced = set().union(*(_keys_by_kind(report.to_dict()) for report in all_reports()))
    missing = []
    for kind, key in sorted(produced, key=str):
        try:
            st.label(key, kind)
        except KeyError:
            missing.append((kind, key))
    assert not missing, f"keys without a display label: {missing}"


def test_unknown_key_has_no_label():
    with pytest.raises(KeyError):
        st.label("no_such_key")


@pytest.mark.parametrize(
    ("key", "kind", "expected"),
    [
        ("molecular_weight", None, "Molecular weight (g/mol)"),
        ("molecular_weight", "molecule", "Molecular weight (g/mol)"),
        ("molecular_weight", "protein", "Molecular weight (Da)"),
        ("exact_mass", None, "Exact mass (Da)"),
        ("logp", None, "logP (Crippen)"),
        ("tpsa", None, "TPSA (Å²)"),
        ("hbd", None, "H-bond donors"),
        ("charge_at_ph7", "protein", "Charge at pH 7"),
        ("length", "protein", "Length (aa)"),
        ("length", "dna", "Length (nt)"),
        ("length", "rna", "Length (nt)"),
        ("gc_content", "dna", "GC content (%)"),
    ],
)
def test_lab_language_labels(key, kind, expected):
    assert st.label(key, kind) == expected
    assert st.LABELS[key]  # the mapping is public too


def test_display_rows_speak_lab_language():
    rows = dict(st.check_smiles("CC(=O)Oc1ccccc1C(=O)O").display_rows())
    assert rows["Molecular weight (g/mol)"] == "180.16"
    assert rows["TPSA (Å²)"] == "63.6"
    assert rows["Canonical SMILES"] == "CC(=O)Oc1ccccc1C(=O)O"
    assert "logp" not in rows and "tpsa" not in rows

    dna = dict(CASES["dna"]().display_rows())
    sequence = "ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG"
    gc_percent = 100 * (sequence.count("G") + sequence.count("C")) / len(sequence)
    assert dna["Type"] == "DNA" and dna["Length (nt)"] == "39" and dna["GC content (%)"] == f"{gc_percent:.1f}"
    assert dna["Translation, frame +1"] == "MAIVMGR*KGAR*"

    protein = dict(st.check_sequence("MKTAYIAKQR").display_rows())
    assert protein["Length (aa)"] == "10" and protein["Molecular weight (Da)"] == "1,209.46"
    assert protein["Helix-prone residues (%)"] == "50.0"


def test_display_rows_of_an_invalid_report_show_the_error_only():
    assert st.check_smiles("C1CC").display_rows() == [("Error", "unclosed ring 1 (opened at position 1)")]
    rows = st.check_sequence("ATGNNNACG").display_rows()
    assert ("Molecular weight, single strand (Da)", "n/a") in rows  # a missing number is said, not hidden


def test_display_rows_shorten_long_values_but_to_dict_keeps_them():
    report = st.check_sequence("ACGT" * 200)
    rows = dict(report.display_rows())
    assert rows["Reverse complement"].endswith("… (+680 more)")
    assert len(report.to_dict()["properties"]["reverse_complement"]) == 800


def test_limits_are_public_and_read_only():
    from science_tools import _limits

    assert st.LIMITS["MAX_SMILES_LENGTH"] == _limits.MAX_SMILES_LENGTH == 5_000
    assert st.LIMITS["MAX_SEQUENCE_TEXT"] == _limits.MAX_SEQUENCE_TEXT
    assert all(name.startswith("MAX_") and isinstance(value, int) for name, value in st.LIMITS.items())
    with pytest.raises(TypeError):
        st.LIMITS["MAX_SMILES_LENGTH"] = 10  # type: ignore[index]
    too_long = "C" * (st.LIMITS["MAX_SMILES_LENGTH"] + 1)
    assert "the limit is 5000" in st.check_smiles(too_long).error
