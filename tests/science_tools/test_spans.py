"""find_spans: offsets, tags, and precision/recall on a hand-labelled set of sentences."""

import pytest

import science_tools as st
from science_tools._spans import is_formula


UBIQ = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
GFP = "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFSRYPDHMKQ"

# (sentence, expected spans as (kind, text)); written by hand, positives and hard negatives mixed.
LABELLED = [
    ("Aspirin has the SMILES CC(=O)Oc1ccccc1C(=O)O and is an NSAID.", [("smiles", "CC(=O)Oc1ccccc1C(=O)O")]),
    ("Ethanol (CCO) is miscible with water.", [("smiles", "CCO")]),
    ("Benzene, c1ccccc1, is aromatic.", [("smiles", "c1ccccc1")]),
    ("Caffeine is CN1C=NC2=C1C(=O)N(C(=O)N2C)C in SMILES notation.", [("smiles", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C")]),
    ("The answer is `CC(C)Cc1ccc(cc1)C(C)C(=O)O`.", [("smiles", "CC(C)Cc1ccc(cc1)C(C)C(=O)O")]),
    ("L-alanine: C[C@H](N)C(=O)O", [("smiles", "C[C@H](N)C(=O)O")]),
    ("Compare CCO, CCCO and CCCCO for boiling points.", [("smiles", "CCO"), ("smiles", "CCCO"), ("smiles", "CCCCO")]),
    ("Butane is CCCC, but ACCCCT is just a string of letters.", [("smiles", "CCCC")]),
    ("Table salt is [Na+].[Cl-] in SMILES and NaCl as a formula.", [("smiles", "[Na+].[Cl-]"), ("formula", "NaCl")]),
    ("Trans-2-butene is written C/C=C/C.", [("smiles", "C/C=C/C")]),
    ("Pyridine c1ccncc1 is a weak base.", [("smiles", "c1ccncc1")]),
    ("Carbon dioxide is O=C=O, formula CO2.", [("smiles", "O=C=O"), ("formula", "CO2")]),
    ("The esterification CC(=O)O.OCC>>CC(=O)OCC.O proceeds with acid.", [("reaction", "CC(=O)O.OCC>>CC(=O)OCC.O")]),
    ("Reaction: CCO.CC(=O)O>[H+]>CCOC(C)=O.", [("reaction", "CCO.CC(=O)O>[H+]>CCOC(C)=O")]),
    ("Hydrogenation C=C.[H][H]>>CC is exothermic.", [("reaction", "C=C.[H][H]>>CC")]),
    ("Glucose has the formula C6H12O6.", [("formula", "C6H12O6")]),
    ("Water (H2O) and ammonia (NH3) are polar.", [("formula", "H2O"), ("formula", "NH3")]),
    ("Sulfuric acid, H2SO4, is a strong acid.", [("formula", "H2SO4")]),
    ("Slaked lime is Ca(OH)2.", [("formula", "Ca(OH)2")]),
    ("Copper sulfate pentahydrate is CuSO4·5H2O.", [("formula", "CuSO4·5H2O")]),
    ("The ammonium ion NH4+ is tetrahedral.", [("formula", "NH4+")]),
    ("Iron(III) oxide, Fe2O3, is rust.", [("formula", "Fe2O3")]),
    ("Potassium bromide (KBr) is used for IR pellets.", [("formula", "KBr")]),
    ("Methane CH4 burns to give CO2 and H2O.", [("formula", "CH4"), ("formula", "CO2"), ("formula", "H2O")]),
    ("Oxygen gas O2 is paramagnetic.", [("formula", "O2")]),
    (f"Human ubiquitin is {UBIQ}.", [("protein", UBIQ)]),
    (f"The GFP N-terminus reads {GFP} in the crystal structure.", [("protein", GFP)]),
    ("The peptide MKTAYIAKQRQISFVKSHFSRQ binds the receptor.", [("protein", "MKTAYIAKQRQISFVKSHFSRQ")]),
    ("Primer ATGCGTACGTAGCTAGC anneals at 58 °C.", [("dna", "ATGCGTACGTAGCTAGC")]),
    ("The reverse primer is gctagctacgtacgcat.", [("dna", "gctagctacgtacgcat")]),
    ("Clone the insert GAATTCGCGGCCGCTTCTAGAG into the vector.", [("dna", "GAATTCGCGGCCGCTTCTAGAG")]),
    ("<SMILES>CCN(CC)CC</SMILES> is triethylamine.", [("smiles", "CCN(CC)CC")]),
    ("Formula <MOLFORMULA>C8H10N4O2</MOLFORMULA> is caffeine.", [("formula", "C8H10N4O2")]),
    (f"<FASTA>{UBIQ}</FASTA>", [("protein", UBIQ)]),
    ("Phenol is Oc1ccccc1 and toluene is Cc1ccccc1.", [("smiles", "Oc1ccccc1"), ("smiles", "Cc1ccccc1")]),
    ("Acetone (CC(C)=O) is a common solvent.", [("smiles", "CC(C)=O")]),
    ("Nitrobenzene: [O-][N+](=O)c1ccccc1.", [("smiles", "[O-][N+](=O)c1ccccc1")]),
    ("Cyclohexane C1CCCCC1 adopts a chair conformation.", [("smiles", "C1CCCCC1")]),
    ("**CC(=O)N** is acetamide.", [("smiles", "CC(=O)N")]),
    # hard negatives: acronyms, names, gene and assay names, units, words
    ("The CNS and the PNS are parts of the nervous system.", []),
    ("Send an SOS if the NHS website is down.", []),
    ("2-methylpropane and N,N-dimethylformamide are chemical names, not SMILES.", []),
    ("Acetylsalicylic acid is the chemical name of aspirin.", []),
    ("The IC50 was 3 nM in HeLa cells.", []),
    ("H1N1 and H5N1 are influenza subtypes.", []),
    ("SARS-CoV-2 causes COVID-19.", []),
    ("Keep the buffer at pH 7.4 and 37 °C.", []),
    ("C4 plants such as maize fix carbon efficiently.", []),
    ("See Figure 2C and Table S1 for details.", []),
    ("Mutations in BRCA1 and TP53 are common.", []),
    ("The protein p53 is a tumour suppressor.", []),
    ("ELECTROENCEPHALOGRAPHY is a long word written in capitals.", []),
    ("IMPORTANT: READ THE MANUAL BEFORE STARTING.", []),
    ("The CPU and GPU share memory.", []),
    ("Cas9 cuts DNA at the PAM site.", []),
    ("Use NaN for missing values in the table.", []),
    ("I think CO is toxic and NO is a signalling molecule.", []),
    ("Run the SN2 reaction in DMSO.", []),
    ("The band U2 played in the B12 room.", []),
    ("Vitamin C and vitamin D are essential.", []),
    ("The score was 10-2 after the match.", []),
    ("ACGT is the DNA alphabet and ACDEFGHIKLMNPQRSTVWY the amino-acid one.", []),
    ("He said: Oh no, not again!", []),
    ("The CCCC motif inside ACCCCTGA is too short to be a primer.", []),
]

# Written after the rules above were tuned on LABELLED, to check that the figures hold on unseen sentences.
HELD_OUT = [
    ("Dopamine NCCc1ccc(O)c(O)c1 is a neurotransmitter.", [("smiles", "NCCc1ccc(O)c(O)c1")]),
    ("Morphine's formula is C17H19NO3.", [("formula", "C17H19NO3")]),
    (
        "The insulin B chain FVNQHLCGSHLVEALYLVCGERGFFYTPKT was synthesised.",
        [("protein", "FVNQHLCGSHLVEALYLVCGERGFFYTPKT")],
    ),
    ("Add MgCl2 to 5 mM.", [("formula", "MgCl2")]),
    ("Use 10 mM Tris-HCl buffer.", []),
    ("The UV-Vis spectrum peaked at 280 nm.", []),
    ("Nitrous oxide N2O is a greenhouse gas.", [("formula", "N2O")]),
    ("The T7 promoter TAATACGACTCACTATAGGG drives transcription.", [("dna", "TAATACGACTCACTATAGGG")]),
    ("Sodium bicarbonate NaHCO3 neutralises acid.", [("formula", "NaHCO3")]),
    ("The ATP-binding site is conserved.", []),
    ("Serotonin: NCCc1c[nH]c2ccc(O)cc12.", [("smiles", "NCCc1c[nH]c2ccc(O)cc12")]),
    ("We measured the OD600 of the culture.", []),
    ("The DFT calculations used B3LYP/6-31G*.", []),
    ("Chloroform CHCl3 was the solvent.", [("formula", "CHCl3")]),
    ("Is CCN(CC)CC more basic than pyridine?", [("smiles", "CCN(CC)CC")]),
    ("The ratio was 3:1 (v/v).", []),
    ("Our lab (AIMS) studies enzymes.", []),
    ("A heptapeptide GHKLMNP is too short to report.", []),
    ("Ozone O3 absorbs UV light.", [("formula", "O3")]),
    ("NADH and NAD+ are cofactors.", []),
]


def _expected(sentence: str, labels: list[tuple[str, str]]) -> set[tuple[str, int, int]]:
    spans, cursor = set(), 0
    for kind, text in labels:
        start = sentence.index(text, cursor)
        spans.add((kind, start, start + len(text)))
        cursor = start + len(text)
    return spans


def precision_recall(labelled=LABELLED + HELD_OUT) -> tuple[float, float, int, int, int]:
    """(precision, recall, true positives, false positives, false negatives) over labelled sentences."""
    tp = fp = fn = 0
    for sentence, labels in labelled:
        expected = _expected(sentence, labels)
        found = {(s.kind, s.start, s.end) for s in st.find_spans(sentence)}
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
    return tp / max(1, tp + fp), tp / max(1, tp + fn), tp, fp, fn


def test_labelled_set_is_large_enough():
    assert len(LABELLED) + len(HELD_OUT) >= 50
    assert sum(1 for _, labels in LABELLED if not labels) >= 20  # hard negatives


def test_precision_and_recall_floors():
    for name, labelled in (("tuning", LABELLED), ("held-out", HELD_OUT), ("all", LABELLED + HELD_OUT)):
        print(name, "precision={:.3f} recall={:.3f} tp={} fp={} fn={}".format(*precision_recall(labelled)))
    precision, recall, tp, fp, fn = precision_recall()
    # floors set just under the figures measured when this set was written (see docs/science_tools.md)
    assert precision >= 0.95
    assert recall >= 0.95


@pytest.mark.parametrize(("sentence", "labels"), LABELLED[:8], ids=range(8))
def test_offsets_slice_the_text(sentence, labels):
    for span in st.find_spans(sentence):
        assert sentence[span.start : span.end] == span.text


def test_spans_are_sorted_and_do_not_overlap():
    text = " ".join(sentence for sentence, _ in LABELLED)
    spans = st.find_spans(text)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_invalid_smiles_inside_tags_is_not_reported():
    assert st.find_spans("<SMILES>C1CC</SMILES>") == []
    assert st.find_spans("<MOLFORMULA>hello</MOLFORMULA>") == []


def test_tag_content_offsets_exclude_tags_and_padding():
    text = "x <SMILES> CCO </SMILES> y"
    (span,) = st.find_spans(text)
    assert (span.kind, text[span.start : span.end]) == ("smiles", "CCO")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("C6H12O6", True),
        ("Ca(OH)2", True),
        ("(NH4)2SO4", True),
        ("SO4^2-", True),
        ("CuSO4·5H2O", True),
        ("HCl", True),
        ("NaCl", True),
        ("S8", True),
        ("H1N1", False),
        ("IC50", False),
        ("HeLa", False),
        ("NaN", False),
        ("CO", False),
        ("C4", False),
        ("B12", False),
        ("Xy2", False),
        ("Ca(OH", False),
        ("H2O)", False),
        ("", False),
    ],
)
def test_formula_rules(text, ok):
    assert is_formula(text) is ok


def test_only_a_prefix_of_huge_text_is_scanned(monkeypatch):
    monkeypatch.setattr("science_tools._spans.MAX_SPAN_TEXT", 20)
    assert [s.text for s in st.find_spans("CCO is ethanol. Later c1ccccc1 appears")] == ["CCO"]


@pytest.mark.parametrize(
    "text",
    [
        "<SMILES>" * 25_000,  # unclosed tags (a lazy regex up to a back-reference would be quadratic here)
        "(" * 100_000 + "C" + ")" * 99_999,
        "(" * 2_400 + "C" + ")" * 2_400,  # wrapping parentheses peeled one by one
        "<b>" * 60_000,
        "C(C(C(C(C(" * 20_000,
    ],
    ids=["unclosed-tags", "deep-parens", "wrapped", "html", "smiles-junk"],
)
def test_hostile_text_is_scanned_without_findings(text):
    # these finish in well under a second; a quadratic scan would take minutes and hit the test timeout
    assert st.find_spans(text) == []
    assert st.tag_spans(text) == text


def test_many_tagged_spans():
    text = "<SMILES>CCO</SMILES> <MOLFORMULA>H2O</MOLFORMULA> " * 3_000  # 150 000 characters
    spans = st.find_spans(text)
    assert len(spans) == 6_000 and {s.kind for s in spans} == {"smiles", "formula"}
    assert st.tag_spans(text) == text


def test_unclosed_tag_while_streaming_does_not_hide_its_content():
    text = "The product is <SMILES>CC(=O)OCC"
    (span,) = st.find_spans(text)
    assert (span.kind, span.text, text[span.start : span.end]) == ("smiles", "CC(=O)OCC", "CC(=O)OCC")
