"""Model Markdown → allow-listed HTML: only our tags and attributes, whatever the text holds (property-tested)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hostile_markdown import CORPUS, REMOTE, hostile_markdown
from hypothesis import given, settings

from app.ui.safe_html import markdown_to_html, text_to_html


ALLOWED = {
    "div": {"class"},
    "p": set(),
    "h1": set(), "h2": set(), "h3": set(), "h4": set(), "h5": set(), "h6": set(),
    "blockquote": set(), "ul": set(), "ol": {"start"}, "li": set(),
    "table": set(), "thead": set(), "tbody": set(), "tr": set(), "th": {"style"}, "td": {"style"},
    "em": set(), "strong": set(), "del": set(), "code": {"class"}, "pre": set(), "br": set(), "hr": set(),
    "span": {"class"}, "a": {"href", "target", "rel"},
}  # fmt: skip


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def elements_of(markup: str) -> tuple[list[tuple[str, dict[str, str | None]]], str]:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector.elements, "".join(collector.text)


def assert_only_allowed_markup(markup: str) -> None:
    assert "\n" not in markup, "a newline could end the raw-HTML block in the Chatbot's Markdown pass"
    elements, _ = elements_of(markup)
    for tag, attrs in elements:
        assert tag in ALLOWED, f"<{tag}> in {markup[:300]!r}"
        assert set(attrs) <= ALLOWED[tag], f"<{tag} {attrs}> in {markup[:300]!r}"
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("http://", "https://", "mailto:")), href
            assert attrs["rel"] == "noopener noreferrer nofollow"
        if "class" in attrs:
            assert attrs["class"] in ("model-text", "model-url", "model-image") or attrs["class"].startswith(
                "language-"
            ), attrs
            assert "mermaid" != attrs["class"].removeprefix("language-") or tag == "code"
    if elements:
        assert elements[0] == ("div", {"class": "model-text"})


@pytest.mark.parametrize("payload", CORPUS)
def test_every_known_trick_renders_as_allowed_markup_only(payload):
    markup = markdown_to_html(f"Answer:\n\n{payload}\n\nEnd.")
    assert_only_allowed_markup(markup)
    assert "<img" not in markup and "<form" not in markup


@settings(max_examples=400, deadline=None)
@given(hostile_markdown)
def test_any_mix_of_tricks_renders_as_allowed_markup_only(text):
    assert_only_allowed_markup(markdown_to_html(text))
    assert_only_allowed_markup(text_to_html(text))


def test_the_backslash_backtick_trick_shows_the_form_as_text():
    markup = markdown_to_html(CORPUS[0])
    elements, text = elements_of(markup)
    assert [tag for tag, _ in elements] == ["div", "p"]
    assert text == CORPUS[0].replace("\\`", "`")  # exactly what Markdown shows: a backtick, then the markup as text


def test_images_are_links_with_their_url_shown_never_loaded():
    elements, text = elements_of(markdown_to_html(f"![leak]({REMOTE}/x.png?secret=42)"))
    assert ("a", {"href": f"{REMOTE}/x.png?secret=42", "target": "_blank", "rel": "noopener noreferrer nofollow"}) in (
        elements
    )
    assert text == f"🖼 leak ({REMOTE}/x.png?secret=42)"


def test_links_show_where_they_go_and_unsafe_schemes_lose_their_link():
    _, text = elements_of(markdown_to_html(f"[your bank]({REMOTE}/login)"))
    assert text == f"your bank ({REMOTE}/login)"
    elements, _ = elements_of(markdown_to_html("[ref][r]\n\n[r]: javascript:alert(1)\n\n<javascript:alert(1)>"))
    assert all(tag != "a" for tag, _ in elements)
    elements, text = elements_of(markdown_to_html("<https://example.org/a>"))
    assert text == "https://example.org/a" and elements[-1][0] == "a"  # an autolink's text is its URL already


def test_ordinary_markdown_keeps_its_structure():
    markup = markdown_to_html(
        "# Title\n\nSome **bold** and `a<b`.\n\n- one\n- two\n\n```python\nif a < b:\n    pass\n```"
    )
    assert markup == (
        '<div class="model-text"><h1>Title</h1><p>Some <strong>bold</strong> and <code>a&lt;b</code>.</p>'
        '<ul><li>one</li><li>two</li></ul><pre><code class="language-python">if a &lt; b&#58;&#10;    pass&#10;'
        "</code></pre></div>"
    )
