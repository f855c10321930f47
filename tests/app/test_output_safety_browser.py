"""Hostile model output is shown inert in the real browser (Debian's Chromium driven by Playwright, headless).

The backend answers with script tags, event-handler attributes, ``javascript:`` links and SVG with script — in
the thinking block and in the answer. Each payload would set ``window.__pwned``; after the answer has streamed,
the flag must still be undefined, no element may carry a handler or ``javascript:`` URL from the answer, and no
``<script>`` from the answer may exist in the DOM. The same payloads are also typed into the SMILES and sequence
panels and used as an upload name (their error messages echo the input).
"""

from __future__ import annotations

import shutil

import pytest
from reliability_helpers import Recorder, launch_app

from app.backends.base import BackendInfo, ChatBackend, Delta
from app.config import Limits


pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
END = "END-OF-HOSTILE-ANSWER"
DIALOGS: list[str] = []  # alert()/confirm() messages the page tried to show
PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img-onerror'\">",
    "[click me](javascript:window.__pwned='md-link')",
    "<a href=\"javascript:window.__pwned='a-href'\" id=evil-link>html link</a>",
    "![pic](javascript:window.__pwned='md-image')",
    "<svg onload=\"window.__pwned='svg-onload'\"><script>window.__pwned='svg-script'</script></svg>",
    "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>",
    "<details open ontoggle=\"window.__pwned='ontoggle'\"><summary>x</summary></details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">",
    "<object data=\"data:text/html,<script>parent.__pwned='object'</script>\"></object>",
    "`<script>window.__pwned='code'</script>`",
    "```html\n<script>window.__pwned='fenced'</script>\n```",
]
HOSTILE_TEXT = "Here you go.\n\n" + "\n\n".join(PAYLOADS) + f"\n\n{END}"

# What must not be in the chat once the answer is shown (evaluated in the page).
INSPECT_JS = """() => {
  const chat = document.querySelector('#chat');
  const all = Array.from(chat.querySelectorAll('*'));
  const handlers = all.filter(el => Array.from(el.attributes).some(a => a.name.startsWith('on')));
  const jsUrls = all.filter(el => ['href', 'src', 'data', 'xlink:href', 'action', 'formaction']
      .some(name => (el.getAttribute(name) || '').trim().toLowerCase().startsWith('javascript:')));
  const scripts = Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('__pwned'));
  return {
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    handlers: handlers.map(el => el.outerHTML.slice(0, 120)),
    jsUrls: jsUrls.map(el => el.outerHTML.slice(0, 120)),
    scripts: scripts.length,
    frames: chat.querySelectorAll('iframe, object, embed').length,
    text: chat.innerText,
  };
}"""


class HostileBackend(ChatBackend):
    """A model whose thinking and answer are full of markup that would run script if rendered as HTML."""

    info = BackendInfo(kind="hostile", model_id="hostile-model")

    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        if params.enable_thinking:
            yield Delta("reasoning", "Thinking about " + PAYLOADS[0] + PAYLOADS[1])
        for piece in HOSTILE_TEXT.split("\n\n"):  # streamed in pieces, so partial tags reach the page too
            yield Delta("content", piece + "\n\n")


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with launch_app(Recorder(HostileBackend()), Limits()) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
        page.goto(app.url)
        page.wait_for_selector("#chat-input textarea")
        yield page
        browser.close()


def _assert_inert(page) -> dict:
    found = page.evaluate(INSPECT_JS)
    assert found["pwned"] is None, f"injected script ran: window.__pwned = {found['pwned']!r}"
    assert found["handlers"] == [], found["handlers"]
    assert found["jsUrls"] == [], found["jsUrls"]
    assert found["scripts"] == 0
    assert found["frames"] == 0
    assert DIALOGS == []
    return found


def test_hostile_answer_and_thinking_are_shown_inert(page):
    box = page.locator("#chat-input textarea")
    box.fill("Show me something dangerous.")
    box.press("Enter")
    page.locator("#chat").get_by_text(END, exact=False).first.wait_for(timeout=60_000)
    found = _assert_inert(page)
    assert "window.__pwned" in found["text"], "the payloads should be visible as text, not silently dropped"
    # clicking what looks like a link must not run anything either
    for link in page.locator("#chat a").all():
        if link.is_visible():
            link.click(modifiers=["Alt"], timeout=2_000, no_wait_after=True)
    page.wait_for_timeout(300)
    _assert_inert(page)


def test_hostile_user_text_is_shown_through_the_sanitiser_inert(page):
    """User text is rendered as typed (so an edit gets it back byte for byte) through Gradio's sanitiser.

    Stricter than needed for the model's text, which we escape ourselves: the sanitiser may leave the markdown image
    ``![pic](javascript:…)`` as ``<img src="javascript:…">``, which browsers never run; everything else must be gone.
    """
    answers = page.locator("#chat").get_by_text(END, exact=False)
    before = answers.count()
    box = page.locator("#chat-input textarea")
    box.fill("My own payloads: " + " ".join(PAYLOADS))
    box.press("Enter")
    answers.nth(before).wait_for(timeout=60_000)
    for link in page.locator("#chat a").all():
        if link.is_visible():
            link.click(modifiers=["Alt"], timeout=2_000, no_wait_after=True)
    page.wait_for_timeout(300)
    found = page.evaluate(INSPECT_JS)
    assert found["pwned"] is None and found["handlers"] == [] and found["scripts"] == 0 and found["frames"] == 0
    assert [url for url in found["jsUrls"] if not url.startswith("<img ")] == [], found["jsUrls"]
    assert DIALOGS == []


@pytest.mark.parametrize(
    "tab, panel, verdict",
    [("Molecule", "#smiles textarea", "Invalid SMILES"), ("Protein / DNA", "#sequence textarea", "Invalid sequence")],
)
def test_hostile_text_in_science_panels_stays_inert(page, tab, panel, verdict):
    page.get_by_role("tab", name=tab).click()
    for payload in PAYLOADS[:2] + PAYLOADS[5:6]:
        page.locator(panel).fill(payload)
        page.get_by_text(verdict, exact=False).first.wait_for(timeout=20_000)
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)") is None
    assert DIALOGS == []


def test_hostile_upload_name_in_error_toast_stays_inert(page, tmp_path):
    evil = tmp_path / "<img src=x onerror=\"window.__pwned='toast'\">.png"
    evil.write_bytes(b"not an image")
    page.locator("#chat-input input[type=file]").set_input_files(str(evil))
    box = page.locator("#chat-input textarea")
    box.fill("What is this?")
    box.press("Enter")
    page.get_by_text("not a readable image", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)") is None
    assert page.locator("img[onerror]").count() == 0


def test_the_checks_above_do_catch_a_live_payload(page):
    """Control: the same inspection flags markup that does run (inserted into the chat by hand, last)."""
    page.evaluate(
        """() => { const div = document.createElement('div');
                   div.innerHTML = '<img src=x onerror="window.__pwned = \\'control\\'">';
                   document.querySelector('#chat').appendChild(div); }"""
    )
    page.wait_for_function("() => window.__pwned === 'control'", timeout=10_000)
    found = page.evaluate(INSPECT_JS)
    assert found["pwned"] == "control" and found["handlers"]
