"""Test-run wide settings: offline Hub, no network beyond loopback, marker gates.

Fixtures that build tiny Intern-S1 checkpoints live in ``tests/checkpoints.py`` and are exposed here.
"""

import ipaddress
import os
import shutil
import socket

import pytest


# Tiny on-disk Intern-S1 checkpoints shared by every test tier (tests/checkpoints.py).
pytest_plugins = ["checkpoints"]

# Set before transformers / huggingface_hub are imported by any test module.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if isinstance(address, str) or not isinstance(address, tuple):  # AF_UNIX sockets
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkAccessError(OSError):
    """Raised when a test tries to reach anything but loopback (tests must fail fast, never hang)."""


def _guarded_connect(self, address):
    if not _is_local(address):
        raise NetworkAccessError(f"tests may not reach the network: connect to {address!r} refused")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise NetworkAccessError(f"tests may not reach the network: connect to {address!r} refused")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; none is visible to torch on this machine")
    skip_browser = pytest.mark.skip(reason="Debian chromium is not installed (make test installs it when root)")
    has_chromium = chromium_path() is not None
    cuda = None
    for item in items:
        if "gpu" in item.keywords:
            cuda = _has_cuda() if cuda is None else cuda
            if not cuda:
                item.add_marker(skip_gpu)
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(skip_browser)
