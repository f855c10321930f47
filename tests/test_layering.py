"""Layering, checked in fresh interpreters: what importing each layer pulls in.

* ``science_tools`` imports no torch / transformers / gradio; ``intern_s1`` imports no gradio or app;
* ``import app`` is light (no torch);
* the chat engine (``app.chat``), the science endpoints (``app.science_api``) and the serving layer
  (``app.serving``) import no Gradio at all, so no UI code (``gradio.Blocks``, components, ``app.ui``) either;
* only ``app.ui`` (and the Spaces entry point) builds the page.
"""

import json
import subprocess
import sys

import pytest


def _modules_after_import(*modules: str) -> set[str]:
    imports = "; ".join(f"import {module}" for module in modules)
    code = f"import json, sys; {imports}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("science_tools", {"torch", "transformers", "gradio", "intern_s1", "app"}),
        ("intern_s1", {"gradio", "app", "science_tools", "openai"}),
    ],
)
def test_package_does_not_import_forbidden_layers(package, forbidden):
    loaded = _top_level(_modules_after_import(package))
    assert package in loaded
    assert not (loaded & forbidden), f"importing {package} pulled in {sorted(loaded & forbidden)}"


def test_app_import_is_light():
    # `app` may use both lower layers, but importing it must not load a model or start gradio.
    loaded = _top_level(_modules_after_import("app"))
    assert "app" in loaded
    assert "torch" not in loaded, "importing app must not import torch (nothing heavy at import)"


CHAT_AND_SERVING = [
    "app.chat.attachments",
    "app.chat.engine",
    "app.chat.history",
    "app.chat.sessions",
    "app.chat.tools",
    "app.chat.transcript",
    "app.science_api",
    "app.serving",
]


@pytest.mark.parametrize("module", CHAT_AND_SERVING)
def test_chat_engine_and_serving_import_no_gradio_and_no_ui(module):
    loaded = _modules_after_import(module)
    assert module in loaded
    ui = sorted(name for name in loaded if name == "gradio" or name.startswith(("gradio.", "app.ui")))
    assert not ui, f"importing {module} pulled in UI code: {ui[:5]}"
    assert "torch" not in _top_level(loaded)


def test_the_ui_is_where_gradio_is():
    loaded = _modules_after_import("app.ui")
    assert "gradio" in loaded and "app.ui.blocks" in loaded and "torch" not in _top_level(loaded)


def test_test_files_have_unique_basenames():
    """pytest's default import mode keys test modules by file name: two ``test_x.py`` in different folders break
    collection of the whole suite, so each name is used once."""
    from collections import Counter
    from pathlib import Path

    names = Counter(path.name for path in Path(__file__).parent.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
