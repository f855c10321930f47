"""Layering: science_tools imports no torch/transformers/gradio; intern_s1 imports no gradio or app."""

import json
import subprocess
import sys

import pytest


def _modules_after_import(package: str) -> set[str]:
    code = f"import json, sys; import {package}; print(json.dumps(sorted(sys.modules)))"
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
