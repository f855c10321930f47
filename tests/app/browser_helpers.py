"""Shared pieces of the Playwright tests: Debian's Chromium, offline, screenshots under test-artifacts/."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ASSETS = Path(__file__).resolve().parents[2] / "assets"
# --proxy-server points every non-local request at a closed port: the page must work with no network at all.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--proxy-server=http://127.0.0.1:9",
]


def chromium_path() -> str:
    return shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright (never a browser a tool downloaded)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str, **options) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), **options)
