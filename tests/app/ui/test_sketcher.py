"""The JSME sketcher: vendored files that load offline, and the SMILES box ↔ drawing rules."""

import importlib.util
import re
from pathlib import Path

import gradio as gr

from app.ui import sketcher


ROOT = Path(__file__).resolve().parents[3]


def _vendor_script():
    spec = importlib.util.spec_from_file_location("vendor_jsme", ROOT / "scripts" / "vendor_jsme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_jsme_is_vendored_with_its_licence_and_the_permutations_modern_browsers_pick():
    assert sketcher.available()
    licence = (sketcher.JSME_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "Redistribution and use in source and binary forms" in licence and "Novartis" in licence
    manifest = (sketcher.JSME_DIR / "VENDORED.md").read_text(encoding="utf-8")
    assert "jsme-editor@0.8.2" in manifest
    permutations = re.findall(r"[0-9A-F]{32}\.cache\.js", manifest)
    loader = sketcher.JSME_LOADER.read_text(encoding="utf-8")
    assert len(permutations) == 4
    for permutation in permutations:
        assert (sketcher.JSME_DIR / permutation).is_file()
        assert permutation.removesuffix(".cache.js") in loader  # the loader can pick it
        assert list((sketcher.JSME_DIR / "deferredjs" / permutation.removesuffix(".cache.js")).glob("*.cache.js"))
    for shared in ("jsa.css", "gwt/chrome/chrome.css", "gwt/chrome/mosaic.css", "clear.cache.gif"):
        assert (sketcher.JSME_DIR / shared).is_file()  # loaded by every permutation


def test_the_vendoring_script_keeps_the_safari_and_gecko_permutations_only():
    mappings = (
        "AAA.cache.js\nuser.agent safari\n\nBBB.cache.js\nuser.agent ie8\n\n"
        "CCC.cache.js\ncompat.mode CSS1Compat\nuser.agent gecko1_8\n\nAAA.cache.js\nuser.agent safari\n\nDevmode:x.js\n"
    )
    assert _vendor_script().permutations_for(mappings) == ["AAA.cache.js", "CCC.cache.js"]


def test_the_loader_is_served_from_the_static_folder_never_a_cdn():
    head = sketcher.head_html()
    assert head == f'<script src="/gradio_api/file={sketcher.JSME_LOADER.resolve()}"></script>'
    assert "http" not in head
    (static,) = sketcher.static_paths()
    assert sketcher.JSME_LOADER.resolve().is_relative_to(static)


def test_a_drawing_goes_to_the_box_as_jsme_wrote_it():
    assert sketcher.drawing_to_box(" c1ccccc1 ") == "c1ccccc1"
    assert sketcher.drawing_to_box(None) == "" and sketcher.drawing_to_box("") == ""
    assert len(sketcher.drawing_to_box("C" * 10_000)) == sketcher.MAX_DRAWING_SMILES_CHARS


def test_the_box_reaches_the_drawing_only_when_rdkit_accepts_it():
    skip = gr.skip()
    assert sketcher.box_to_drawing("  c1ccccc1O ") == "c1ccccc1O"  # as typed, so the page knows it is the same text
    assert sketcher.box_to_drawing("") == "" and sketcher.box_to_drawing(None) == ""  # an emptied box clears it
    for half_typed in ("C1CC", "CC(", "c1cccc1", "CC(=O)O.OCC>>CC(=O)OCC", "aspirin", "C" * 6000):
        assert sketcher.box_to_drawing(half_typed) == skip, half_typed


def test_without_the_files_the_component_says_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(sketcher, "JSME_LOADER", tmp_path / "missing.js")
    assert sketcher.head_html() == "" and sketcher.static_paths() == []
    with gr.Blocks():
        component = sketcher.make_sketcher()
    assert "scripts/vendor_jsme.py" in component.value
