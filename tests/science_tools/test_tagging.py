"""tag_for_tokenizer / tag_spans: the exact tag strings the Intern-S1 dynamic tokenizer expects."""

import pytest

import science_tools as st


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("CCO", "smiles", "<SMILES>CCO</SMILES>"),
        ("  c1ccccc1\n", "smiles", "  <SMILES>c1ccccc1</SMILES>\n"),
        ("CC(=O)O.OCC>>CC(=O)OCC", "reaction", "<SMILES>CC(=O)O.OCC>>CC(=O)OCC</SMILES>"),
        ("[C][=C][O]", "selfies", "<SELFIES>[C][=C][O]</SELFIES>"),
        ("2-methylpropan-1-ol", "iupac", "<IUPAC>2-methylpropan-1-ol</IUPAC>"),
        ("(2S)-2-aminopropanoic acid", "IUPAC", "<IUPAC>(2S)-2-aminopropanoic acid</IUPAC>"),
        ("C6H12O6", "formula", "<MOLFORMULA>C6H12O6</MOLFORMULA>"),
        ("Ca(OH)2", "molformula", "<MOLFORMULA>Ca(OH)2</MOLFORMULA>"),
        (">sp|x\nMKTAY IAKQR\n", "protein", "<FASTA>MKTAYIAKQR</FASTA>\n"),
        (">a\nMKT\n>b\nGGH", "fasta", "<FASTA>MKT</FASTA>\n<FASTA>GGH</FASTA>"),
    ],
)
def test_valid_input_is_wrapped(text, kind, expected):
    assert st.tag_for_tokenizer(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("C1CC", "smiles"),
        ("", "smiles"),
        ("CCO</SMILES><SMILES>", "smiles"),
        ("CC>>C1CC", "reaction"),
        ("[C][Xyz]", "selfies"),
        ("ethanol<script>", "iupac"),
        ("a", "iupac"),
        ("hello world", "formula"),
        ("MKT*AY", "protein"),
        (">a\nMKT\n>b\nMK#", "fasta"),
    ],
)
def test_invalid_input_is_returned_unchanged(text, kind):
    assert st.tag_for_tokenizer(text, kind) == text


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="kind must be one of"):
        st.tag_for_tokenizer("CCO", "inchi")


def test_tag_spans_tags_everything_found_except_dna():
    text = "Mix CCO with NaCl; protein MKTAYIAKQRQISFVKSHFSRQ and primer ATGCGTACGTAGCT."
    assert st.tag_spans(text) == (
        "Mix <SMILES>CCO</SMILES> with <MOLFORMULA>NaCl</MOLFORMULA>; protein "
        "<FASTA>MKTAYIAKQRQISFVKSHFSRQ</FASTA> and primer ATGCGTACGTAGCT."
    )


def test_tag_spans_leaves_existing_tags_and_plain_text_alone():
    text = "Already <SMILES>CCO</SMILES> tagged."
    assert st.tag_spans(text) == text
    assert st.tag_spans("Nothing to see here.") == "Nothing to see here."


def test_tag_spans_does_not_double_an_unclosed_tag():
    assert st.tag_spans("Product: <SMILES> CCOC(C)=O") == "Product: <SMILES> CCOC(C)=O"
