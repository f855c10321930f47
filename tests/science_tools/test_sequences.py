"""check_sequence / check_fasta: cleaning, classification, residue validation, ProtParam parity."""

import pytest
from Bio.Seq import Seq
from Bio.SeqUtils import gc_fraction
from Bio.SeqUtils.ProtParam import ProteinAnalysis

import science_tools as st


UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
INSULIN_B = "FVNQHLCGSHLVEALYLVCGERGFFYTPKT"
GFP_START = "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFSRYPDHMKQ"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (UBIQUITIN, "protein"),
        ("ACDEFGHIKLMNPQRSTVWY", "protein"),
        ("MKTXXAYIAK", "protein"),  # X: unknown residue
        ("MKTBZAYIAK", "protein"),  # B (Asx), Z (Glx)
        ("MKTUAYIAKO", "protein"),  # U (Sec), O (Pyl)
        ("MKTJAYIAK", "protein"),  # J (Leu/Ile)
        ("ATGCGTACGTAGCT", "dna"),
        ("atgcgtacgtagct", "dna"),
        ("ATGNNNACGT", "dna"),  # N: any nucleotide
        ("ATGCRYACGTACGTACGTAC", "dna"),  # R, Y: IUPAC ambiguity codes at < 10 %
        ("AUGGCUUAAGCU", "rna"),
        ("augg cuua agcu", "rna"),
        ("ACGTUACGU", "protein"),  # both T and U: not a nucleic acid
        ("ACRYKMSWRYKMSW", "protein"),  # mostly ambiguity codes: read as amino acids
    ],
)
def test_classification(text, kind):
    report = st.check_sequence(text)
    assert report.ok, report.error
    assert report.kind == kind


@pytest.mark.parametrize(
    ("text", "sequence"),
    [
        (">sp|P0CG48|UBC test\nMQIFVKTLTG KTITLEVEPS\nDTIENVKAKI\n", "MQIFVKTLTGKTITLEVEPSDTIENVKAKI"),
        ("1 mqifvktltg ktitlevEPS\n21 DTIENVKAKI", "MQIFVKTLTGKTITLEVEPSDTIENVKAKI"),  # GenBank-style numbers
        ("  MQIF\r\n  VKTL\t\n", "MQIFVKTL"),
        ("MQIFVKTL*", "MQIFVKTL"),  # trailing stop removed
    ],
)
def test_cleaning(text, sequence):
    report = st.check_sequence(text, "protein")
    assert report.ok and report.sequence == sequence


def test_header_is_kept():
    report = st.check_sequence(">my protein\nMKT\n")
    assert report.header == "my protein" and report.record_count == 1


def test_several_records():
    text = ">a\nMQIFVKTLTG\n>b\nATGCGTACGTAGCT\n>c\nMKT*AY\n"
    reports = st.check_fasta(text)
    assert [r.header for r in reports] == ["a", "b", "c"]
    assert [r.kind for r in reports] == ["protein", "dna", "protein"]
    assert [r.ok for r in reports] == [True, True, False]
    first = st.check_sequence(text)
    assert first.record_count == 3 and first.header == "a" and "3 records found" in first.warnings[-1]


def test_comment_lines_are_skipped():
    report = st.check_sequence(">x\n;a comment line\nMKT\n;another\nAYI\n")
    assert report.ok and report.sequence == "MKTAYI" and report.record_count == 1


def test_headerless_text_before_first_record_is_its_own_record():
    reports = st.check_fasta("MQIFVKTLTG\n>b\nMKTAYIAK\n")
    assert [(r.header, r.sequence) for r in reports] == [(None, "MQIFVKTLTG"), ("b", "MKTAYIAK")]


@pytest.mark.parametrize(
    ("text", "kind", "message", "invalid"),
    [
        ("MKT*AY", "auto", "'*' at 4", ((4, "*"),)),
        ("MK-TA", "auto", "'-' at 3", ((3, "-"),)),
        (
            "MKTA#Y@",
            "protein",
            "2 character(s) not allowed in a protein sequence: '#' at 5, '@' at 7",
            ((5, "#"), (7, "@")),
        ),
        ("ATGCEF", "dna", "'E' at 5, 'F' at 6", ((5, "E"), (6, "F"))),
        ("AUGT", "rna", "'T' at 4", ((4, "T"),)),
    ],
)
def test_offending_characters_are_named_with_positions(text, kind, message, invalid):
    report = st.check_sequence(text, kind)
    assert not report.ok and message in report.error
    assert [(residue.position, residue.character) for residue in report.invalid_residues] == list(invalid)
    assert report.properties == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty sequence"),
        ("   \n 123 \n", "empty sequence"),
        (">only a header\n", "empty sequence: no residues found in record 'only a header'"),
        ("XXXXBZ", "no standard amino acid left"),
        ("*", "only a stop"),
    ],
)
def test_empty_and_unanalysable(text, message):
    report = st.check_sequence(text)
    assert not report.ok and message in report.error


