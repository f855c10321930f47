"""Name → structure with OPSIN (py2opsin's jar, Java): known answers, OPSIN's reasons, limits, no Java."""

import json
import shutil
import subprocess
import time

import pytest
from rdkit import Chem

import science_tools as st
from science_tools import _names


needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="no Java runtime on this machine (OPSIN runs in a JVM)"
)

KNOWN = {
    "2-acetyloxybenzoic acid": "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "1,3,7-trimethylpurine-2,6-dione": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "(2S)-2-aminopropanoic acid": "C[C@H](N)C(=O)O",  # L-alanine: the stereo centre must survive
}


def rdkit_canonical(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@needs_java
def test_known_names_match_rdkit_canonical_smiles_in_one_batch():
    names = [*KNOWN, "foobarane", "  2-methylhexa  "]
    reports = st.names_to_structures(names)
    assert [r.input for r in reports] == names
    for name, report in zip(KNOWN, reports):
        assert report.ok, report.error
        assert report.canonical_smiles == rdkit_canonical(KNOWN[name])
        assert report.source == "OPSIN" and report.opsin_smiles
    assert reports[2].canonical_smiles != rdkit_canonical("C[C@@H](N)C(=O)O")  # not D-alanine
    nonsense, partial = reports[3], reports[4]
    assert not nonsense.ok and nonsense.error.startswith("OPSIN could not interpret this name: foobarane")
    assert "not understandable" in nonsense.error  # OPSIN's own words
    assert partial.name == "2-methylhexa" and "hexa" in partial.error


@needs_java
def test_one_name_and_its_dict_and_rows():
    report = st.name_to_structure("2-acetyloxybenzoic acid")
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert list(data)[:3] == ["kind", "ok", "input"] and data["kind"] == "name"
    assert data["formula"] == "C9H8O4"
    rows = dict(report.display_rows())
    assert rows["Chemical name"] == "2-acetyloxybenzoic acid" and rows["Structure from"] == "OPSIN"
    assert report.provenance() == "from the name 2-acetyloxybenzoic acid, OPSIN"
    for key in data:
        st.label(key, "name")


@needs_java
def test_opsin_is_killed_at_its_timeout(monkeypatch):
    monkeypatch.setattr(_names, "MAX_OPSIN_SECONDS", 0.05)
    started = time.perf_counter()
    report = st.name_to_structure("benzene")
    assert report.error == "OPSIN did not answer within 0.05 s"
    assert time.perf_counter() - started < 5


def _no_opsin(*args, **kwargs):
    raise AssertionError("OPSIN must not run for input refused by a limit")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 10_000, "the name is 10,000 characters long; the limit is 2,000"),
        ("", "empty name"),
        ("   ", "empty name"),
        ("benzene\nethanol", "character '\\n' at position 7 is not allowed in a name (one name per line)"),
        ("benz\x00ene", "character '\\x00' at position 4"),
    ],
)
def test_bad_names_are_refused_before_opsin_runs(monkeypatch, name, message):
    monkeypatch.setattr(subprocess, "run", _no_opsin)
    report = st.name_to_structure(name)
    assert not report.ok and message in report.error


def test_too_many_names_in_one_call(monkeypatch):
    monkeypatch.setattr(subprocess, "run", _no_opsin)
    reports = st.names_to_structures(["benzene"] * 101)
    assert len(reports) == 101 and all(r.error == "101 names in one call; the limit is 100" for r in reports)


def test_without_java_the_feature_says_why_and_how(monkeypatch):
    monkeypatch.setattr(_names.shutil, "which", lambda command: None)
    monkeypatch.setattr(subprocess, "run", _no_opsin)
    assert st.opsin_problem() == _names.JAVA_MISSING
    report = st.name_to_structure("2-acetyloxybenzoic acid")
    assert not report.ok
    assert report.error == (
        "Java runtime not found: install a JRE (e.g. `apt install default-jre-headless`) to enable name → structure"
    )


def test_opsin_jar_comes_from_py2opsin_without_importing_it():
    jar = _names._opsin_jar()
    assert jar is not None and jar.suffix == ".jar" and "opsin" in jar.name
    code = "import sys, science_tools._names as n; n._opsin_jar(); print('py2opsin' in sys.modules)"
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # importing py2opsin would run `java -version`


@pytest.mark.parametrize("value", [None, 1, b"benzene"])
def test_non_str_raises_type_error(value):
    with pytest.raises(TypeError):
        st.name_to_structure(value)
    with pytest.raises(TypeError):
        st.names_to_structures([value])
    with pytest.raises(TypeError):
        st.names_to_structures("benzene")
