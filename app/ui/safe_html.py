"""Untrusted Markdown (model text) rendered to allow-listed HTML with a real parser's token stream.

markdown-it-py (CommonMark + GFM tables and strikethrough, raw HTML *off*) parses the text; this module walks the
tokens and writes HTML itself from an allow-list, so what reaches the page is decided here and nowhere else:

* only the tags of :data:`_TAGS` (paragraphs, headings, lists, quotes, code, tables, emphasis, links) are written,
  with only the attributes written here (a checked ``href``, a checked list ``start``, a checked table
  ``text-align``, a checked code ``language-*`` class) — never a form, input, button, iframe, object, embed, script,
  style, link, image or event handler, whatever the text holds (raw HTML, entities, backslashes before backticks,
  nested code spans, reference links: the parser resolves them and every piece of text is escaped);
* links keep only ``http``, ``https`` and ``mailto`` targets, open in a new tab without a referrer, and show their
  URL next to their text (a phishing link cannot hide where it goes);
* images are never loaded: an image becomes a link to its URL, shown as text (no request leaves the page when an
  answer renders; the only inline pictures are the app's own RDKit SVG cards, built elsewhere);
* the result is one line inside a ``<div>``: the Chatbot's own Markdown pass (marked) sees a single raw-HTML block
  and leaves it as it is, and newlines inside code are written as ``&#10;`` so no blank line can end that block.
  Markdown punctuation in text is written as character references too, so even a Markdown parser reading the text
  would find no syntax in it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


__all__ = ["code_text", "escape_text", "html_block", "markdown_to_html", "text_to_html"]

# Token base name (``paragraph`` for paragraph_open / paragraph_close) → the tag written.
_TAGS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bullet_list": "ul",
    "ordered_list": "ol",
    "list_item": "li",
    "table": "table",
    "thead": "thead",
    "tbody": "tbody",
    "tr": "tr",
    "th": "th",
    "td": "td",
    "em": "em",
    "strong": "strong",
    "s": "del",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_ALIGN = re.compile(r"text-align:(left|center|right)")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")
# Markdown punctuation (and the HTML specials) as character references: inert for both HTML and Markdown parsers.
# ``$`` is left alone so the Chatbot's LaTeX delimiters still work (its LaTeX pass re-escapes what it extracts).
_TEXT_ESCAPES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;", "*": "&#42;", "_": "&#95;",
    "[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "!": "&#33;", "\\": "&#92;", "~": "&#126;",
    "|": "&#124;", "#": "&#35;", ":": "&#58;", "\n": "&#10;", "\r": "",
})  # fmt: skip


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # html=False: raw HTML in the text is text. breaks=True: a single newline is a line break, as in the Chatbot.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])


def escape_text(value: str) -> str:
    """Text as HTML that no HTML or Markdown parser reads as markup (newlines kept as ``&#10;``)."""
    return value.translate(_TEXT_ESCAPES)


def code_text(value: str) -> str:
    """Text in code style, as inert as :func:`escape_text` (inside Markdown we compose, where a code span would show
    the character references literally)."""
    return f"<code>{escape_text(value)}</code>"


def html_block(inner: str) -> str:
    """Our HTML as one raw-HTML block for the Chatbot's Markdown pass ("" when there is nothing to show)."""
    return f'<div class="model-text">{inner}</div>' if inner else ""


_text = escape_text


def _safe_href(url: str) -> str | None:
    """The URL if it is an absolute http(s)/mailto link, else None (scripts, data:, files, relative paths)."""
    url = url.strip()
    if not url.lower().startswith(_LINK_SCHEMES) or any(ord(char) < 32 for char in url):
        return None
    return url


def _href_attribute(url: str) -> str:
    # ``$`` percent-encoded: the Chatbot's LaTeX pass looks for "$$" anywhere, attributes included.
    return html.escape(url, quote=True).replace("$", "%24")


def _link_open(url: str) -> str:
    return f'<a href="{_href_attribute(url)}" target="_blank" rel="noopener noreferrer nofollow">'


def _shown_url(url: str) -> str:
    return f' <span class="model-url">({_text(url)})</span>'


def _inline(tokens: Sequence[Token]) -> str:
    """HTML of an inline token list (the children of an ``inline`` token, or an image's alt text)."""
    out: list[str] = []
    links: list[tuple[str, str | None, int]] = []  # (url, safe href, where its text starts in ``out``)
    for token in tokens:
        kind = token.type
        if kind == "text":
            out.append(_text(token.content))
        elif kind == "code_inline":
            out.append(f"<code>{_text(token.content)}</code>")
        elif kind in ("softbreak", "hardbreak"):
            out.append("<br>")
        elif kind == "link_open":
            url = str(token.attrs.get("href", ""))
            href = _safe_href(url)
            out.append(_link_open(href) if href else "")
            links.append((url, href, len(out)))
        elif kind == "link_close" and links:
            url, href, start = links.pop()
            label = "".join(out[start:])
            out.append("</a>" if href else "")
            if _text(url) != label:  # show where the link goes unless its text already says so
                out.append(_shown_url(url))
        elif kind == "image":
            out.append(_image(token))
        elif kind.endswith(("_open", "_close")) and kind.rsplit("_", 1)[0] in _TAGS:
            tag = _TAGS[kind.rsplit("_", 1)[0]]
            out.append(f"<{tag}>" if kind.endswith("_open") else f"</{tag}>")
        else:  # anything else the parser may produce is kept as text
            out.append(_text(token.content))
    out += ["</a>" for _, href, _ in links if href]  # unclosed links (cannot happen with a valid stream)
    return "".join(out)


def _image(token: Token) -> str:
    """An image as a link to its URL, never loaded: "🖼 alt text (url)"."""
    url = str(token.attrs.get("src", ""))
    alt = _inline(token.children or []) or "image"
    href = _safe_href(url)
    label = f"🖼 {alt}"
    linked = f"{_link_open(href)}{label}</a>" if href else label
    return f'<span class="model-image">{linked}{_shown_url(url) if url else ""}</span>'


def _block_tag(token: Token) -> str | None:
    """The tag an ``*_open`` / ``*_close`` block token stands for, or None (not allowed, or a tight list's <p>)."""
    base = token.type.rsplit("_", 1)[0]
    if base == "heading":
        return token.tag if token.tag in _HEADINGS else None
    return None if token.hidden else _TAGS.get(base)


def _block_open(token: Token) -> str:
    tag = _block_tag(token)
    if tag is None:
        return ""
    start = str(token.attrs.get("start", ""))
    if tag == "ol" and start.isdigit():
        return f'<ol start="{int(start)}">'
    align = _ALIGN.fullmatch(str(token.attrs.get("style", "")))
    if tag in ("th", "td") and align:
        return f'<{tag} style="text-align:{align.group(1)}">'
    return f"<{tag}>"


def _block_close(token: Token) -> str:
    tag = _block_tag(token)
    return f"</{tag}>" if tag else ""


def _code_block(token: Token) -> str:
    language = token.info.split()[0] if token.info.strip() else ""
    attribute = f' class="language-{language}"' if _LANGUAGE.fullmatch(language) else ""
    return f"<pre><code{attribute}>{_text(token.content)}</code></pre>"


def markdown_to_html(text: str) -> str:
    """Markdown from an untrusted source (a model's answer, thinking or tool output) as inert, allow-listed HTML.

    Returns:
        One line of HTML in a ``<div class="model-text">`` ("" for empty text), safe to give the Chatbot.
    """
    if not text:
        return ""
    out: list[str] = []
    for token in _parser().parse(text):
        if token.type == "inline":
            out.append(_inline(token.children or []))
        elif token.type in ("fence", "code_block"):
            out.append(_code_block(token))
        elif token.type == "hr":
            out.append("<hr>")
        elif token.type.endswith("_open"):
            out.append(_block_open(token))
        elif token.type.endswith("_close"):
            out.append(_block_close(token))
        else:  # html_block cannot occur (html=False); anything unknown is shown as text
            out.append(f"<p>{_text(token.content)}</p>")
    return html_block("".join(out))


def text_to_html(text: str) -> str:
    """Plain text (an error message, a tool call's title) as inert HTML, one line, no Markdown interpreted."""
    return html_block(escape_text(text))