def test_limits(monkeypatch):
    monkeypatch.setattr("science_tools._sequences.MAX_RESIDUES", 10)
    report = st.check_sequence("MKTAYIAKQRQISF")
    assert not report.ok and "14 residues; the limit is 10" in report.error
    monkeypatch.setattr("science_tools._sequences.MAX_SEQUENCE_TEXT", 5)
    assert "limit is 5" in st.check_sequence("MKTAYIAK").error


def _biopython_card(sequence: str) -> dict:
    analysis = ProteinAnalysis(sequence)
    helix, turn, sheet = analysis.secondary_structure_fraction()
    reduced, cystines = analysis.molar_extinction_coefficient()
    return {
        "molecular_weight": analysis.molecular_weight(),
        "isoelectric_point": analysis.isoelectric_point(),
        "charge_at_ph7": analysis.charge_at_pH(7.0),
        "gravy": analysis.gravy(),
        "instability_index": analysis.instability_index(),
        "aromaticity": analysis.aromaticity(),
        "extinction_coefficient_reduced": reduced,
        "extinction_coefficient_cystines": cystines,
        "helix_fraction": helix,
        "turn_fraction": turn,
        "sheet_fraction": sheet,
    }


@pytest.mark.parametrize("sequence", [UBIQUITIN, INSULIN_B, GFP_START, "ACDEFGHIKLMNPQRSTVWY"])
def test_protparam_numbers_equal_biopython(sequence):
    card = st.check_sequence(sequence).properties
    for key, value in _biopython_card(sequence).items():
        assert card[key] == value, key
    assert card["length"] == len(sequence)
    assert card["stable"] == (card["instability_index"] < 40)
    assert sum(card["composition"].values()) == len(sequence)
    assert card["excluded_residues"] == {}


def test_ubiquitin_matches_published_expasy_values():
    card = st.check_sequence(UBIQUITIN).properties
    assert card["molecular_weight"] == pytest.approx(8564.84, abs=0.2)  # ExPASy ProtParam, P0CG48 chain
    assert card["isoelectric_point"] == pytest.approx(6.56, abs=0.02)
    assert card["stable"] is True


def test_ambiguous_residue_policy_computes_on_standard_residues_and_says_so():
    report = st.check_sequence("MKTX" + UBIQUITIN + "BZUOJ")
    assert report.ok
    card = report.properties
    assert card["length"] == len(UBIQUITIN) + 9
    assert card["excluded_residues"] == {"B": 1, "J": 1, "O": 1, "U": 1, "X": 1, "Z": 1}
    assert "excluded from computed properties" in report.warnings[0]
    expected = _biopython_card("MKT" + UBIQUITIN)
    assert card["molecular_weight"] == expected["molecular_weight"]
    assert card["instability_index"] == expected["instability_index"]
    assert card["composition"]["X"] == 1


def test_very_short_peptide_has_no_instability_index():
    card = st.check_sequence("W", "protein").properties
    assert card["instability_index"] is None and card["stable"] is None and card["length"] == 1


def test_dna_card():
    report = st.check_sequence("ATGGCCATTGTAATGGGCCGCTGAAAGGGTGCCCGATAG")
    card = report.properties
    seq = Seq(report.sequence)
    assert card["gc_content"] == gc_fraction(seq)
    assert card["reverse_complement"] == str(seq.reverse_complement())
    assert card["translation_frames"][0] == "MAIVMGR*KGAR*"
    assert card["translation_frames"][1] == str(seq[1:37].translate())
    assert card["translation_frames"][2] == str(seq[2:38].translate())
    assert card["molecular_weight"] > 0


def test_dna_with_n_has_no_single_mass_but_other_numbers():
    card = st.check_sequence("ATGNNNACGTAA").properties
    assert card["molecular_weight"] is None
    assert card["gc_content"] == pytest.approx(gc_fraction("ATGNNNACGTAA"))
    assert card["translation_frames"][0] == "MXT*"


def test_rna_card():
    card = st.check_sequence("AUGGCUUAA").properties
    assert card["reverse_complement"] == "UUAAGCCAU"
    assert card["translation_frames"][0] == "MA*"


def test_unknown_kind_is_a_programmer_error():
    with pytest.raises(ValueError, match="kind must be one of"):
        st.check_sequence("MKT", "peptide")


def test_validation_only_mode_skips_the_card():
    report = st.check_sequence(UBIQUITIN, properties=False)
    assert report.ok and report.kind == "protein" and report.properties == {}
    assert st.check_sequence("MKT*AY", properties=False).error == st.check_sequence("MKT*AY").error
    assert [r.properties for r in st.check_fasta(">a\nMKT\n>b\nACGTACGTACGT", properties=False)] == [{}, {}]


def test_fasta_record_limit(monkeypatch):
    monkeypatch.setattr("science_tools._sequences.MAX_FASTA_RECORDS", 3)
    (report,) = st.check_fasta(">a\nMK\n>b\nMK\n>c\nMK\n>d\nMK\n")
    assert not report.ok and report.error == "input has 4 FASTA records; the limit is 3"
