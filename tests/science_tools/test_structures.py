"""Protein structures with Biopython: chains, sequences, ligands, FASTA per chain, limits and bad files."""

import io
import json
import time

import pytest
from Bio.PDB import MMCIFIO, PDBParser

import science_tools as st


def atom(serial, name, resname, chain, resnum, element, record="ATOM  ", x=0.0):
    return f"{record}{serial:5d} {name:<4} {resname:>3} {chain}{resnum:4d}    {x:8.3f}{1.0:8.3f}{2.0:8.3f}  1.00  0.00          {element:>2}"


def small_pdb() -> str:
    """Chain A: Met-Gln-Ile-Phe-MSE (5 residues), chain B: DNA dA-dC-dG; HEM, two SO4 and waters as HETATM."""
    lines = ["HEADER    TEST STRUCTURE WRITTEN BY THE TEST"]
    residues = [
        ("MET", "A", 1),
        ("GLN", "A", 2),
        ("ILE", "A", 3),
        ("PHE", "A", 4),
        ("DA", "B", 1),
        ("DC", "B", 2),
        ("DG", "B", 3),
    ]
    serial = 0
    for resname, chain, number in residues:
        for name, element in (("N", "N"), ("CA", "C")) if chain == "A" else (("P", "P"), ("C1'", "C")):
            serial += 1
            lines.append(atom(serial, name, resname, chain, number, element, x=serial))
    serial += 1
    lines.append(atom(serial, "SE", "MSE", "A", 5, "SE", "HETATM", x=serial))
    for resname, chain, number, element in (("HEM", "A", 101, "FE"), ("SO4", "A", 102, "S"), ("SO4", "B", 103, "S"),
                                            ("HOH", "A", 201, "O"), ("HOH", "B", 202, "O")):  # fmt: skip
        serial += 1
        lines.append(atom(serial, element, resname, chain, number, element, "HETATM", x=serial))
    return "\n".join(lines) + "\nEND\n"


def as_mmcif(pdb_text: str) -> str:
    structure = PDBParser(QUIET=True).get_structure("test", io.StringIO(pdb_text))
    writer, out = MMCIFIO(), io.StringIO()
    writer.set_structure(structure)
    writer.save(out)
    return out.getvalue()


def check_small_structure(report, shown):
    assert report.ok, report.error
    assert [(c.id, c.kind, c.length, c.sequence) for c in report.chains] == [
        ("A", "protein", 5, "MQIFM"),  # MSE (selenomethionine) stays in the chain as M
        ("B", "dna", 3, "ACG"),
    ]
    assert [(ligand.name, ligand.count, ligand.chains) for ligand in report.ligands] == [
        ("HEM", 1, ("A",)),
        ("SO4", 2, ("A", "B")),
    ]  # no water
    assert report.chains[0].fasta == f">{shown} chain A\nMQIFM"
    assert report.fasta() == f">{shown} chain A\nMQIFM\n>{shown} chain B\nACG"
    assert report.models == 1 and report.atoms == 20


def test_pdb_file(tmp_path):
    path = tmp_path / "1abc.pdb"
    path.write_text(small_pdb())
    report = st.read_structure(path)
    assert report.format == "pdb" and report.input == "1abc.pdb"
    check_small_structure(report, "1abc.pdb")


def test_mmcif_file_gives_the_same_answer(tmp_path):
    path = tmp_path / "1abc.cif"
    path.write_text(as_mmcif(small_pdb()))
    report = st.read_structure(str(path))
    assert report.format == "mmcif"
    check_small_structure(report, "1abc.cif")


def test_pasted_text_and_format_detection():
    pasted = st.read_structure(small_pdb())
    assert pasted.input == "pasted structure" and pasted.format == "pdb"
    check_small_structure(pasted, "pasted structure")
    named = st.read_structure(as_mmcif(small_pdb()), name="upload.cif")
    assert named.format == "mmcif" and named.chains[1].header == "upload.cif chain B"
    assert st.read_structure(as_mmcif(small_pdb())).format == "mmcif"  # "data_" at the start


