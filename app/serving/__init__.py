"""``intern-s1-studio serve``: any chat backend as an OpenAI-compatible HTTP endpoint (FastAPI + pydantic)."""

from app.serving.server import create_app, serve


__all__ = ["create_app", "serve"]
