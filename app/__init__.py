"""Intern-S1 Studio: a Gradio scientific assistant over Intern-S1 (local transformers or an OpenAI-compatible server).

Nothing heavy happens at import: the CLI (:mod:`app.cli`) builds the backend and the UI on demand.
"""
