"""Conversation export (Markdown, JSON with science) and JSON import back, with clear errors on bad files."""

import base64
import json
from pathlib import Path

import pytest
from PIL import Image

from app.chat.attachments import prepare_user_turn
from app.chat.history import Answer, AnswerSettings, Found, History, ToolStep, Turn, TurnEnd, find_science
from app.chat.transcript import (
    FORMAT,
    VERSION,
    ConversationImportError,
    export_conversation,
    from_json,
    to_json,
    to_markdown,
    write_exports,
)
from app.config import Limits


PROTEIN = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
TYPED = "Is <b>this</b> ethanol? `a &amp; b` <SMILES>OCC</SMILES>"


@pytest.fixture
def history(tmp_path):
    image = tmp_path / "flask.png"
    Image.new("RGB", (8, 6), "blue").save(image)
    attachments = prepare_user_turn("x", [str(image)], Limits()).attachments
    answer = Answer(
        content=f"Yes: <SMILES>CCO</SMILES> (C2H6O). A related protein: {PROTEIN}",
        reasoning="The user shows a flask.",
        thinking_seconds=1.24,
        steps=[
            ToolStep(
                "check_smiles",
                {"smiles": "OCC"},
                True,
                result={"ok": True, "canonical_smiles": "CCO"},
                duration_s=0.01,
            )
        ],
        found=[Found("smiles", "CCO"), Found("protein", PROTEIN)],
        end=TurnEnd("answered"),
    )
    return History(
        [
            Turn(TYPED, attachments, answer),
            Turn("and now?", [], Answer(content="Cut", end=TurnEnd("cut_off", tokens=1))),
        ]
    )


def test_json_carries_raw_text_steps_media_end_states_and_science(history, tmp_path):
    document = json.loads(to_json(history, model_id="fake-model"))
    assert document["format"] == FORMAT and document["version"] == VERSION == 2 and document["model"] == "fake-model"
    first, second = document["turns"]
    assert first["user"]["text"] == TYPED  # exactly as typed: nothing escaped, nothing unescaped
    file = first["user"]["files"][0]
    assert (file["name"], file["kind"], file["mime"]) == ("flask.png", "image", "image/png")
    assert base64.b64decode(file["data"]) == (tmp_path / "flask.png").read_bytes()
    answer = first["answer"]
    assert (answer["reasoning"], answer["thinking_seconds"]) == ("The user shows a flask.", 1.2)
    assert answer["steps"][0]["name"] == "check_smiles" and answer["steps"][0]["result"]["canonical_smiles"] == "CCO"
    assert answer["end"] == {"state": "answered"} and second["answer"]["end"] == {"state": "cut_off", "tokens": 1}
    molecule, protein = answer["science"]
    assert molecule["report"]["canonical_smiles"] == "CCO" and molecule["report"]["kind"] == "molecule"
    assert molecule["report"]["descriptors"]["molecular_weight"] == pytest.approx(46.07, abs=0.01)
    assert molecule["svg"].lstrip().startswith("<svg")
    assert protein["report"]["kind"] == "protein" and protein["report"]["properties"]["length"] == len(PROTEIN)
    json.dumps(document, allow_nan=False)  # JSON-safe all the way down


def test_import_round_trip_restores_the_conversation(history, tmp_path):
    restored = from_json(to_json(history), upload_dir=str(tmp_path / "uploads"))
    assert [turn.text for turn in restored.turns] == [TYPED, "and now?"]
    attachment = restored.turns[0].attachments[0]
    assert attachment.name == "flask.png" and Image.open(attachment.path).size == (8, 6)
    original, back = history.turns[0].answer, restored.turns[0].answer
    assert (back.content, back.reasoning, back.end, back.found) == (
        original.content,
        original.reasoning,
        original.end,
        original.found,
    )
    assert back.steps[0].result == original.steps[0].result
    assert restored.turns[1].answer.end == TurnEnd("cut_off", tokens=1)
    # exporting the restored conversation gives the same document (apart from the time stamp)
    first, second = export_conversation(history), export_conversation(restored)
    first.pop("exported_at"), second.pop("exported_at")
    assert first == second
    # the model receives the same messages from the restored conversation
    assert restored.to_messages() == [
        {
            **message,
            "content": [{**item, "path": attachment.path} if "path" in item else item for item in message["content"]],
        }
        if message["role"] == "user"
        else message
        for message in history.to_messages()
    ]


