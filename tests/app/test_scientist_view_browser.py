"""Issue 15 in the real page (Debian's Chromium, headless Playwright): every turn ends visibly, the panels agree and
speak lab language, the cards read in dark mode, a phone lands at the chat, mistakes are warnings.

The backend is scripted per question (a keyword in the message picks the answer). Screenshots are saved under
test-artifacts/ so a person can look at the page; every wait is on a condition in the page, never a fixed time.
"""

from __future__ import annotations

import threading
import time

import pytest
from browser_helpers import chromium, screenshot
from playwright.sync_api import expect
from studio_app import launched_app
from studio_media import make_video

from app.backends.base import BackendInfo, Delta
from app.backends.fake import FakeBackend, split_words


pytestmark = [pytest.mark.browser, pytest.mark.slow]

REACTION = "CC(=O)O.OCC>>CC(=O)OCC.O"
REACTION_ANSWER = f"Esterification: <SMILES>{REACTION}</SMILES> gives ethyl acetate <SMILES>CCOC(C)=O</SMILES>."
GATE = threading.Event()  # a question with "gated" waits for it before its first token


def _words(kind: str, text: str) -> list[Delta]:
    return [Delta(kind, chunk) for chunk in split_words(text)]


def _script(messages, params) -> list[Delta]:
    content = messages[-1]["content"]
    text = content if isinstance(content, str) else " ".join(i.get("text", "") for i in content if "text" in i)
    if "empty" in text:
        return []
    if "ponder" in text:  # thinks and never closes </think>, as the demo model does with thinking on
        return [*_words("reasoning", "I keep pondering the question and never close the block."),
                Delta("usage", data={"thinking_unclosed": True})]  # fmt: skip
    if "long" in text:
        return _words("reasoning", "thinking hard " * 400) + _words("content", "word " * 200)
    if "reaction" in text:
        return _words("content", REACTION_ANSWER)
    return _words("reasoning", "Water has two hydrogens.") + _words("content", "Water is H2O.")


class ScriptedBackend(FakeBackend):
    """The scripted answers; a question with "gated" in it waits for :data:`GATE` before its first token."""

    def stream_chat(self, messages, params, *, tools=None, cancel=None):
        content = messages[-1]["content"]
        if "gated" in str(content):
            while not GATE.wait(0.05):
                if cancel is not None and cancel.is_set():
                    return
        yield from super().stream_chat(messages, params, tools=tools, cancel=cancel)


@pytest.fixture(scope="module")
def backend():
    info = BackendInfo(kind="fake", model_id="intern-s1-demo", description="scripted", is_demo_model=True)
    return ScriptedBackend(script=_script, delay_s=0.01, info=info)


@pytest.fixture(scope="module")
def app(backend):
    with launched_app(backend) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _page(browser, app, *, dark: bool = False, size=(1400, 1000), mobile: bool = False):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.goto(app.url + ("?__theme=dark" if dark else ""))
    page.wait_for_selector("#chat-input textarea")
    return page


@pytest.fixture
def page(browser, app):
    page = _page(browser, app)
    yield page
    page.context.close()


def _send(page, text: str) -> None:
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")


