"""Model text is shown inert; molecules and sequences in answers become RDKit / ProtParam cards."""

import base64
import re

import pytest
from studio_media import ASPIRIN, UBIQUITIN

from app.ui import rendering


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<svg><script>alert(1)</script></svg>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
    ],
)
def test_sanitize_markdown_escapes_all_html(hostile):
    safe = rendering.sanitize_markdown(f"before {hostile} after")
    assert "<" not in safe and ">" not in safe
    assert "&lt;" in safe


def test_sanitize_markdown_disarms_script_links_but_keeps_normal_ones():
    safe = rendering.sanitize_markdown("[a](javascript:alert(1)) [b](JavaScript:x) [c](https://example.org)")
    assert "javascript:" not in safe.lower()
    assert "](https://example.org)" in safe


def test_sanitize_markdown_leaves_code_verbatim():
    text = "Use `a<b` and\n```python\nif x < 3: print('<tag>')\n```\nthen <b>"
    safe = rendering.sanitize_markdown(text)
    assert "`a<b`" in safe and "if x < 3: print('<tag>')" in safe
    assert safe.endswith("then &lt;b&gt;")


def _svg_of(card: str) -> str:
    encoded = re.search(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", card).group(1)
    return base64.b64decode(encoded).decode()


def test_molecule_card_has_rdkit_svg_formula_and_weight():
    card = rendering.molecule_card(ASPIRIN)
    assert "C9H8O4" in card and "180.16" in card
    assert "<svg" in _svg_of(card) and "<script" not in _svg_of(card)
    assert rendering.molecule_card("C1CC(") is None


def test_science_items_find_tagged_and_plain_molecules_reactions_and_proteins():
    answer = (
        f"Aspirin is <SMILES>{ASPIRIN}</SMILES>. Esterification: CCO.CC(=O)O>>CCOC(C)=O. "
        f"Ubiquitin: {UBIQUITIN}. Not a molecule: <SMILES>C1CC(</SMILES>."
    )
    items = rendering.science_items(answer)
    kinds = {item.kind for item in items}
    assert "smiles" in kinds and "protein" in kinds
    assert any(item.text == ASPIRIN for item in items)
    assert any(">>" in item.text for item in items)
    assert not any(item.text == "C1CC(" for item in items)
    protein = next(item for item in items if item.kind == "protein")
    assert "isoelectric" in protein.html.lower() or "pi" in protein.html.lower()


def test_card_text_is_escaped():
    # A hostile "sequence" must not reach the page as markup even through a card.
    assert rendering.sequence_card("<script>") is None
    assert "<script" not in (rendering.molecule_card("C[N+](C)(C)C") or "")


def test_descriptor_rows_format_values():
    rows = rendering.descriptor_rows({"molecular_weight": 180.159, "lipinski_pass": True, "qed": None})
    assert rows == [["molecular weight", "180.16"], ["lipinski pass", "yes"], ["qed", "–"]]