def test_import_finds_the_science_again_and_never_trusts_the_file(history):
    document = json.loads(to_json(history))
    document["turns"][0]["answer"]["science"] = [{"kind": "smiles", "text": "<svg onload='alert(1)'>"}]
    restored = from_json(json.dumps(document))
    assert restored.turns[0].answer.found == [Found("smiles", "CCO"), Found("protein", PROTEIN)]


def test_molecule_files_are_read_again_on_import(tmp_path):
    smi = tmp_path / "aspirin.smi"
    smi.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\n")
    history = History([Turn("compare", prepare_user_turn("compare", [str(smi)], Limits()).attachments)])
    restored = from_json(to_json(history))
    assert (
        restored.turns[0].attachments[0].text
        == "aspirin (aspirin.smi, line 1) → <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES>"
    )
    assert restored.to_messages() == history.to_messages()


SETTINGS = AnswerSettings(model="internlm/Intern-S1-mini", backend="local", system_prompt="You are a careful chemist.",
                          sampling={"thinking": True, "temperature": 0.3, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
                                    "max_new_tokens": 512, "tools": False})  # fmt: skip
REACTION = "CC(=O)O.OCC>>CC(=O)OCC.O"


def test_round_trip_keeps_model_sampling_system_prompt_reactions_and_provenance(tmp_path):
    assets = Path(__file__).resolve().parents[3] / "assets"
    attachments = prepare_user_turn("x", [str(assets / "drugs.sdf")], Limits()).attachments
    content = f"Esterification: <SMILES>{REACTION}</SMILES>"
    answer = Answer(content=content, found=find_science(content), end=TurnEnd("answered"), settings=SETTINGS,
                    usage={"completion_tokens": 12, "finish_reason": "stop", "thinking_unclosed": True})  # fmt: skip
    history = History([Turn("Which is most polar?", attachments, answer)])
    document = export_conversation(history)
    assert (document["model"], document["backend"]) == ("internlm/Intern-S1-mini", "local")
    assert document["system_prompt"] == "You are a careful chemist." and document["sampling"]["temperature"] == 0.3
    file = document["turns"][0]["user"]["files"][0]
    assert file["text"].splitlines()[1] == "aspirin (drugs.sdf, record 2) → <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES>"
    reaction = document["turns"][0]["answer"]["science"][0]
    assert reaction["kind"] == "reaction" and reaction["svg"].lstrip().startswith("<svg")
    assert [part["formula"] for part in reaction["report"]["products"]] == ["C4H8O2", "H2O"]
    restored = from_json(json.dumps(document), upload_dir=str(tmp_path / "in"))
    back = restored.turns[0]
    assert back.answer.settings == SETTINGS and back.answer.usage["thinking_unclosed"] is True
    assert back.answer.found == [Found("reaction", REACTION)]
    assert back.attachments[0].name == "drugs.sdf" and back.attachments[0].text == attachments[0].text
    again = export_conversation(restored)
    document.pop("exported_at"), again.pop("exported_at")
    assert again == document  # a second export says exactly the same
    markdown = to_markdown(restored)
    assert "model `internlm/Intern-S1-mini` · backend local · thinking True · temperature 0.3" in markdown
    assert "**System prompt:**\n\nYou are a careful chemist." in markdown
    assert "- `drugs.sdf`: caffeine (drugs.sdf, record 1); aspirin (drugs.sdf, record 2)" in markdown
    assert "| Product 1 | CCOC(C)=O · C4H8O2 · 88.11 g/mol |" in markdown
    assert "(the model never closed its thinking" in markdown


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"settings": "fast"}, "'answer.settings' must be an object"),
        ({"settings": {"sampling": []}}, "'answer.settings.sampling' must be an object"),
        ({"settings": {"model": 3}}, "'answer.settings.model' must be a string"),
        ({"usage": []}, "'answer.usage' must be an object"),
        ({"usage": {"finish_reason": ["x"]}}, "'answer.usage.finish_reason' must be a plain value"),
    ],
)
def test_bad_settings_or_usage_are_named(answer, message):
    document = _doc([{"user": {"text": "x"}, "answer": {"content": "y", **answer}}])
    with pytest.raises(ConversationImportError, match=f"turn 1: {message}"):
        from_json(document)


