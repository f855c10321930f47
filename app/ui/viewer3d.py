"""A 3D molecule viewer: 3Dmol.js inside a ``gr.HTML`` component, fully offline.

3Dmol.js (BSD-3-Clause, npm package ``3dmol`` 2.5.5, file ``build/3Dmol-min.js``) is vendored in
``app/static/`` because the app must work on machines with no network: no CDN is ever contacted. The file is
served by Gradio as a static path and loaded through ``gr.HTML(head=…)``; the viewer is created in
``js_on_load`` (Gradio never runs ``<script>`` inside HTML values). If the script cannot be loaded or WebGL is
missing, the component says so instead of staying blank.
"""

from __future__ import annotations

from app.ui.vendored import STATIC_DIR, script_tag, served_folders


THREEDMOL_JS = STATIC_DIR / "3Dmol-min.js"

_TEMPLATE = (
    "<div class='viewer3d-wrap'><div class='viewer3d-label' style='font-weight:600;font-size:0.9em'></div>"
    "<div class='viewer3d-box' style='width:100%;height:0px;position:relative'></div>"
    "<div class='viewer3d-msg' style='font-size:0.9em;opacity:0.8'></div></div>"
)

# `props.value` holds a MOL block (3D coordinates, from app.ui.panels.molecule_3d; its title line names the
# molecule) or "" (nothing to show: the previous molecule is removed, so the viewer never shows a stale one).
_JS_ON_LOAD = """
const draw = () => {
  const box = element.querySelector('.viewer3d-box');
  const msg = element.querySelector('.viewer3d-msg');
  const label = element.querySelector('.viewer3d-label');
  if (!box || !msg || !label) return;
  const block = props.value || '';
  box.innerHTML = '';
  box.style.height = '0px';
  label.textContent = '';
  element.dataset.molecule = '';
  if (!block) { msg.textContent = 'Pick a molecule and press "Show in 3D".'; return; }
  if (typeof $3Dmol === 'undefined') {
    msg.textContent = '3D viewer unavailable: 3Dmol.js could not be loaded in this browser.'; return;
  }
  const title = block.split('\\n', 1)[0].trim();
  box.style.height = '360px';
  try {
    const viewer = $3Dmol.createViewer(box, {backgroundColor: 'white'});
    viewer.addModel(block, 'sdf');
    viewer.setStyle({}, {stick: {radius: 0.15}, sphere: {scale: 0.25}});
    viewer.zoomTo();
    viewer.render();
    label.textContent = title ? '3D: ' + title : '3D structure';
    element.dataset.molecule = title;
    msg.textContent = 'Drag to rotate, scroll to zoom.';
  } catch (err) {
    box.style.height = '0px';
    msg.textContent = '3D viewer unavailable: ' + err;
  }
};
draw();
watch('value', draw);
"""


def available() -> bool:
    """True when the vendored 3Dmol.js file is present."""
    return THREEDMOL_JS.is_file()


def head_html() -> str:
    """The ``<script>`` tag loading the vendored 3Dmol.js through Gradio's static file route."""
    return script_tag(THREEDMOL_JS)


def static_paths() -> list[str]:
    """Folders Gradio must serve for the viewer (pass to ``gr.set_static_paths``)."""
    return served_folders(THREEDMOL_JS, STATIC_DIR)


def make_viewer(**kwargs):
    """The viewer component; update its value with a MOL block to show a molecule."""
    import gradio as gr

    return gr.HTML(value="", html_template=_TEMPLATE, js_on_load=_JS_ON_LOAD, head=head_html(), **kwargs)
