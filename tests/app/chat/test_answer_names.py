"""Names in answers: the tokenizer's IUPAC spans, one OPSIN run per answer, a cache, provenance on the found item."""

import shutil

import pytest

import science_tools
from app.chat import names
from app.chat.history import Answer, Found, TurnEnd
from science_tools._names import JAVA_MISSING


needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="no Java runtime on this machine (OPSIN runs in a JVM)"
)

ASPIRIN_NAME, ASPIRIN = "2-acetyloxybenzoic acid", "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE_NAME, CAFFEINE = "1,3,7-trimethylpurine-2,6-dione", "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
ANSWER = (
    f"Aspirin is <IUPAC>{ASPIRIN_NAME}</IUPAC>; caffeine is <IUPAC> {CAFFEINE_NAME} </IUPAC>, "
    f"again <IUPAC>{ASPIRIN_NAME}</IUPAC>, not <SMILES>CCO</SMILES>, and a cut-off <IUPAC>2-meth"
)


def _answer(content: str, found: list[Found] | None = None, done: bool = True) -> Answer:
    return Answer(content=content, found=found or [], end=TurnEnd("answered") if done else None)


class CountingConverter:
    """Stands in for ``science_tools.names_to_structures``: records each batch, answers from a table."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.batches: list[list[str]] = []

    def __call__(self, batch: list[str]) -> list[science_tools.NameReport]:
        self.batches.append(list(batch))
        return [
            science_tools.NameReport(ok=True, input=name, name=name, canonical_smiles=self.table[name], formula="X")
            if name in self.table
            else science_tools.NameReport(ok=False, input=name, name=name, error=f"{names._NOT_UNDERSTOOD}: {name}")
            for name in batch
        ]


@pytest.fixture
def converter(monkeypatch):
    fake = CountingConverter({ASPIRIN_NAME: ASPIRIN, CAFFEINE_NAME: CAFFEINE})
    monkeypatch.setattr(science_tools, "names_to_structures", fake)
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: None)
    return fake


def test_candidate_names_are_the_tagged_spans_each_once_in_order():
    assert names.candidate_names(ANSWER) == [ASPIRIN_NAME, CAFFEINE_NAME]  # the unclosed tag gives nothing
    assert names.candidate_names("no tags here") == [] and names.candidate_names("") == []
    many = "".join(f"<IUPAC>name{index}</IUPAC>" for index in range(20))
    assert names.candidate_names(many) == [f"name{index}" for index in range(names.MAX_NAMES_PER_ANSWER)]


def test_an_answer_is_converted_in_one_run_and_each_name_once_per_process(converter):
    cache = names.NameCache()
    found = names.structures_from_names(_answer(ANSWER), cache)
    assert found == [
        Found("smiles", ASPIRIN, f"from the name {ASPIRIN_NAME}, OPSIN"),
        Found("smiles", CAFFEINE, f"from the name {CAFFEINE_NAME}, OPSIN"),
    ]
    assert converter.batches == [[ASPIRIN_NAME, CAFFEINE_NAME]]
    names.structures_from_names(_answer(f"<IUPAC>{CAFFEINE_NAME}</IUPAC> and <IUPAC>foobarane</IUPAC>"), cache)
    assert converter.batches[1:] == [["foobarane"]]  # caffeine came from the cache
    assert names.convert_names(["foobarane"], cache)[0].error.startswith(names._NOT_UNDERSTOOD)
    assert len(converter.batches) == 2  # a name OPSIN cannot read is cached too
    assert cache.opsin_runs == 2


def test_failures_that_depend_on_the_machine_are_not_cached(monkeypatch):
    cache = names.NameCache()
    runs = []

    def timed_out(batch):
        runs.append(batch)
        return [science_tools.NameReport(ok=False, input=n, name=n, error="OPSIN did not answer within 30 s")
                for n in batch]  # fmt: skip

    monkeypatch.setattr(science_tools, "names_to_structures", timed_out)
    cache.convert([ASPIRIN_NAME])
    cache.convert([ASPIRIN_NAME])
    assert len(runs) == 2


def test_cache_is_bounded_least_recently_used_first(converter):
    cache = names.NameCache(size=2)
    cache.convert([ASPIRIN_NAME, CAFFEINE_NAME])
    cache.convert([ASPIRIN_NAME])  # aspirin is now the most recent
    cache.convert(["foobarane"])  # evicts caffeine
    cache.convert([ASPIRIN_NAME, CAFFEINE_NAME])
    assert converter.batches[-1] == [CAFFEINE_NAME]


def test_structures_already_in_the_answer_and_unfinished_answers_add_nothing(converter):
    cache = names.NameCache()
    written = _answer(ANSWER, [Found("smiles", "OC(=O)c1ccccc1OC(C)=O")])  # aspirin, written another way
    assert [item.text for item in names.structures_from_names(written, cache)] == [CAFFEINE]
    assert names.structures_from_names(_answer(ANSWER, done=False), cache) == []


def test_nothing_is_converted_while_opsin_is_off(monkeypatch, converter):
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: JAVA_MISSING)
    assert names.names_unavailable() == JAVA_MISSING
    assert names.structures_from_names(_answer(ANSWER), names.NameCache()) == []
    assert converter.batches == []


def test_the_tagged_spans_are_where_the_tokenizer_uses_its_iupac_vocabulary(tiny_checkpoint):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    ids = tokenizer(ANSWER, add_special_tokens=False)["input_ids"]
    begin, end = tokenizer.convert_tokens_to_ids(["<IUPAC>", "</IUPAC>"])
    iupac = tokenizer.sub_vocabs["IUPAC"]
    in_vocab = range(iupac.offset, iupac.offset + len(iupac))
    spans, inside, outside_uses = [], None, 0
    for token in ids:
        if token == begin:
            inside = []
        elif token == end and inside is not None:
            spans.append(tokenizer.decode(inside).strip())
            inside = None
        elif inside is not None:
            inside.append(token)
        else:
            outside_uses += token in in_vocab
    tail_uses = sum(token in in_vocab for token in inside or [])  # the unclosed tag: IUPAC pieces, no name
    assert list(dict.fromkeys(spans)) == names.candidate_names(ANSWER)
    assert outside_uses == 0 and tail_uses > 0


@needs_java
def test_real_opsin_names_of_one_answer_in_one_jvm_start():
    cache = names.NameCache()
    found = names.structures_from_names(_answer(ANSWER + " <IUPAC>(2S)-2-aminopropanoic acid</IUPAC>"), cache)
    assert [item.text for item in found] == [ASPIRIN, CAFFEINE, "C[C@H](N)C(=O)O"]
    assert found[0].origin == "from the name 2-acetyloxybenzoic acid, OPSIN"
    assert cache.opsin_runs == 1


def test_answers_gain_their_name_structures_once_with_one_run_for_all(converter):
    cache = names.NameCache()
    first = _answer(f"<IUPAC>{ASPIRIN_NAME}</IUPAC>")
    second = _answer(f"<IUPAC>{CAFFEINE_NAME}</IUPAC> and <IUPAC>{ASPIRIN_NAME}</IUPAC>")
    unfinished = _answer(f"<IUPAC>{CAFFEINE_NAME}</IUPAC>", done=False)
    assert names.add_name_structures([first, second, unfinished], cache)
    assert converter.batches == [[ASPIRIN_NAME, CAFFEINE_NAME]]
    assert [item.text for item in first.found] == [ASPIRIN] and [i.text for i in second.found] == [CAFFEINE, ASPIRIN]
    assert unfinished.found == []
    assert not names.add_name_structures([first, second], cache)  # again: nothing new, no OPSIN run
    assert len(first.found) == 1 and len(converter.batches) == 1


def test_more_names_than_one_opsin_call_takes_are_sent_in_batches(converter):
    cache = names.NameCache()
    limit = science_tools.LIMITS["MAX_NAMES_PER_CALL"]
    cache.convert([f"name{index}" for index in range(limit + 5)])
    assert [len(batch) for batch in converter.batches] == [limit, 5] and cache.opsin_runs == 2
