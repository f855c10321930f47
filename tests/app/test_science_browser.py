"""Issue 17 in the real page (Debian's Chromium, headless, offline): the JSME sketcher, names → structures, and
protein structures in 3D. Screenshots (light, dark, 390×844) go to test-artifacts/."""

from __future__ import annotations

import io
import re
import shutil
import time

import pytest
from browser_helpers import ARTIFACTS, chromium
from playwright.sync_api import expect
from studio_app import launched_app
from studio_media import make_mmcif, make_pdb

import science_tools
from app.backends.fake import FakeBackend
from app.config import Limits


pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANSWER = "Aspirin is <IUPAC>2-acetyloxybenzoic acid</IUPAC>."
HINT = "Draw a structure"
CELL = 25  # JSME's toolbar buttons are 25 px squares at menu scale 1 (wide screens)
needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime: OPSIN cannot run")


@pytest.fixture(scope="module")
def running():
    backend = FakeBackend(content=ANSWER, delay_s=0.01)
    with launched_app(backend, Limits(max_file_size_mb=60)) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def _open(browser, running, *, width=1400, height=1000, dark=False):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(running.url + ("?__theme=dark" if dark else ""))
    page.wait_for_selector("#chat-input textarea")
    expect(page.locator("#sketcher .sketcher-msg")).to_contain_text(HINT, timeout=30_000)  # JSME loaded offline
    return page


def _editor_smiles(page) -> str | None:
    """The SMILES JSME holds (the editor object is kept on the component's element by js_on_load)."""
    return page.evaluate(
        "() => { for (let e = document.querySelector('#sketcher .sketcher-box'); e; e = e.parentElement) {"
        " if (e._jsme) return e._jsme.smiles(); } return null; }"
    )


def _canonical(smiles: str) -> str:
    report = science_tools.check_smiles(smiles)
    assert report.ok, smiles
    return report.canonical_smiles


def test_drawing_a_ring_fills_the_smiles_box_the_picture_and_the_question(browser, running):
    page = _open(browser, running)
    box = page.locator("#sketcher .sketcher-box").bounding_box()
    # The benzene tool is the 9th button of the second toolbar row; then one click on the canvas drops a ring.
    page.mouse.click(box["x"] + 8 * CELL + CELL / 2, box["y"] + CELL + CELL / 2)
    page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55)
    expect(page.locator("#smiles textarea")).to_have_value("c1ccccc1", timeout=15_000)
    page.locator("#smiles-picture img[alt='c1ccccc1']").wait_for(timeout=15_000)  # RDKit's picture followed
    expect(page.locator("#smiles-status")).to_contain_text("C6H6")
    page.screenshot(path=str(ARTIFACTS / "sketcher_drawn_ring.png"), full_page=True)
    page.locator("#ask-molecule").click()  # "Ask about it in the chat"
    expect(page.locator("#chat-input textarea")).to_have_value(
        "Tell me about this molecule:\n<SMILES>c1ccccc1</SMILES>", timeout=10_000
    )
    page.close()


def test_a_typed_smiles_appears_in_the_sketcher_and_the_box_keeps_what_was_typed(browser, running):
    page = _open(browser, running)
    typed = "OC(=O)c1ccccc1OC(C)=O"  # aspirin, written the way nobody's canonicaliser writes it
    page.locator("#smiles textarea").press_sequentially(typed, delay=20)  # every prefix passes through the box
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (_editor_smiles(page) or "") in ("", None):
        time.sleep(0.1)
    time.sleep(1.0)  # let any late echo arrive: it must not rewrite the box
    assert _canonical(_editor_smiles(page)) == _canonical(typed)
    expect(page.locator("#smiles textarea")).to_have_value(typed)
    page.locator("#smiles textarea").fill("C1CC")  # half-typed: the drawing stays, the status says why
    expect(page.locator("#smiles-status")).to_contain_text("Invalid SMILES")
    assert _canonical(_editor_smiles(page)) == _canonical(typed)
    page.locator("#smiles textarea").fill("")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _editor_smiles(page):
        time.sleep(0.1)
    assert _editor_smiles(page) == ""  # an emptied box clears the drawing
    page.close()


