"""A molecule sketcher: JSME inside a ``gr.HTML`` component, kept in step with the SMILES box, fully offline.

JSME (BSD-3-Clause, npm ``jsme-editor`` 0.8.2) is vendored in ``app/ui/static/jsme/`` by ``scripts/vendor_jsme.py``
(no CDN is ever contacted) and served by Gradio as a static path. Its GWT loader is put in the page ``<head>``
through ``gr.HTML(head=…)``; the editor is created in ``js_on_load`` once the loader has defined ``JSApplet.JSME``
and the component has a width (it may start inside a closed accordion or a hidden tab).

The component's value is a SMILES string, synchronised both ways:

* drawing: JSME's ``AfterStructureModified`` callback sets the value to ``editor.smiles()`` and fires ``input``;
  :func:`drawing_to_box` copies it into the SMILES box, whose ``change`` runs the usual RDKit check, picture,
  properties and 3D — so "Ask about this molecule" works from a drawing;
* typing: the SMILES box's ``change`` runs :func:`box_to_drawing`, which hands the sketcher the text only once RDKit
  accepts it (a half-typed SMILES leaves the drawing as it was); the editor loads it unless it already shows it.

Echoes are cut on the page: the editor ignores its own callbacks while it loads a SMILES and remembers the SMILES it
last showed, so a value coming back from the box never reloads (and re-lays-out) the user's drawing.
"""

from __future__ import annotations

from typing import Any

import science_tools
from app.ui.vendored import STATIC_DIR, script_tag, served_folders


__all__ = [
    "JSME_DIR",
    "JSME_LOADER",
    "MAX_DRAWING_SMILES_CHARS",
    "available",
    "box_to_drawing",
    "drawing_to_box",
    "head_html",
    "make_sketcher",
    "static_paths",
    "wire_sketcher",
]

JSME_DIR = STATIC_DIR / "jsme"
JSME_LOADER = JSME_DIR / "jsme.nocache.js"
MAX_DRAWING_SMILES_CHARS = science_tools.LIMITS["MAX_SMILES_LENGTH"]

_TEMPLATE = (
    "<div class='sketcher-wrap'><div class='sketcher-box'></div>"
    "<div class='sketcher-msg' role='status'>Loading the sketcher…</div></div>"
)

_CSS = """
.sketcher-wrap { width: 100%; }
.sketcher-box { width: 100%; min-height: 40px; border: 1px solid var(--border-color-primary);
  border-radius: 8px; overflow: hidden; background: #ffffff; }
.sketcher-msg { font-size: 0.85em; opacity: 0.85; margin-top: 4px; color: var(--body-text-color); }
"""

