"""Structure files (.pdb, .cif) as chat attachments: one FASTA block per chain headed by file and chain, and clear
messages for files that are too big, hold no atoms or are not text."""

import pytest
from studio_media import UBIQUITIN, make_mmcif, make_pdb, make_text, pdb_atom

import science_tools
from app.chat.attachments import InputError, file_kind, prepare_user_turn
from app.chat.structures import structure_prompt_text
from app.config import Limits


LIMITS = Limits()
CHAIN_A = UBIQUITIN[:16]


def test_a_pdb_attachment_gives_one_tagged_fasta_block_per_chain_named_by_file_and_chain(tmp_path):
    pdb = make_pdb(tmp_path / "1abc.pdb")
    turn = prepare_user_turn("What fold is this?", [str(pdb)], LIMITS)
    assert turn.content[-1]["text"] == (
        "What fold is this?\n"
        f">1abc.pdb chain A\n<FASTA>{CHAIN_A}</FASTA>\n"
        ">1abc.pdb chain B\n<FASTA>KVTVKVTV</FASTA>\n"
        "Ligands in 1abc.pdb: ACT ×1"
    )
    (attachment,) = turn.attachments
    assert (attachment.kind, attachment.name) == ("structure", "1abc.pdb")
    assert turn.notes == ["1abc.pdb: chain A (protein, 16 residues); chain B (protein, 8 residues); ligands ACT"]


def test_the_original_file_name_heads_the_chains_not_the_upload_path(tmp_path):
    upload = make_pdb(tmp_path / "upload-8f3a1c.pdb", {"A": CHAIN_A}, ligand=None)
    turn = prepare_user_turn("?", [str(upload)], LIMITS, names=["1ubq.pdb"])
    assert turn.content[-1]["text"] == f"?\n>1ubq.pdb chain A\n<FASTA>{CHAIN_A}</FASTA>"


def test_mmcif_reads_like_pdb(tmp_path):
    cif = make_mmcif(make_pdb(tmp_path / "s.pdb"), tmp_path / "s.cif")
    assert file_kind(str(cif)) == "structure"
    text = prepare_user_turn("?", [str(cif)], LIMITS).content[-1]["text"]
    assert f">s.cif chain A\n<FASTA>{CHAIN_A}</FASTA>" in text and ">s.cif chain B" in text


def test_nucleic_acid_chains_stay_untagged():
    pdb = "\n".join(
        pdb_atom("ATOM  ", index, "P", base, "B", index, (3.0 * index, 0.0, 0.0), "P")
        for index, base in enumerate(["DA", "DC", "DG", "DT"], start=1)
    )
    report = science_tools.read_structure(pdb + "\nEND\n", name="dna.pdb")
    assert structure_prompt_text(report) == ">dna.pdb chain B\nACGT"


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("header_only.pdb", "HEADER    NO COORDINATES\nREMARK   1 NOTHING HERE\nEND\n", "has no atoms (no ATOM"),
        ("binary.cif", bytes(range(256)) * 8, "is not a text file (it contains NUL bytes)"),
        ("latin1.pdb", "HEADER    caf\xe9\n".encode("latin-1"), "is not text (byte 13 cannot be decoded"),
        ("ligand_only.pdb", "HETATM    1  C   ACT A 101       0.000   0.000   0.000  1.00  0.00           C\n",
         "has no protein or nucleic-acid chain"),
        ("truncated.cif", "data_x\nloop_\n_atom_site.group_PDB\n_atom_site.id\nATOM\n", "could not be read as mmCIF"),
    ],
)  # fmt: skip
def test_bad_structure_files_get_a_clear_message_naming_the_file(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    with pytest.raises(InputError, match=r"'" + name.replace(".", r"\.") + r"'") as refused:
        prepare_user_turn("?", [str(path)], LIMITS)
    assert says in str(refused.value)


def test_a_50_mb_pdb_is_refused_before_it_is_parsed(tmp_path):
    big = tmp_path / "huge.pdb"
    line = (make_pdb(tmp_path / "one.pdb", {"A": "M"}, ligand=None).read_text().splitlines()[1] + "\n").encode()
    with big.open("wb") as out:
        out.write(line * (50_000_000 // len(line) + 1))
    with pytest.raises(InputError, match=r"'huge\.pdb' is 4\d\.\d MB; the limit is 20 MB"):
        prepare_user_turn("?", [str(big)], LIMITS)
    with pytest.raises(InputError, match=r"'huge\.pdb' is 50\.0 MB; the limit is 20\.0 MB"):
        prepare_user_turn("?", [str(big)], Limits(max_file_size_mb=100))  # then science_tools' own limit holds


def test_fasta_files_are_still_sequences(tmp_path):
    fasta = make_text(tmp_path / "p.fa", f">ubq\n{UBIQUITIN}\n")
    turn = prepare_user_turn("?", [str(fasta)], LIMITS)
    assert turn.attachments[0].kind == "sequence"
    assert turn.content[-1]["text"] == f"?\nubq (p.fa, record 1) → <FASTA>{UBIQUITIN}</FASTA>"
