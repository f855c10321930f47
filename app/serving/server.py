"""Serve any :class:`~app.backends.base.ChatBackend` as an OpenAI-compatible HTTP endpoint (lmdeploy dialect).

``intern-s1-studio serve --port 23333`` exposes the configured backend (by default the local model) so that any
OpenAI client — the ``openai`` SDK, LangChain, this project's own remote backend — can talk to it:

* ``POST /v1/chat/completions`` — streaming (SSE) and not; the fields accepted, refused and converted are listed
  in :mod:`app.serving.protocol` and :mod:`app.serving.convert`;
* ``GET /v1/models`` and ``GET /health``.

The server runs on FastAPI (routes, pydantic models, one OpenAI-style error handler) under uvicorn, within the same
:class:`~app.config.Limits` as the UI: a body limit checked before the body is read, deadlines for slow senders,
per-message media and text limits checked before any media is decoded, and at most ``concurrency_limit`` answers
generated at once. Remote ``http(s)://`` media URLs are refused: the server never fetches on a client's behalf.
"""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from app.backends.base import ChatBackend
from app.config import Limits
from app.serving.errors import install_error_handlers
from app.serving.routes import build_router, max_body_bytes
from app.serving.transport import BodyGuardMiddleware, header_deadline_protocol


__all__ = ["create_app", "serve", "uvicorn_config"]

logger = logging.getLogger(__name__)


def create_app(backend: ChatBackend, limits: Limits | None = None) -> FastAPI:
    """Build the FastAPI application serving ``backend`` within ``limits`` (no thread or socket is opened here).

    Args:
        backend: the chat backend answering every request.
        limits: the app's limits (default: :class:`~app.config.Limits()`); ``concurrency_limit``,
            ``max_new_tokens_cap``, ``max_file_size_mb``, the per-message media and text limits and the ``serve``
            limits (``max_request_body_mb``, ``max_messages_per_request``, ``request_read_timeout_s``) apply.
    """
    limits = limits or Limits()
    # No /docs, /redoc or /openapi.json: the docs pages load their scripts from a CDN, and nothing here should.
    app = FastAPI(title="Intern-S1 Studio (OpenAI-compatible)", docs_url=None, redoc_url=None, openapi_url=None)
    body_limit = (f"the request body is larger than the limit of {limits.max_request_body_mb:g} MB "
                  "(max_request_body_mb)")  # fmt: skip
    install_error_handlers(app, body_limit_message=body_limit)
    app.add_middleware(BodyGuardMiddleware, max_bytes=max_body_bytes(limits), too_large=body_limit,
                       seconds=limits.request_read_timeout_s)  # fmt: skip
    app.include_router(build_router(backend, limits))
    return app


def uvicorn_config(app: FastAPI, limits: Limits, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    """uvicorn settings for ``app``, with the header deadline for slow senders (tests use the same)."""
    return uvicorn.Config(app, host=host, port=port, log_level=log_level,
                          http=header_deadline_protocol(limits.request_read_timeout_s))  # fmt: skip


def serve(
    backend: ChatBackend, limits: Limits, *, host: str = "127.0.0.1", port: int = 23333, log_level: str = "warning"
) -> None:
    """Serve ``backend`` until interrupted (blocking), within ``limits`` (the same ones the UI enforces)."""
    logger.info("serving %s at http://%s:%d/v1", backend.info.model_id, host, port)
    config = uvicorn_config(create_app(backend, limits), limits, host=host, port=port, log_level=log_level)
    uvicorn.Server(config).run()
