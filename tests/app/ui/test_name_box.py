"""The SMILES panel's name box: OPSIN's structure with its provenance, OPSIN's reason, limits, no Java."""

import html
import shutil

import gradio as gr
import pytest

import science_tools
from app.chat import names
from app.ui import name_box
from science_tools._names import JAVA_MISSING


needs_java = pytest.mark.skipif(
    shutil.which("java") is None, reason="no Java runtime on this machine (OPSIN runs in a JVM)"
)


@needs_java
def test_a_name_fills_the_smiles_box_and_says_where_the_structure_came_from():
    status, smiles, record = name_box.convert_name("  2-acetyloxybenzoic acid ")
    assert smiles == "CC(=O)Oc1ccccc1C(=O)O"
    assert html.unescape(status) == (  # as shown: the name and structure as text (character references decoded)
        "**Structure from the name 2-acetyloxybenzoic acid, OPSIN:** <code>CC(=O)Oc1ccccc1C(=O)O</code> · C9H8O4"
    )
    assert name_box.origin_for(smiles, record) == "from the name 2-acetyloxybenzoic acid, OPSIN"
    assert name_box.origin_for("CCO", record) == ""  # the user changed the structure since


@needs_java
def test_a_nonsense_name_gets_opsins_reason_and_leaves_the_box_alone():
    status, smiles, record = name_box.convert_name("foobarane")
    assert html.unescape(status).startswith("**Not converted:** OPSIN could not interpret this name: foobarane")
    assert smiles == gr.skip() and record == {}


def test_a_10000_character_name_is_refused_before_java_starts(monkeypatch):
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: None)
    monkeypatch.setattr(names, "_CACHE", names.NameCache())
    status, smiles, _ = name_box.convert_name("a" * 10_000)
    assert "the name is 10,000 characters long; the limit is 2,000" in status and smiles == gr.skip()
    assert name_box.convert_name("   ")[1] == gr.skip()


def test_without_java_the_box_is_off_and_says_how_to_enable_it(monkeypatch):
    monkeypatch.setattr(science_tools, "opsin_problem", lambda: JAVA_MISSING)
    enabled, status = name_box.name_box_state()
    assert not enabled and "Java runtime not found" in status and "apt install default-jre-headless" in status
    assert name_box.convert_name("2-acetyloxybenzoic acid")[0] == status