def _answered(backend, calls_before: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (len(backend.calls) > calls_before and backend.calls[-1].finished) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(backend.calls) > calls_before and backend.calls[-1].finished


def _idle(page) -> None:
    """The page left its generating state: the box is unlocked and Stop disabled again."""
    expect(page.locator("#chat-input textarea")).to_be_enabled(timeout=20_000)
    expect(page.locator("#stop-btn")).to_be_disabled(timeout=20_000)


# ---- every turn ends visibly ------------------------------------------------------------------------------------


def test_stop_mid_thinking_leaves_no_spinner_and_says_stopped(page, backend):
    stop = page.locator("#stop-btn")
    expect(stop).to_be_disabled()  # nothing runs yet
    _send(page, "Write a long answer")
    chat = page.locator("#chat")
    chat.locator(".loading-spinner").first.wait_for(timeout=20_000)  # the thinking block is streaming
    expect(stop).to_be_enabled()
    stop.click()
    expect(chat.get_by_text("(stopped)", exact=True)).to_be_visible(timeout=10_000)
    expect(chat.locator(".loading-spinner")).to_have_count(0, timeout=10_000)
    assert backend.calls[-1].cancel_requested
    _idle(page)
    screenshot(page, "issue15_stopped_mid_thinking")


def test_an_empty_answer_gets_its_own_bubble_and_the_next_question_its_own(page, backend):
    calls = len(backend.calls)
    _send(page, "Say nothing, an empty reply")
    chat = page.locator("#chat")
    expect(chat.get_by_text("(the model returned no text)", exact=True)).to_be_visible(timeout=20_000)
    _answered(backend, calls)
    _idle(page)
    _send(page, "What is water?")
    expect(chat.get_by_text("Water is H2O.", exact=True)).to_be_visible(timeout=20_000)
    bubbles = chat.locator("[data-testid=user]")
    expect(bubbles).to_have_count(2)  # two questions, two bubbles: nothing merged
    screenshot(page, "issue15_empty_answer")


def test_thinking_that_never_closes_is_shown_as_the_answer_with_a_note(page, backend):
    _send(page, "Please ponder this")
    chat = page.locator("#chat")
    answer = chat.get_by_text("I keep pondering the question", exact=False).first
    expect(answer).to_be_visible(timeout=20_000)  # in the open, not inside a collapsed Thinking block
    expect(chat.get_by_text("the model never closed its thinking", exact=False)).to_be_visible()
    expect(chat.get_by_text("Thinking", exact=True)).to_have_count(0)
    _idle(page)
    screenshot(page, "issue15_unclosed_thinking")


def test_the_answer_bubble_says_a_video_is_being_decoded_before_the_first_token(page, backend):
    GATE.clear()
    try:
        page.locator("#chat").get_by_text("Explain a titration video (3 s)").click()  # the example with the video
        page.locator("#chat-input video, #chat-input .thumbnail-item").first.wait_for(timeout=15_000)
        _send(page, "gated: what happens in this video?")
        note = page.locator("#chat").get_by_text("Decoding 8 frames of titration.mp4", exact=False)
        expect(note).to_be_visible(timeout=20_000)
        expect(page.locator("#chat").get_by_text("titration.mp4 · 8 of 30 frames go to the model")).to_be_visible()
        screenshot(page, "issue15_decoding_video")
    finally:
        GATE.set()
    expect(page.locator("#chat").get_by_text("Water is H2O.", exact=True)).to_be_visible(timeout=20_000)


# ---- gentle errors -----------------------------------------------------------------------------------------------


def test_an_empty_enter_is_a_warning_and_the_chat_stays_visible(page):
    page.locator("#chat-input textarea").press("Enter")
    expect(page.locator(".toast-body").get_by_text("the message is empty", exact=False)).to_be_visible(timeout=10_000)
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#chat .error")).to_have_count(0)  # Gradio's red error state never covers the chat
    expect(page.locator("#chat-input textarea")).to_be_enabled()
    expect(page.locator("#stop-btn")).to_be_disabled()
    screenshot(page, "issue15_empty_enter")


def test_a_bad_import_is_a_warning_and_keeps_the_chat(page, tmp_path):
    _send(page, "What is water?")
    expect(page.locator("#chat").get_by_text("Water is H2O.", exact=True)).to_be_visible(timeout=20_000)
    bad = tmp_path / "not-a-conversation.json"
    bad.write_text('{"format": "something else"}')
    page.get_by_text("Export / import the conversation").click()
    page.locator("input[type=file][accept*='.json']").set_input_files(str(bad))
    expect(page.locator(".toast-body").get_by_text("Could not import", exact=False)).to_be_visible(timeout=10_000)
    expect(page.locator("#chat").get_by_text("Water is H2O.", exact=True)).to_be_visible()
    expect(page.locator("#chat .error")).to_have_count(0)


def test_a_video_the_browser_cannot_play_says_so_and_still_goes_to_the_model(page, backend, tmp_path):
    video = make_video(tmp_path / "old-camera.avi", frames=6, codec="mpeg4")  # MPEG-4 Part 2
    page.locator("#chat-input input[type=file]").set_input_files(str(video))
    page.locator("#chat-input .thumbnail-item, #chat-input .file").first.wait_for(timeout=15_000)
    calls = len(backend.calls)
    _send(page, "What happens in this clip?")
    note = page.locator("#chat").get_by_text("your browser cannot play this video's format (MPEG-4 Part 2)")
    expect(note).to_be_visible(timeout=20_000)
    expect(page.locator("#chat video")).to_have_count(0)  # a file chip, not a player stuck at "0:00 / NaN:NaN"
    _answered(backend, calls)
    _idle(page)
    assert backend.calls[-1].messages[-1]["content"][0]["type"] == "video"  # the model still receives it
    screenshot(page, "issue15_unplayable_video")


# ---- the panels agree ---------------------------------------------------------------------------------------------


def test_the_smiles_panel_draws_a_reaction_with_every_component(page):
    page.locator("#smiles textarea").fill(REACTION)
    expect(page.locator("#smiles-status")).to_contain_text(
        "Valid reaction. 2 reactant(s) → 2 product(s)", timeout=15_000
    )
    page.locator("#smiles-picture img[alt='reaction']").wait_for(timeout=15_000)
    table = page.locator("#descriptors")
    expect(table).to_contain_text("Reactant 1")
    expect(table).to_contain_text("C2H4O2")
    expect(table).to_contain_text("Product 2")
    page.get_by_role("button", name="Ask about it in the chat").first.click()
    expect(page.locator("#chat-input textarea")).to_have_value(
        "Tell me about this reaction:\n<SMILES>CC(=O)O.CCO>>CCOC(C)=O.O</SMILES>"
    )
    screenshot(page, "issue15_reaction_panel", full_page=True)


def test_the_3d_viewer_names_its_molecule_and_clears_when_the_input_changes(page):
    smiles, viewer = page.locator("#smiles textarea"), page.locator("#viewer3d")
    smiles.fill("CC(=O)Oc1ccccc1C(=O)O")
    page.locator("#smiles-picture img").wait_for(timeout=15_000)
    page.get_by_role("button", name="Show in 3D").click()
    expect(viewer.locator(".viewer3d-label")).to_have_text("3D: CC(=O)Oc1ccccc1C(=O)O · C9H8O4", timeout=20_000)
    viewer.locator("canvas").first.wait_for(timeout=20_000)
    smiles.fill("CCO")
    expect(viewer.locator(".viewer3d-label")).to_have_text("", timeout=15_000)  # the aspirin is gone
    expect(viewer.locator("canvas")).to_have_count(0)
    expect(viewer.locator(".viewer3d-msg")).to_have_text('Pick a molecule and press "Show in 3D".')
    page.get_by_role("button", name="Show in 3D").click()
    expect(viewer.locator(".viewer3d-label")).to_have_text("3D: CCO · C2H6O", timeout=20_000)
    screenshot(page, "issue15_viewer3d_switched", full_page=True)


def test_the_protein_tab_warns_about_prose_and_asks_with_the_fasta_tag(page):
    page.get_by_role("tab", name="Protein / DNA").click()
    sequence = page.locator("#sequence textarea")
    sequence.fill("hello there how are you today")
    expect(page.locator("#sequence-status")).to_contain_text("reads like English words", timeout=15_000)
    sequence.fill("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ")
    expect(page.locator("#sequence-status")).to_contain_text("Valid Protein · Length (aa): 33.", timeout=15_000)
    page.locator("#ask-sequence").click()
    expect(page.locator("#chat-input textarea")).to_have_value(
        "Tell me about this protein:\n<FASTA>MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ</FASTA>"
    )


# ---- provenance and examples -------------------------------------------------------------------------------------


def test_the_sdf_example_sends_named_records_and_the_bubble_names_them(page, backend):
    page.locator("#chat").get_by_text("Three drugs from an .sdf file").click()
    expect(page.locator("#chat-input textarea")).to_have_value("Which of these drugs is the most polar, and why?")
    calls = len(backend.calls)
    page.locator("#chat-input textarea").press("Enter")
    caption = page.locator("#chat .attach-caption")
    expect(caption).to_contain_text("drugs.sdf → caffeine (record 1), aspirin (record 2), paracetamol (record 3)",
                                    timeout=20_000)  # fmt: skip
    _answered(backend, calls)
    _idle(page)
    sent = backend.calls[-1].messages[-1]["content"][-1]["text"]
    assert "caffeine (drugs.sdf, record 1) → <SMILES>Cn1c(=O)c2c(ncn2C)n(C)c1=O</SMILES>" in sent
    screenshot(page, "issue15_sdf_example")


@pytest.mark.parametrize("label", ["Read a UV-Vis spectrum (chart)", "Count cells in a micrograph",
                                   "Compare two proteins (.fasta)", "A two-chain structure (.pdb)"])  # fmt: skip
def test_every_file_example_reaches_the_model(browser, app, backend, label):
    page = _page(browser, app)
    try:
        page.locator("#chat").get_by_text(label).click()
        expect(page.locator("#chat-input textarea")).not_to_have_value("", timeout=10_000)
        page.locator("#chat-input .thumbnail-item, #chat-input .file, #chat-input img").first.wait_for(timeout=15_000)
        calls = len(backend.calls)
        page.locator("#chat-input textarea").press("Enter")
        _answered(backend, calls)
        content = backend.calls[-1].messages[-1]["content"]
        if label.endswith(("(chart)", "micrograph")):
            assert content[0]["type"] == "image"
        elif label.endswith("(.pdb)"):  # one FASTA block per chain, headed by the file and the chain
            assert ">designed_peptides.pdb chain A\n<FASTA>" in content[-1]["text"]
        else:
            assert "→ <FASTA>" in content[-1]["text"]
    finally:
        page.context.close()


# ---- dark mode and the phone --------------------------------------------------------------------------------------

CONTRAST_JS = """(selector) => {
  const luminance = (color) => {
    const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const fill = getComputedStyle(el).backgroundColor;
      if (fill && !fill.startsWith('rgba(0, 0, 0, 0)') && fill !== 'transparent') return fill;
    }
    return 'rgb(255, 255, 255)';
  };
  return Array.from(document.querySelectorAll(selector)).filter(el => el.offsetParent && el.textContent.trim())
    .map(el => {
      const fg = luminance(getComputedStyle(el).color), bg = luminance(background(el));
      return {text: el.textContent.trim().slice(0, 30), ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)};
    });
}"""


def test_cards_read_in_dark_mode_and_stay_inside_their_panels(browser, app):
    page = _page(browser, app, dark=True)
    try:
        _send(page, "Show a reaction")
        page.locator("#chat .sci-tile").nth(1).wait_for(timeout=20_000)
        page.locator("#chat .sci-tile summary").first.click()  # a thumbnail opens into its full card
        expect(page.locator("#chat .sci-tile[open] table.sci-rows")).to_contain_text("Reactant 1")
        page.get_by_role("tab", name="Protein / DNA").click()
        page.locator("#sequence textarea").fill(
            ">ubq\n" + "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYN"
        )
        page.locator("#sequence-card .seq-card").wait_for(timeout=15_000)
        texts = page.evaluate(CONTRAST_JS, ".sci-name, .sci-sub, .sci-rows th, .sci-rows td, .mol-title, .seq-preview")
        assert len(texts) > 10
        low = [item for item in texts if item["ratio"] < 4.5]  # WCAG AA for body text
        assert low == [], low
        card, panel = (
            page.locator("#sequence-card .seq-card").bounding_box(),
            page.locator("#sequence-card").bounding_box(),
        )
        assert card["x"] >= panel["x"] - 1 and card["x"] + card["width"] <= panel["x"] + panel["width"] + 1
        screenshot(page, "issue15_dark_cards", full_page=True)
    finally:
        page.context.close()


def test_a_phone_lands_at_the_chat(browser, app):
    page = _page(browser, app, size=(390, 844), mobile=True)
    try:
        page.wait_for_function(
            "() => { const r = document.querySelector('#chat').getBoundingClientRect(); return r.top > -2 && r.top < 120; }",
            timeout=15_000,
        )
        at = page.evaluate("({y: window.scrollY, max: document.documentElement.scrollHeight - window.innerHeight})")
        assert at["y"] < at["max"] - 200  # not scrolled to the bottom, where the chat box would pull it
        assert page.evaluate("document.activeElement.tagName") != "TEXTAREA"  # no keyboard popping up
        screenshot(page, "issue15_phone_landing")
    finally:
        page.context.close()


def test_on_a_phone_in_dark_mode_the_cards_fit_the_chat(browser, app):
    page = _page(browser, app, dark=True, size=(390, 844), mobile=True)
    try:
        _send(page, "Show a reaction")
        page.locator("#chat .sci-tile").nth(1).wait_for(timeout=20_000)
        chat = page.locator("#chat").bounding_box()
        for tile in page.locator("#chat .sci-tile").all():
            box = tile.bounding_box()
            assert box["x"] >= chat["x"] and box["x"] + box["width"] <= chat["x"] + chat["width"]
        texts = page.evaluate(CONTRAST_JS, ".sci-name, .sci-sub")
        assert texts and all(item["ratio"] >= 4.5 for item in texts), texts
        screenshot(page, "issue15_phone_dark_cards")
    finally:
        page.context.close()


# ---- model loading -----------------------------------------------------------------------------------------------


def test_the_page_shows_the_model_loading_and_answers_once_it_is_loaded(browser):
    from app.backends.loading import LoadingBackend

    release, reported = threading.Event(), threading.Event()

    def factory(progress):
        progress(0.55, "writing the Intern-S1 tokenizer (SMILES / IUPAC / FASTA sub-vocabularies)")
        reported.set()
        release.wait(30)
        return FakeBackend(content="Loaded and answering.", info=BackendInfo(kind="local", model_id="intern-s1-demo",
                                                                              description="offline demo"))  # fmt: skip

    provisional = BackendInfo(kind="local", model_id="intern-s1-demo", description="loading…", is_demo_model=True)
    loading = LoadingBackend(factory, provisional)
    assert reported.wait(10)
    with launched_app(loading) as running:
        page = _page(browser, running)
        try:
            status = page.locator("#model-status")
            expect(status).to_contain_text("Loading the model — 55%: writing the Intern-S1 tokenizer")
            expect(page.locator("#model-info")).to_contain_text("loading…")
            _send(page, "Are you there?")  # asked while loading: the answer waits for the model
            expect(page.locator("#chat").get_by_text("Waiting for the model to load (55%", exact=False)).to_be_visible(
                timeout=15_000
            )
            expect(page.locator("#stop-btn")).to_be_enabled()  # the waiting answer can be stopped
            screenshot(page, "issue15_model_loading")
            release.set()
            expect(page.locator("#chat").get_by_text("Loaded and answering.", exact=True)).to_be_visible(
                timeout=20_000
            )
            expect(status).to_be_hidden(timeout=10_000)
            expect(page.locator("#model-info")).to_contain_text("offline demo")
        finally:
            release.set()
            page.context.close()
