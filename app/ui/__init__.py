"""The Gradio page: Blocks built once for any backend, rendering of model text and science, the 3D viewer."""

from app.ui.blocks import build_demo, launch


__all__ = ["build_demo", "launch"]