def _canvas_pixels(page, selector: str) -> tuple[int, int]:
    """(pixels that differ from the corner colour, distinct colours) of an element's screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.locator(selector).first.screenshot())).convert("RGB")
    background = image.getpixel((2, 2))
    colours = image.getcolors(image.width * image.height)
    return sum(count for count, rgb in colours if rgb != background), len(colours)


@pytest.mark.parametrize("suffix", [".pdb", ".cif"])
def test_a_small_structure_renders_as_a_3d_cartoon_with_its_chains_listed(browser, running, tmp_path, suffix):
    pdb = make_pdb(tmp_path / "1abc.pdb")
    if suffix == ".cif":
        pdb = make_mmcif(pdb, tmp_path / "1abc.cif")
    page = _open(browser, running)
    page.get_by_role("tab", name="Protein / DNA").click()
    page.locator("#structure-file input[type=file]").set_input_files(str(pdb))
    page.locator("#structure3d canvas").first.wait_for(timeout=20_000)
    expect(page.locator("#structure-status")).to_contain_text("chains A (16 aa), B (8 aa) · ligands: ACT")
    expect(page.locator("#structure-card")).to_contain_text("Protein, 16 residues")
    time.sleep(1.0)
    drawn, colours = _canvas_pixels(page, "#structure3d canvas")
    page.screenshot(path=str(ARTIFACTS / f"structure_3d{suffix.replace('.', '_')}.png"), full_page=True)
    print(f"[structure] {suffix} canvas: {drawn} drawn pixels, {colours} colours")
    assert drawn > 2_000 and colours > 50  # cartoons and sticks, shaded: not a blank canvas
    page.get_by_role("button", name="Ask about this structure").click()
    expect(page.locator("#chat-input textarea")).to_have_value(
        re.compile(
            rf"^Tell me about this structure:\n>1abc\{suffix} chain A\n<FASTA>MQIFVKTLTGKTITLE</FASTA>\n>1abc\{suffix} "
        )
    )
    page.close()


def test_a_structure_attached_in_the_chat_reaches_the_model_per_chain_and_the_protein_tab(browser, running, tmp_path):
    pdb = make_pdb(tmp_path / "2xyz.pdb", {"A": "MKTAYIAKQR"}, ligand=None)
    page = _open(browser, running)
    page.locator("#chat-input input[type=file]").set_input_files(str(pdb))
    page.locator("#chat-input .thumbnail-item").first.wait_for(timeout=15_000)  # the upload is done
    calls = len(running.backend.calls)
    page.locator("#chat-input textarea").fill("What is this?")
    page.locator("#chat-input textarea").press("Enter")
    deadline = time.monotonic() + 20
    while len(running.backend.calls) == calls and time.monotonic() < deadline:
        time.sleep(0.1)
    sent = running.backend.calls[-1].messages[-1]["content"][-1]["text"]
    assert sent == "What is this?\n>2xyz.pdb chain A\n<FASTA>MKTAYIAKQR</FASTA>"
    page.get_by_role("tab", name="Protein / DNA").click()
    expect(page.locator("#structure-status")).to_contain_text("2xyz.pdb", timeout=10_000)
    page.locator("#structure3d canvas").first.wait_for(timeout=20_000)
    page.close()


@needs_java
def test_a_name_becomes_the_structure_and_names_in_answers_become_cards(browser, running):
    page = _open(browser, running)
    name = page.locator("#name-box input, #name-box textarea").first
    name.fill("2-acetyloxybenzoic acid")
    name.press("Enter")
    expect(page.locator("#smiles textarea")).to_have_value("CC(=O)Oc1ccccc1C(=O)O", timeout=30_000)
    expect(page.locator("#smiles-status")).to_contain_text("structure from the name 2-acetyloxybenzoic acid, OPSIN")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not _editor_smiles(page):
        time.sleep(0.1)
    assert _canonical(_editor_smiles(page)) == "CC(=O)Oc1ccccc1C(=O)O"  # the sketcher followed
    page.locator("#chat-input textarea").fill("Which drug is this?")
    page.locator("#chat-input textarea").press("Enter")
    # The answer's grid: a thumbnail whose subtitle names the source; opened, its card is headed the same way.
    tile = page.locator("#chat details.sci-tile").filter(has_text="from the name 2-acetyloxybenzoic acid, OPSIN")
    tile.first.wait_for(timeout=30_000)
    tile.first.locator("summary").click()
    tile.first.get_by_text("Structure from the name 2-acetyloxybenzoic acid, OPSIN").wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "names_to_structures.png"), full_page=True)
    page.close()


def test_bad_input_through_the_page_gets_clear_messages_and_the_page_keeps_working(browser, running, tmp_path):
    page = _open(browser, running)
    name = page.locator("#name-box input, #name-box textarea").first
    name.fill("a" * 10_000)
    name.press("Enter")
    limit_or_off = "the name is 10,000 characters long; the limit is 2,000" if shutil.which("java") else "Java"
    expect(page.locator("#name-status")).to_contain_text(limit_or_off, timeout=15_000)
    page.get_by_role("tab", name="Protein / DNA").click()
    cases = {
        "empty.pdb": (b"HEADER    NOTHING HERE\nEND\n", "has no atoms (no ATOM or HETATM records)"),
        "binary.cif": (bytes(range(256)) * 16, "is not a text file (it contains NUL bytes)"),
        "huge.pdb": ((b"REMARK" + b" " * 73 + b"\n") * 625_000, "is 50.0 MB; the limit is 20.0 MB"),
    }
    upload = page.locator("#structure-file input[type=file]")
    for file_name, (content, says) in cases.items():
        (tmp_path / file_name).write_bytes(content)
        upload.set_input_files(str(tmp_path / file_name))
        expect(page.locator("#structure-status")).to_contain_text(says, timeout=30_000)
        expect(page.locator("#structure-status")).to_contain_text(f"'{file_name}'")
        page.locator("#structure-file button[aria-label='Clear']").first.click()
    upload.set_input_files(str(make_pdb(tmp_path / "fine.pdb")))  # and then a good file still works
    expect(page.locator("#structure-status")).to_contain_text("fine.pdb · chains A (16 aa)", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "structure_bad_then_good.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screenshots_in_light_dark_and_on_a_phone(browser, running, tmp_path, dark):
    theme = "dark" if dark else "light"
    page = _open(browser, running, dark=dark)
    page.locator("#smiles textarea").fill("CC(=O)Oc1ccccc1C(=O)O")
    page.locator("#smiles-picture img").wait_for(timeout=15_000)
    page.locator("#sketcher").screenshot(path=str(ARTIFACTS / f"sketcher_{theme}.png"))
    page.get_by_role("tab", name="Protein / DNA").click()
    page.locator("#structure-file input[type=file]").set_input_files(str(make_pdb(tmp_path / "1abc.pdb")))
    page.locator("#structure3d canvas").first.wait_for(timeout=20_000)
    time.sleep(1.0)
    page.screenshot(path=str(ARTIFACTS / f"science_panels_{theme}.png"), full_page=True)
    page.close()
    phone = _open(browser, running, width=390, height=844, dark=dark)
    phone.locator("#sketcher").scroll_into_view_if_needed()
    widths = phone.evaluate(
        "() => { const box = document.querySelector('#sketcher .sketcher-box');"
        " const bars = [...box.querySelectorAll('svg')].map(s => s.getBoundingClientRect().right);"
        " return [box.getBoundingClientRect().right, Math.max(...bars)]; }"
    )
    phone.screenshot(path=str(ARTIFACTS / f"sketcher_phone_{theme}.png"), full_page=False)
    assert widths[1] <= widths[0] + 1, widths  # the whole toolbar fits on a 390-px screen
    phone.close()
