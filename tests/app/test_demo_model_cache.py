"""The demo model's cache handling (no model is built here; see test_demo_model.py for that)."""

import pytest

from app import demo_model


def _fake_build(folder, marker=True):
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_text("weights")
    if marker:
        (folder / demo_model.COMPLETE_MARKER).write_text("{}")
    return folder


def test_gguf_is_found_inside_the_wheel():
    path = demo_model.gguf_path()
    assert path.name == demo_model.GGUF_FILE and path.stat().st_size > 50_000_000


def test_cache_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INTERN_S1_STUDIO_CACHE", str(tmp_path))
    assert demo_model.default_cache_dir() == tmp_path / f"demo-{demo_model.DEMO_VERSION}"


def test_a_finished_build_is_reused_without_building(tmp_path, monkeypatch):
    target = _fake_build(tmp_path / "demo")
    monkeypatch.setattr(demo_model, "build_demo_checkpoint", lambda *a: pytest.fail("must not rebuild"))
    assert demo_model.ensure_demo_model(target) == target


def test_publish_replaces_an_incomplete_build_but_keeps_a_finished_one(tmp_path):
    target = _fake_build(tmp_path / "demo", marker=False)
    staging = _fake_build(tmp_path / ".building-1")
    demo_model._publish(staging, target)
    assert demo_model.is_built(target) and not staging.exists()
    other = _fake_build(tmp_path / ".building-2")
    demo_model._publish(other, target)  # someone else finished first: theirs stays
    assert demo_model.is_built(target) and other.exists()
