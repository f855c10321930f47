"""Bounded, provenance-keeping file readers: .smi / .sdf / .mol molecules and FASTA sequences."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import science_tools as st
from science_tools import _files


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def mol_block(title: str, element: str = "C", tail: str = "") -> str:
    atom = f"    0.0000    0.0000    0.0000 {element:<3} 0  0  0  0  0  0  0  0  0  0  0  0\n"
    counts = "  1  0  0  0  0  0  0  0  0  0999 V2000\n"
    return f"{title}\n  test\n\n{counts}{atom}M  END\n{tail}$$$$\n"


def test_smi_keeps_names_lines_and_skips_comments_and_header(tmp_path):
    path = write(
        tmp_path,
        "drugs.smi",
        "SMILES Name\n# a comment\n\nCC(=O)Oc1ccccc1C(=O)O aspirin\nCn1cnc2c1c(=O)n(C)c(=O)n2C\tcaffeine, anhydrous\nC[C@H](N)C(=O)O |&1:1| L-alanine\nCCO\n",
    )
    report = st.read_molecule_file(path)
    assert report.ok and report.error is None and report.format == "smi"
    assert [m.name for m in report.molecules] == ["aspirin", "caffeine, anhydrous", "L-alanine", None]
    assert [m.line for m in report.molecules] == [4, 5, 6, 7]
    assert [m.record for m in report.molecules] == [1, 2, 3, 4]
    assert report.molecules[0].molecule.canonical_smiles == "CC(=O)Oc1ccccc1C(=O)O"
    assert report.molecules[0].provenance() == "aspirin (drugs.smi, line 4)"
    assert report.molecules[3].provenance() == "drugs.smi, line 7"
    assert any("column header" in note for note in report.warnings)


def test_smi_invalid_line_is_named_and_the_rest_still_read(tmp_path):
    report = st.read_molecule_file(write(tmp_path, "x.smi", "CCO ethanol\nC1CC broken\nc1ccccc1 benzene\n"))
    assert not report.ok
    assert report.error == "line 2 of 'x.smi' is not a valid molecule: unclosed ring 1 (opened at position 1)"
    assert [m.ok for m in report.molecules] == [True, False, True]


def test_sdf_titles_and_name_fields_travel_with_the_molecules(tmp_path):
    content = mol_block("caffeine") + mol_block("", "N", "> <Name>\nammonia\n\n") + mol_block("", "O")
    report = st.read_molecule_file(write(tmp_path, "lib.sdf", content), name="library.sdf")
    assert report.ok and report.input == "library.sdf" and report.format == "sdf"
    assert [m.name for m in report.molecules] == ["caffeine", "ammonia", None]
    assert [m.molecule.canonical_smiles for m in report.molecules] == ["C", "N", "O"]
    assert report.molecules[0].provenance() == "caffeine (library.sdf, record 1)"
    assert [m.line for m in report.molecules] == [1, 8, 18]


def test_sdf_invalid_record_is_named_with_its_number(tmp_path):
    bad = "bad\n  test\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0 0.0 garbage\nM  END\n$$$$\n"
    report = st.read_molecule_file(write(tmp_path, "x.sdf", mol_block("ok") + bad))
    assert not report.ok and report.error.startswith(
        "record 2 (line 8) of 'x.sdf' is not a valid molecule: invalid MOL"
    )


def test_mol_file(tmp_path):
    report = st.read_molecule_file(write(tmp_path, "one.mol", mol_block("methane").replace("$$$$\n", "")))
    assert report.ok and report.format == "mol" and report.molecules[0].name == "methane"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.smi", "", "no molecule found in 'empty.smi' (expected one SMILES per line)"),
        ("comments.smi", "# only\n\n", "no molecule found"),
        ("empty.sdf", "\n\n", "no molecule found in 'empty.sdf' (expected MOL records"),
        ("binary.smi", b"CCO\x00\x01\x02", "'binary.smi' is not a text file (it contains NUL bytes)"),
        ("latin1.smi", "CCO éthanol\n".encode("latin-1"), "'latin1.smi' is not UTF-8 text (line 1 cannot be decoded)"),
        ("molecule.txt", "CCO", "'molecule.txt' is not a molecule file"),
    ],
)
def test_bad_molecule_files_get_clear_messages(tmp_path, name, content, message):
    report = st.read_molecule_file(write(tmp_path, name, content))
    assert not report.ok and message in report.error and report.molecules == ()
    json.dumps(report.to_dict(), allow_nan=False)


def test_missing_file_and_directory(tmp_path):
    assert "could not be opened" in st.read_molecule_file(tmp_path / "absent.smi").error
    folder = tmp_path / "folder.smi"
    folder.mkdir()
    assert not st.read_molecule_file(folder).ok


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_a_fifo_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "stream.smi"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'w').write('C' * 100)"])
    try:
        assert st.read_molecule_file(fifo).error == "'stream.smi' is not a regular file"
    finally:
        writer.wait(timeout=10)


def test_size_limit_is_checked_from_metadata_before_reading(tmp_path):
    path = tmp_path / "huge.sdf"
    with path.open("wb") as handle:
        handle.truncate(st.LIMITS["MAX_MOLECULE_FILE_BYTES"] + 1)  # sparse: nothing to read, 10 MB by metadata
    started = time.perf_counter()
    report = st.read_molecule_file(path)
    assert report.error == "'huge.sdf' is 10.0 MB; the limit is 10.0 MB"
    assert time.perf_counter() - started < 1
    assert "the limit is 0.0 MB" in st.read_molecule_file(write(tmp_path, "a.smi", "CCO\n"), max_bytes=3).error


def test_record_and_smiles_budgets_stop_reading_early(tmp_path):
    path = write(tmp_path, "many.smi", "CCO\n" * 50)
    assert (
        st.read_molecule_file(path, max_records=10).error == "'many.smi' has more than 10 molecules; the limit is 10"
    )
    budget = st.read_molecule_file(path, max_smiles_chars=20)
    assert budget.error == "the molecules of 'many.smi' come to more than 20 characters of SMILES; the limit is 20"


def test_long_sdf_record_is_refused_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "MAX_MOLECULE_TEXT", 300)
    report = st.read_molecule_file(write(tmp_path, "long.sdf", mol_block("ok") + "x\n" * 400))
    assert "the record starting on line 8 of 'long.sdf' is longer than 300 characters" in report.error


BIG_SMI_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import science_tools as st

    def rss_kib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    st.check_smiles("CCO")  # RDKit loaded before the baseline
    before = rss_kib("VmRSS:")
    started = time.perf_counter()
    report = st.read_molecule_file(sys.argv[1])
    print(json.dumps({"seconds": time.perf_counter() - started, "growth_mib": (rss_kib("VmHWM:") - before) / 1024,
                      "error": report.error}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="RSS is read from /proc (Linux)")
def test_issue_16_big_smi_is_refused_fast_and_small(tmp_path):
    """5.6 MB / 300 000 lines: refused in < 5 s with < 200 MB RSS growth (it used to parse for hours)."""
    path = tmp_path / "big.smi"
    path.write_text("".join(f"CC(=O)Oc1ccccc1C(=O)O m{i}\n" for i in range(300_000)))
    assert 5_000_000 < path.stat().st_size < 10_000_000
    out = subprocess.run([sys.executable, "-c", BIG_SMI_SCRIPT, str(path)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["error"] == "'big.smi' has more than 1,000 molecules; the limit is 1,000"
    assert result["seconds"] < 5
    assert result["growth_mib"] < 200


def test_fasta_file_keeps_headers_and_counts_lines_from_the_top(tmp_path):
    content = ">sp|P1|first protein\nMKTAYIAKQR\n>dna record\nATGCGT\nACGTAG\n>bad\nMKT\nMK!T\n"
    report = st.read_sequence_file(write(tmp_path, "seqs.fasta", content))
    assert not report.ok and report.format == "fasta" and report.input == "seqs.fasta"
    assert [r.header for r in report.records] == ["sp|P1|first protein", "dna record", "bad"]
    assert [r.kind for r in report.records] == ["protein", "dna", "protein"]
    assert report.records[1].sequence == "ATGCGTACGTAG"
    assert report.error == "record 'bad' of 'seqs.fasta' is not valid: " + report.records[2].error
    assert "'!' at line 8, column 3" in report.error


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (">a\nMK\n" * 20, {"max_records": 5}, "'x.fasta' has more than 5 records; the limit is 5"),
        ("MKT\n" * 100, {"max_chars": 50}, "'x.fasta' has more than 50 characters of text; the limit is 50"),
        ("MKT" * 100, {"max_chars": 50}, "line 1 of 'x.fasta' is longer than 50 characters (the limit)"),
        ("MKT\n" * 100, {"max_bytes": 10}, "'x.fasta' is 0.0 MB; the limit is 0.0 MB"),
        ("", {}, "no sequence found in 'x.fasta'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", {}, "not a text file"),
    ],
)
def test_bad_fasta_files_get_clear_messages(tmp_path, content, kwargs, message):
    report = st.read_sequence_file(write(tmp_path, "x.fasta", content), **kwargs)
    assert not report.ok and message in report.error and report.records == ()


def test_fasta_file_suffix_and_types(tmp_path):
    assert "is not a FASTA or structure file" in st.read_sequence_file(write(tmp_path, "x.txt", ">a\nMK\n")).error
    assert st.read_sequence_file(write(tmp_path, "x.txt", ">a\nMK\n"), name="upload.fa").ok  # the name decides
    with pytest.raises(TypeError):
        st.read_sequence_file(123)
    with pytest.raises(TypeError):
        st.read_molecule_file(None)
    with pytest.raises(ValueError):
        st.read_sequence_file(write(tmp_path, "y.fasta", "MK"), "peptide")


def test_file_reports_are_json_safe_and_labelled(tmp_path):
    molecules = st.read_molecule_file(write(tmp_path, "a.smi", "CCO ethanol\nC1CC broken\n"))
    sequences = st.read_sequence_file(write(tmp_path, "a.fasta", ">p\nMKTAYIAKQR\n>d\nATGC!\n"))
    for report in (molecules, sequences):
        data = report.to_dict()
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        assert list(data)[:3] == ["kind", "ok", "input"]
        for key in data:
            st.label(key, data["kind"])
    assert molecules.to_dict()["molecules"][0]["name"] == "ethanol"
    assert molecules.to_dict()["molecules"][0]["kind"] == "molecule"
    assert dict(molecules.display_rows())["ethanol"] == "CCO"
    rows = dict(sequences.display_rows())
    assert rows["File"] == "a.fasta" and rows["p"] == "Protein, 10 aa" and rows["d"].startswith("invalid: ")