def test_markdown_export(history, tmp_path):
    markdown = to_markdown(history, model_id="fake-model")
    assert markdown.startswith("# Intern-S1 Studio conversation")
    assert "<details><summary>Thinking (1.2 s)</summary>" in markdown
    assert "## 🧑 User" in markdown and "## 🤖 Assistant" in markdown and TYPED in markdown
    assert "data:image/svg+xml;base64," in markdown and "| Molecular weight (g/mol) | 46.07 |" in markdown
    assert "**Protein**" in markdown and f"| Length (aa) | {len(PROTEIN)} |" in markdown
    assert "Attachments:\n- `flask.png`" in markdown and "*(cut off at 1 tokens)*" in markdown
    md_path, json_path = write_exports(history, str(tmp_path))
    assert Path(md_path).read_text(encoding="utf-8").startswith("# Intern-S1 Studio")
    assert json.loads(Path(json_path).read_text(encoding="utf-8"))["format"] == FORMAT


def test_version_1_files_are_still_read():
    document = {"format": FORMAT, "version": 1, "messages": [
        {"role": "user", "content": "Is <b>this</b> ethanol?"},
        {"role": "assistant", "content": "thinking", "title": "Thinking", "duration": 1.5},
        {"role": "assistant", "content": '{"ok": true}', "title": "🛠️ check_smiles(smiles='OCC')"},
        {"role": "assistant", "content": "Yes, <SMILES>CCO</SMILES>."},
        {"role": "user", "content": "thanks"},
    ]}  # fmt: skip
    restored = from_json(json.dumps(document))
    first, second = restored.turns
    assert first.text == "Is <b>this</b> ethanol?" and first.answer.reasoning == "thinking"
    assert (first.answer.content, first.answer.thinking_seconds, first.answer.end) == (
        "Yes, <SMILES>CCO</SMILES>.",
        1.5,
        TurnEnd("answered"),
    )
    assert first.answer.found == [Found("smiles", "CCO")] and second.answer is None


def _doc(turns, **extra):
    return json.dumps({"format": FORMAT, "version": 2, "turns": turns, **extra})


def _turn(**user):
    return {"user": {"text": "x", **user}, "answer": None}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{oops", r"not valid JSON \(line 1, column 2"),
        ('{"format": "chatgpt", "turns": []}', "not an Intern-S1 Studio conversation"),
        (json.dumps({"format": FORMAT, "version": 7, "turns": []}), "unsupported conversation version 7"),
        (_doc({}), "'turns' must be a list"),
        (_doc(["hi"]), "turn 1: needs a 'user' object"),
        (_doc([{"user": {"text": 5}}]), "turn 1: 'user.text' must be a string"),
        (_doc([{"user": {"text": "x"}, "answer": "yes"}]), "turn 1: 'answer' must be an object or null"),
        (_doc([{"user": {"text": "x"}, "answer": {"content": 3}}]), "'answer.content' must be a string"),
        (_doc([{"user": {"text": "x"}, "answer": {"thinking_seconds": "long"}}]), "'answer.thinking_seconds' must be"),
        (_doc([{"user": {"text": "x"}, "answer": {"end": {"state": "done"}}}]), "'end' needs a 'state', one of"),
        (_doc([{"user": {"text": "x"}, "answer": {"steps": [{"name": 1}]}}]), "step 1: a tool step needs 'name'"),
        (_doc([_turn(files=[{"name": "run.exe", "data": "AAAA"}])]), "attachment type of 'run.exe' is not accepted"),
        (_doc([_turn(files=[{"name": "a.png", "data": "%%%"}])]), "'a.png' is not valid base64"),
        (_doc([_turn(files=[{"data": "AAAA"}])]), "an attachment needs a 'name'"),
        (_doc([_turn(files=[{"name": "a.png", "data": "AAAA"}])]), "turn 1: 'a.png' is not a readable image"),
        (json.dumps({"format": FORMAT, "version": 1, "messages": [{"role": "system"}]}), "role must be 'user'"),
    ],
)
def test_bad_imports_say_what_is_wrong(text, error):
    with pytest.raises(ConversationImportError, match=error):
        from_json(text)


def test_attachment_names_cannot_escape_the_upload_folder(tmp_path):
    png = tmp_path / "real.png"
    Image.new("RGB", (4, 4)).save(png)
    text = _doc([_turn(files=[{"name": "../../etc/evil.png", "data": base64.b64encode(png.read_bytes()).decode()}])])
    restored = from_json(text, upload_dir=str(tmp_path / "uploads"))
    attachment = restored.turns[0].attachments[0]
    assert attachment.path == str(tmp_path / "uploads" / "evil.png") and attachment.name == "../../etc/evil.png"
