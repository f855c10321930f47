"""Tier c: the real page in Debian's Chromium (headless Playwright), backed by the scripted backend.

Screenshots go to test-artifacts/ (gitignored) so a person can look at the UI.
"""

import time

import pytest
from browser_helpers import ARTIFACTS, chromium
from playwright.sync_api import expect
from studio_app import launched_app
from studio_media import ASPIRIN, make_image

from app.backends.fake import FakeBackend


pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANSWER = "Water is H2O. Ethanol is <SMILES>CCO</SMILES>; hostile <img src=x onerror=alert(1)> text stays inert."


@pytest.fixture(scope="module")
def backend():
    return FakeBackend(reasoning="First I recall that water has two hydrogens.", content=ANSWER, delay_s=0.03)


@pytest.fixture(scope="module")
def page(backend):
    with launched_app(backend) as app, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app.url)
        page.wait_for_selector("#chat-input textarea")
        yield page


def _send(page, text: str) -> None:
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")


def test_streamed_answer_and_thinking_block(page):
    _send(page, "What is the chemical formula of water?")
    chat = page.locator("#chat")
    chat.get_by_text("text stays inert", exact=False).first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "chat_streamed.png"), full_page=True)
    assert page.locator("#chat img[onerror]").count() == 0
    assert "<img src=x" in chat.inner_text()  # shown as text, not parsed
    # The molecule card for the tagged SMILES is drawn under the answer.
    chat.locator("img[alt='CCO']").first.wait_for(timeout=15_000)
    # The thinking block is collapsible: its title toggles the reasoning text.
    reasoning = chat.get_by_text("two hydrogens", exact=False).first
    title = chat.get_by_text("Thinking", exact=False).first
    if reasoning.is_visible():
        title.click()
        expect(reasoning).to_be_hidden()
    title.click()
    expect(reasoning).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "chat_thinking_open.png"), full_page=True)


def test_smiles_panel_shows_picture_and_reason(page):
    smiles = page.locator("#smiles textarea")
    smiles.fill(ASPIRIN)
    page.locator("#smiles-picture img").wait_for(timeout=15_000)
    page.get_by_text("C9H8O4", exact=False).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "smiles_panel.png"), full_page=True)
    page.get_by_role("button", name="Show in 3D").click()
    page.locator("#viewer3d canvas").first.wait_for(timeout=20_000)  # 3Dmol.js (vendored) drew a WebGL canvas
    page.screenshot(path=str(ARTIFACTS / "viewer3d.png"), full_page=True)
    smiles.fill("C1CC(")
    page.get_by_text("Invalid SMILES", exact=False).first.wait_for(timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "smiles_invalid.png"), full_page=True)


def test_image_upload_is_shown_in_chat(page, tmp_path):
    image = make_image(tmp_path / "blue.png", (120, 80), "blue")
    page.locator("#chat-input input[type=file]").set_input_files(str(image))
    page.locator("#chat-input img").first.wait_for(timeout=15_000)  # the upload's thumbnail: upload done
    _send(page, "What colour is this image?")
    page.locator("#chat img[src*='blue']").first.wait_for(timeout=20_000)
    page.get_by_text("text stays inert", exact=False).nth(1).wait_for(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "chat_image.png"), full_page=True)


def _answered(page, backend, calls_before: int) -> None:
    """Wait until the backend finished a new answer and the page left its generating state."""
    deadline = time.monotonic() + 30
    while not (len(backend.calls) > calls_before and backend.calls[-1].finished) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(backend.calls) > calls_before and backend.calls[-1].finished
    expect(page.locator("#chat-input textarea")).to_be_enabled(timeout=20_000)


def test_editing_a_message_with_an_image_keeps_the_image_and_sends_the_new_text(page, backend, tmp_path):
    image = make_image(tmp_path / "green.png", (90, 60), "green")
    page.locator("#chat-input input[type=file]").set_input_files(str(image))
    page.locator("#chat-input img").first.wait_for(timeout=15_000)
    calls = len(backend.calls)
    _send(page, "What colour is this?")
    page.locator("#chat img[src*='green']").first.wait_for(timeout=20_000)
    _answered(page, backend, calls)
    page.locator("#chat button[aria-label='Edit']").last.click()
    editor = page.locator("#chat textarea").first
    expect(editor).to_have_value("What colour is this?")  # the edit box shows the text as typed
    edited = "And its shape? <b>&amp;</b> `x` like <SMILES>C[C@@H](O)C(=O)O</SMILES> or <FASTA>MKTAYIAKQR</FASTA>"
    editor.fill(edited)
    calls = len(backend.calls)
    page.locator("#chat").get_by_role("button", name="Submit").first.click()
    _answered(page, backend, calls)
    sent = backend.calls[-1].messages[-1]["content"]
    assert sent[0]["type"] == "image" and sent[0]["path"].endswith("green.png")
    assert sent[-1] == {"type": "text", "text": edited}  # science tags and all, byte for byte
    bubble = page.locator("#chat [data-testid=user]").last
    expect(bubble).to_contain_text("<SMILES>C")  # the typed tags stay visible in the user's own bubble
    expect(bubble).to_contain_text("<FASTA>MKTAYIAKQR</FASTA>")
    page.locator("#chat button[aria-label='Edit']").last.click()
    expect(page.locator("#chat textarea").first).to_have_value(edited)  # and the edit box shows them as typed
    page.locator("#chat").get_by_role("button", name="Cancel").first.click()
    page.screenshot(path=str(ARTIFACTS / "chat_edited_with_image.png"), full_page=True)


def test_stop_button_stops_the_answer_and_frees_the_box(page, backend):
    backend.content = " ".join(f"word{i}" for i in range(3000))
    try:
        _send(page, "Write a very long answer")
        page.locator("#chat").get_by_text("word5", exact=False).first.wait_for(timeout=20_000)
        page.locator("#stop-btn").click()
        call = backend.calls[-1]
        deadline = time.monotonic() + 1.0
        while not call.cancel_requested and time.monotonic() < deadline:
            time.sleep(0.02)
        assert call.cancel_requested and not call.finished
        expect(page.locator("#chat-input textarea")).to_be_enabled(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "chat_stopped.png"), full_page=True)
    finally:
        backend.content = ANSWER