# ``props.value`` holds the SMILES the sketcher should show ("" = empty canvas). `trigger('input')` reports a drawing.
_JS_ON_LOAD = """
const box = element.querySelector('.sketcher-box');
const msg = element.querySelector('.sketcher-msg');
if (!box || !msg) return;
box.id = 'jsme-' + Math.random().toString(36).slice(2, 11);
const HINT = 'Draw a structure (the SMILES box follows), or type a SMILES to load it here.';
// No InChI entries in JSME's menu: the InChI module is not vendored, and its key search opens a web site.
const OPTIONS = 'newlook,noexportInchi,noexportInchiKey,noexportInchiAuxInfo,nosearchInchiKey';
const UNREADABLE = 'The sketcher could not draw this SMILES; the SMILES box still has it.';
// JSME reads a SMILES asynchronously (its parser is a lazily loaded code fragment) and then reports the read
// through the same callback as a drawing, with a "read…" / "reset" action. `pending` holds the reads we asked for,
// oldest first; each is answered by one such callback (or given up after 5 s), so only the user's own edits and
// pastes reach the SMILES box.
let editor = null, shown = '', asked = null, pending = [], started = false;
const dark = () => document.body.classList.contains('dark')
  || document.documentElement.classList.contains('dark') || !!document.querySelector('.gradio-container.dark');
const height = () => (box.clientWidth < 480 ? 300 : 340);
// JSME's two toolbar rows are 14 buttons of 25 px: on a narrow (phone) column they are scaled down to fit.
const fit = () => {
  editor.setMenuScale(Math.min(1, box.clientWidth / 352));
  editor.setSize(box.clientWidth + 'px', height() + 'px');
};
const show = (smiles) => {
  asked = smiles;
  const read = {smiles: smiles};
  pending.push(read);
  setTimeout(() => {
    const index = pending.indexOf(read);
    if (index < 0) return;
    pending.splice(index, 1);
    if (pending.length === 0) msg.textContent = UNREADABLE;
  }, 5000);
  try {
    if (smiles) { editor.readGenericMolecularInput(smiles); } else { editor.reset(); }
  } catch (err) {
    pending.splice(pending.indexOf(read), 1);
    msg.textContent = UNREADABLE + ' (' + err + ')';
  }
};
const drawn = (event) => {
  if (!editor) return;
  const action = (event && event.action) || '';
  const smiles = editor.smiles() || '';
  if (pending.length && (action.startsWith('read') || action === 'reset')) {
    const read = pending.shift();
    if (pending.length === 0) msg.textContent = read.smiles && !smiles ? UNREADABLE : HINT;
    shown = smiles;
    return;
  }
  if (smiles === shown) return;
  shown = smiles;
  asked = null;
  props.value = smiles;
  trigger('input');
};
const start = () => {
  if (started || box.clientWidth === 0) return;
  started = true;
  editor = new JSApplet.JSME(box.id, box.clientWidth + 'px', height() + 'px', {options: OPTIONS});
  editor.setUserInterfaceBackgroundColor(dark() ? '#c9ced6' : '#eef0f3');
  editor.setCallBack('AfterStructureModified', drawn);
  element._jsme = editor;
  msg.textContent = HINT;
  fit();
  if (props.value) show(props.value);
  new ResizeObserver(() => { if (box.clientWidth > 0) fit(); }).observe(box);
};
let waited = 0;
const wait = () => {
  if (window.JSApplet && window.JSApplet.JSME) {
    if (box.clientWidth > 0) { start(); return; }
    new ResizeObserver((entries, observer) => {
      if (box.clientWidth > 0) { observer.disconnect(); start(); }
    }).observe(box);
    return;
  }
  waited += 1;
  if (waited > 300) {
    msg.textContent = 'Sketcher unavailable: JSME could not be loaded in this browser. Type a SMILES instead.';
    return;
  }
  setTimeout(wait, 100);
};
wait();
watch('value', () => {
  if (!editor) return;
  const smiles = props.value || '';
  if (smiles !== shown && smiles !== asked) show(smiles);
});
"""


def available() -> bool:
    """True when the vendored JSME loader is present."""
    return JSME_LOADER.is_file()


def head_html() -> str:
    """The ``<script>`` tag loading JSME's GWT loader (it finds its other files next to itself)."""
    return script_tag(JSME_LOADER)


def static_paths() -> list[str]:
    """Folders Gradio must serve for the sketcher (pass to ``gr.set_static_paths``)."""
    return served_folders(JSME_LOADER, JSME_DIR)


def make_sketcher(**kwargs: Any):
    """The sketcher component (value: the drawn SMILES); wire it with :func:`drawing_to_box` / :func:`box_to_drawing`."""
    import gradio as gr

    if not available():
        return gr.HTML(value="<p class='sketcher-msg'>Sketcher unavailable: the JSME files are missing "
                       "(run <code>python scripts/vendor_jsme.py</code>).</p>", **kwargs)  # fmt: skip
    return gr.HTML(value="", html_template=_TEMPLATE, css_template=_CSS, js_on_load=_JS_ON_LOAD, head=head_html(),
                   **kwargs)  # fmt: skip


def drawing_to_box(drawn: str | None) -> str:
    """The SMILES box's new text for a drawing: JSME's SMILES as it wrote it ("" for an empty canvas)."""
    return (drawn or "").strip()[:MAX_DRAWING_SMILES_CHARS]


def box_to_drawing(text: str | None) -> Any:
    """What the sketcher should show for the SMILES box's text: the text once RDKit accepts it, else no change.

    An empty box clears the sketcher; a half-typed or invalid SMILES, a reaction or a name leaves the drawing as it
    is (the panel's status says what is wrong), so typing never makes the drawing flicker.
    """
    import gradio as gr

    smiles = (text or "").strip()
    if not smiles:
        return ""
    if science_tools.check_smiles(smiles, descriptors=False).ok:
        return smiles
    return gr.skip()


def wire_sketcher(sketcher: Any, smiles: Any, **private: Any) -> None:
    """Keep ``sketcher`` and the SMILES box ``smiles`` in step (see the module docstring)."""
    sketcher.input(drawing_to_box, [sketcher], [smiles], queue=False, **private)
    smiles.change(box_to_drawing, [smiles], [sketcher], trigger_mode="always_last", queue=False, **private)