def test_dict_rows_and_labels():
    report = st.read_structure(small_pdb(), name="1abc.pdb")
    data = report.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert list(data)[:3] == ["kind", "ok", "input"] and data["kind"] == "structure"
    assert data["chains"][0] == {"id": "A", "kind": "protein", "length": 5, "sequence": "MQIFM",
                                 "header": "1abc.pdb chain A", "fasta": ">1abc.pdb chain A\nMQIFM"}  # fmt: skip
    assert data["ligands"][1] == {"name": "SO4", "count": 2, "chains": ["A", "B"]}
    rows = dict(report.display_rows())
    assert rows["Chain A"] == "Protein, 5 residues" and rows["Chain B"] == "DNA, 3 residues"
    assert rows["Ligands (HETATM, no water)"] == "HEM × 1 (A), SO4 × 2 (A, B)"
    for key in (*data, *data["chains"][0], *data["ligands"][0]):
        st.label(key, "structure")


def test_nmr_models_warn_and_use_the_first():
    models = small_pdb().replace("HEADER", "MODEL        1\nHEADER").replace("END\n", "ENDMDL\n")
    two = models + models.replace("MODEL        1", "MODEL        2")
    report = st.read_structure(two + "END\n", name="nmr.pdb")
    assert report.ok and report.models == 2 and report.warnings == ("2 models; chains and ligands are from model 1",)
    assert report.chains[0].length == 5


def test_a_50_mb_pdb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.pdb"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB by metadata, nothing read
    started = time.perf_counter()
    report = st.read_structure(path)
    assert report.error == "'huge.pdb' is 50.0 MB; the limit is 20.0 MB"
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "empty.pdb",
            "HEADER    NOTHING\nREMARK   1 NO COORDINATES\nEND\n",
            "'empty.pdb' has no atoms (no ATOM or HETATM records)",
        ),
        (
            "binary.cif",
            b"\x89HDF\r\n\x1a\n\x00\x00\x00\x08binary",
            "'binary.cif' is not a text file (it contains NUL bytes)",
        ),
        ("latin.cif", b"data_x\n\xff\xfe\xfa", "'latin.cif' is not text (byte 7 cannot be decoded as UTF-8)"),
        (
            "notcif.cif",
            "this is not mmCIF\n",
            "'notcif.cif' could not be read as mmCIF: The input mmCIF file must begin",
        ),
    ],
)
def test_bad_files_get_clear_messages(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    report = st.read_structure(path)
    assert not report.ok and report.error.startswith(message)
    json.dumps(report.to_dict(), allow_nan=False)


def test_truncated_files_get_clear_messages():
    pdb = small_pdb()
    cut = pdb[: pdb.index("ILE") + 20]  # inside a coordinate field of an ATOM line
    report = st.read_structure(cut, name="cut.pdb")
    assert not report.ok
    assert report.error.startswith("'cut.pdb' could not be read as PDB: Invalid or missing coordinate(s) at line")
    assert "(is the file complete?)" in report.error
    cif = as_mmcif(pdb)
    report = st.read_structure(cif[: len(cif) * 2 // 3], name="cut.cif")
    assert not report.ok and report.error.startswith("'cut.cif' could not be read as mmCIF:")
    assert "truncated" in report.error or "complete" in report.error


def test_ligands_only_is_not_a_structure_with_chains():
    hetatm = "\n".join(atom(n, "C1", "LIG", "A", 1, "C", "HETATM", x=n) for n in range(1, 4)) + "\nEND\n"
    report = st.read_structure(hetatm, name="ligand.pdb")
    assert not report.ok and report.error.startswith("'ligand.pdb' has no protein or nucleic-acid chain")
    assert [(ligand.name, ligand.count) for ligand in report.ligands] == [("LIG", 1)]


def test_sequence_file_reads_chains_of_a_structure(tmp_path):
    path = tmp_path / "1abc.pdb"
    path.write_text(small_pdb())
    report = st.read_sequence_file(path)
    assert report.ok and report.format == "pdb"
    assert [(r.header, r.kind, r.sequence) for r in report.records] == [
        ("1abc.pdb chain A", "protein", "MQIFM"),
        ("1abc.pdb chain B", "dna", "ACG"),
    ]
    assert st.read_sequence_file(tmp_path / "absent.cif").error.startswith("'absent.cif' could not be opened")


def test_types_and_formats():
    with pytest.raises(TypeError):
        st.read_structure(b"ATOM")
    with pytest.raises(TypeError):
        st.read_structure(small_pdb(), name=1)
    with pytest.raises(ValueError):
        st.read_structure(small_pdb(), "xyz")
