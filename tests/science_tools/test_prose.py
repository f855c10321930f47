"""The "reads like English prose" warning on proteins, and error positions in the user's own characters."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import science_tools as st
from science_tools._prose import prose_score, reads_like_prose


# Real peptides and proteins (one-letter codes as published); none may warn.
PROTEINS = {
    "MKTAYIAKQR (issue example)": "MKTAYIAKQR",
    "ubiquitin": "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG",
    "insulin B chain": "FVNQHLCGSHLVEALYLVCGERGFFYTPKT",
    "insulin A chain": "GIVEQCCTSICSLYQLENYCN",
    "preproinsulin": "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKTRREAEDLQVGQVELGGGPGAGSLQPLALEGSLQKRGIVEQ"
    "CCTSICSLYQLENYCN",
    "GFP N-terminus": "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTT",
    "glucagon": "HSQGTFTSDYSKYLDSRRAQDFVQWLMNT",
    "melittin": "GIGAVLKVLTTGLPALISWIKRKRQQ",
    "substance P": "RPKPQQFFGLM",
    "angiotensin II": "DRVYIHPF",
    "oxytocin": "CYIQNCPLG",
    "bradykinin": "RPPGFSPFR",
    "GLP-1": "HAEGTFTSDVSSYLEGQAAKEFIAWLVKGRG",
    "amyloid beta 1-40": "DAEFRHDSGYEVHHQKLVFFAEDVGSNKGAIIGLMVGGVV",
    "FLAG tag": "DYKDDDDK",
    "HA tag": "YPYDVPDYA",
    "Strep-tag II": "WSHPQFEK",
    "His tag": "HHHHHH",
    "His tag, 10": "HHHHHHHHHH",
    "Myc tag": "EQKLISEEDL",
    "V5 tag": "GKPIPNPLLGLDST",
    "TEV site": "ENLYFQG",
    "magainin 2": "GIGKFLHSAKKFGKAFVGEIMNS",
    "LL-37": "LLGDFFRKSKEKIGKEFKRIVQRIKDFLRNLVPRTES",
    "exendin-4": "HGEGTFTSDLSKQMEEEAVRLFIEWLKNGGPSSGAPPPS",
    "calcitonin (salmon)": "CSNLSTCVLGKLSQELHKLQTYPRTNTGSGTP",
    "thymosin beta-4 fragment": "SDAAVDTSSEITTKDLKEKKEVVEEAEN",
    "crambin": "TTCCPSIVARSNFNVCRLPGTPEAICATYTGCIIIPGATCPGDYAN",
    "villin headpiece": "LSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF",
    "Trp-cage": "NLYIQWLKDGGPSSGRPPPS",
    "protein G B1": "MTYKLILNGKTLKGETTTEAVDAATAEKVFKQYANDNGVDGEWTYDDATKTFTVTE",
    "hen lysozyme": "KVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDGRTPGSRNLCNIPCSALLSSDITASVNCAKK"
    "IVSDGNGMNAWVAWRNRCKGTDVQAWIRGCRL",
    "GenBank-style blocks": "1 mktayiakqr qisfvkshfs rqleerlgli evqapilsrv gdgtqdnlsg aekavqvkvk alpdaqfevv hslakwkrqt",
}
PROSE = [
    "hello there",
    "Hello there",
    "hellothere",
    "the quick brown fox jumps over the lazy dog",
    "hello world",
    "this is a test",
    "please check my protein",
    "What is the molecular weight",
    "I like chemistry",
    "good morning",
    "thank you very much",
    "ethanol is a solvent",
    "tell me about this molecule",
    "Lorem ipsum dolor sit amet",
]


@pytest.mark.parametrize("name", sorted(PROTEINS))
def test_real_proteins_do_not_warn(name):
    report = st.check_sequence(PROTEINS[name], "protein")
    assert report.ok, report.error
    assert not any("English" in warning for warning in report.warnings)


@pytest.mark.parametrize("text", PROSE)
def test_prose_warns(text):
    report = st.check_sequence(text, "protein")
    assert report.ok  # every letter is an amino-acid code, so it is accepted; the warning says what it looks like
    assert any("reads like English words" in warning for warning in report.warnings), report.warnings


def test_auto_kind_warns_too_and_the_warning_reaches_the_dict():
    data = st.check_sequence("hello there").to_dict()
    assert data["kind"] == "protein" and any("English" in warning for warning in data["warnings"])


def test_scores_separate_the_two_sets_with_margin():
    protein_scores = [prose_score(seq) for seq in PROTEINS.values() if not seq.startswith("H" * 6)]
    prose_scores = [prose_score(text) for text in PROSE]
    assert max(protein_scores) < 0 < min(prose_scores)


def test_short_and_low_complexity_text_never_warns():
    assert not reads_like_prose("HELLO")  # too few letters
    assert not reads_like_prose("HHHHHHHHHH")  # His-tag: too few distinct letters
    assert not reads_like_prose("THETHETHE")  # too few distinct letters


@pytest.mark.parametrize(
    ("text", "message", "cleaned", "typed", "line", "column"),
    [
        # the example: typed character 16, the 13th residue after digits and spaces are stripped
        ("MKTAYIAKQR 1 QI!", "'!' at 16", 13, 16, 1, 16),
        ("MKT 4 AY!IAK", "'!' at 9", 6, 9, 1, 9),
        ("MKTAYIAKQR\nQISF!VKSH", "'!' at line 2, column 5", 15, 16, 2, 5),
        (">sp|P1|x\n  10 MKTAY\n  15 IAK#R\n", "'#' at line 3, column 9", 9, 29, 3, 9),
        ("MKßT", "'ß' at 3", 3, 3, 1, 3),  # not upper-cased into "SS"
    ],
)
def test_error_positions_count_the_characters_the_user_typed(text, message, cleaned, typed, line, column):
    report = st.check_sequence(text)
    assert not report.ok and message in report.error
    (residue,) = report.invalid_residues
    assert (residue.position, residue.input_position, residue.line, residue.column) == (cleaned, typed, line, column)
    assert report.input[residue.input_position - 1] == residue.character


def test_positions_in_later_fasta_records_use_the_whole_paste_lines():
    reports = st.check_fasta(">a\nMKT\n>b\nMK!T\n")
    assert reports[0].ok and not reports[1].ok
    assert "'!' at line 4, column 3" in reports[1].error
    (residue,) = reports[1].invalid_residues
    assert reports[1].input == ">b\nMK!T\n" and reports[1].input[residue.input_position - 1] == "!"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(hs.text(alphabet="MKTAYIQR!#é* \n\r>;1x", max_size=80), hs.sampled_from(["auto", "protein", "dna"]))
def test_every_reported_position_points_at_the_typed_character(text, kind):
    lines = text.splitlines()
    for report in st.check_fasta(text, kind):
        for residue in report.invalid_residues:
            assert report.input[residue.input_position - 1] == residue.character
            assert lines[residue.line - 1][residue.column - 1] == residue.character
