"""The page's own CSS and its on-load script (kept apart from the layout in :mod:`app.ui.blocks`).

Colours use Gradio's theme variables only, so every part reads in light and dark mode (``?__theme=dark``). The
script decides where the page lands: on a phone-sized screen at the chat (with no keyboard popping up), elsewhere
with the cursor in the chat box — without scrolling, which an ``autofocus`` attribute would do.
"""

from __future__ import annotations

from app.ui.cards import CARD_CSS


__all__ = ["NARROW_SCREEN_PX", "ON_LOAD_JS", "PAGE_CSS"]

NARROW_SCREEN_PX = 768  # up to this width the columns stack and the page is laid out for a phone

PAGE_CSS = (
    CARD_CSS
    + f"""
#model-info {{ font-size: 0.9em; }}
#model-status {{ font-size: 0.9em; border-left: 4px solid var(--color-accent); padding-left: 8px; }}
#demo-banner {{ border-left: 4px solid #e0a800; padding-left: 8px; }}
.attach-caption {{ font-size: 0.82em; color: var(--body-text-color-subdued); text-align: right;
  overflow-wrap: anywhere; }}
.attach-caption b {{ color: var(--body-text-color); font-weight: 600; }}
.attach-warning {{ color: var(--color-accent); }}
#chat .message img:not(.sci-thumb):not(.sci-picture), #chat .message video {{ max-height: 260px; }}
#chat .message:has(.sci-grid), #chat .message:has(.attach-caption) {{ border: none; background: transparent;
  box-shadow: none; padding: 0; }}
@media (max-width: {NARROW_SCREEN_PX}px) {{
  #demo-banner {{ font-size: 0.85em; }}
  #chat .examples {{ display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }}
  #chat .example {{ padding: 8px; font-size: 0.85em; min-height: 0; }}
  #chat .example-image-container {{ display: none; }}
}}
"""
)

# Runs once when the page has loaded (gr.Blocks(js=…)); waits for the chat to be mounted, never for a fixed time.
ON_LOAD_JS = f"""
() => {{
  const land = (tries) => {{
    const chat = document.querySelector('#chat');
    const input = document.querySelector('#chat-input textarea');
    if (!chat || !input) {{ if (tries > 0) requestAnimationFrame(() => land(tries - 1)); return; }}
    if (window.matchMedia('(max-width: {NARROW_SCREEN_PX}px)').matches) {{
      if (document.activeElement === input) input.blur();
      chat.scrollIntoView({{block: 'start'}});
    }} else {{
      input.focus({{preventScroll: true}});
    }}
  }};
  land(600);
}}
"""
