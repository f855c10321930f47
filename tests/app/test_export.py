"""Conversation export (Markdown, JSON with science) and JSON import back, with clear errors on bad files."""

import base64
import json
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from app.chat.transcript import (
    FORMAT,
    ConversationImportError,
    export_conversation,
    from_json,
    to_json,
    to_markdown,
    write_exports,
)
from app.ui.rendering import sanitize_markdown


PROTEIN = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"


@pytest.fixture
def history(tmp_path):
    image = tmp_path / "flask.png"
    Image.new("RGB", (8, 6), "blue").save(image)
    return [
        {
            "role": "user",
            "content": [{"path": str(image)}, sanitize_markdown("Is <b>this</b> ethanol? <SMILES>OCC</SMILES>")],
        },
        {
            "role": "assistant",
            "content": "The user shows a flask.",
            "metadata": {"title": "Thinking", "duration": 1.2, "status": "done"},
        },
        {
            "role": "assistant",
            "content": '```json\n{"valid": true}\n```',
            "metadata": {"title": "🛠️ check_smiles(smiles='OCC')", "status": "done", "duration": 0.01},
        },
        {
            "role": "assistant",
            "content": sanitize_markdown(f"Yes: <SMILES>CCO</SMILES> (C2H6O). A related protein: {PROTEIN}"),
        },
        {"role": "assistant", "content": gr.HTML(value="<div class='mol-card'>card</div>")},
    ]


def test_json_carries_text_steps_media_and_science(history, tmp_path):
    document = json.loads(to_json(history, model_id="fake-model"))
    assert document["format"] == FORMAT and document["version"] == 1 and document["model"] == "fake-model"
    user, thinking, tool, answer = document["messages"]  # the HTML card is not exported as HTML
    assert user["content"] == "Is <b>this</b> ethanol? <SMILES>OCC</SMILES>"  # display escaping undone
    assert base64.b64decode(user["files"][0]["data"]) == (tmp_path / "flask.png").read_bytes()
    assert user["molecules"][0]["canonical_smiles"] == "CCO"
    assert thinking == {
        "role": "assistant",
        "content": "The user shows a flask.",
        "title": "Thinking",
        "duration": 1.2,
    }
    assert tool["title"].startswith("🛠️ check_smiles")
    molecule = answer["molecules"][0]
    assert (molecule["canonical_smiles"], molecule["formula"]) == ("CCO", "C2H6O")
    assert molecule["molecular_weight"] == pytest.approx(46.07, abs=0.01)
    assert molecule["svg"].lstrip().startswith("<svg")
    protein = answer["sequences"][0]
    assert (
        protein["kind"] == "protein"
        and protein["sequence"] == PROTEIN
        and protein["properties"]["length"] == len(PROTEIN)
    )


def test_import_round_trip_restores_the_chat(history, tmp_path):
    restored = from_json(to_json(history), with_cards=False, upload_dir=str(tmp_path / "uploads"))
    assert len(restored) == 4
    assert restored[0]["content"][1] == history[0]["content"][1]
    assert Image.open(restored[0]["content"][0]["path"]).size == (8, 6)
    for original, back in zip(history[1:4], restored[1:4]):
        assert back["content"] == original["content"]
        assert back.get("metadata") == original.get("metadata")
    # exporting the restored chat gives the same document (apart from the time stamp)
    first, second = export_conversation(history), export_conversation(restored)
    first.pop("exported_at"), second.pop("exported_at")
    assert first == second


def test_import_redraws_cards_from_the_text_not_the_file(history):
    document = json.loads(to_json(history))
    document["messages"][3]["molecules"][0]["svg"] = "<svg onload='alert(1)'></svg>"
    restored = from_json(json.dumps(document))
    cards = [m["content"] for m in restored if isinstance(m["content"], gr.HTML)]
    assert cards and all("alert(1)" not in card.value for card in cards)
    assert any("CCO" in card.value for card in cards)


def test_markdown_export(history, tmp_path):
    markdown = to_markdown(history, model_id="fake-model")
    assert markdown.startswith("# Intern-S1 Studio conversation")
    assert "<details><summary>Thinking (1.2 s)</summary>" in markdown
    assert "## 🧑 User" in markdown and "## 🤖 Assistant" in markdown
    assert "data:image/svg+xml;base64," in markdown and "| `CCO` | C2H6O | 46.07 |" in markdown
    assert "**Protein card**" in markdown and f"| length | {len(PROTEIN)} |" in markdown
    assert "Attachments: `flask.png`" in markdown
    md_path, json_path = write_exports(history, str(tmp_path))
    assert Path(md_path).read_text(encoding="utf-8").startswith("# Intern-S1 Studio")
    assert json.loads(Path(json_path).read_text(encoding="utf-8"))["format"] == FORMAT


def _doc(messages, **extra):
    return json.dumps({"format": FORMAT, "version": 1, "messages": messages, **extra})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{oops", r"not valid JSON \(line 1, column 2"),
        ('{"format": "chatgpt", "messages": []}', "not an Intern-S1 Studio conversation"),
        (json.dumps({"format": FORMAT, "version": 7, "messages": []}), "unsupported conversation version 7"),
        (_doc({}), "'messages' must be a list"),
        (_doc(["hi"]), "message 1 is not an object"),
        (_doc([{"role": "system", "content": "x"}]), "message 1: role must be 'user' or 'assistant'"),
        (_doc([{"role": "user", "content": 5}]), "message 1: 'content' must be a string"),
        (_doc([{"role": "assistant", "content": "x", "duration": "long"}]), "'duration' must be a number"),
        (
            _doc([{"role": "user", "content": "x", "files": [{"name": "run.exe", "data": "AAAA"}]}]),
            "attachment type of 'run.exe' is not accepted",
        ),
        (
            _doc([{"role": "user", "content": "x", "files": [{"name": "a.png", "data": "%%%"}]}]),
            "'a.png' is not valid base64",
        ),
        (_doc([{"role": "user", "content": "x", "files": [{"data": "AAAA"}]}]), "an attachment needs a 'name'"),
    ],
)
def test_bad_imports_say_what_is_wrong(text, error):
    with pytest.raises(ConversationImportError, match=error):
        from_json(text)


def test_attachment_names_cannot_escape_the_upload_folder(tmp_path):
    text = _doc(
        [
            {
                "role": "user",
                "content": "x",
                "files": [{"name": "../../etc/evil.png", "data": base64.b64encode(b"png").decode()}],
            }
        ]
    )
    restored = from_json(text, upload_dir=str(tmp_path))
    path = restored[0]["content"][0]["path"]
    assert path == str(tmp_path / "evil.png")
