"""Every error ``serve`` answers, in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Client mistakes are 4xx (the openai SDK does not retry them); 5xx is kept for real server faults, which the SDK
retries. Messages never carry server paths: media live in private temp folders whose paths are scrubbed from any
text that leaves the server.
"""

from __future__ import annotations

import logging
import re
import tempfile
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.serving.protocol import ErrorBody, ErrorDetail


__all__ = ["APIError", "error_response", "install_error_handlers", "scrub_paths", "validation_message"]

logger = logging.getLogger(__name__)

_TYPES = {408: "timeout_error", 404: "invalid_request_error", 413: "invalid_request_error"}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


class APIError(Exception):
    """A request this server refuses, with the HTTP status and the OpenAI error fields to answer with."""

    def __init__(self, message: str, status: int = 400, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.status, self.param, self.code = message, status, param, code

    @property
    def kind(self) -> str:
        if self.status >= 500:
            return "server_error"
        return _TYPES.get(self.status, "invalid_request_error")


def scrub_paths(message: str, *folders: str) -> str:
    """``message`` without server-side folders: a file in one keeps its bare name, the folder itself is named."""
    for folder in folders:
        if folder:
            folder = folder.rstrip("/")
            message = message.replace(folder + "/", "").replace(folder, "the request's media folder")
    # Anything else under the temp folder (a backend's own files) keeps only its last component.
    return re.sub(re.escape(tempfile.gettempdir().rstrip("/")) + r"/(?:[^/\s'\"]+/)*", "", message)


def error_response(error: APIError) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(message=scrub_paths(error.message), type=error.kind, param=error.param,
                                       code=error.code))  # fmt: skip
    # A request refused before its body was read (too slow, too large) cannot be followed by another one on the
    # same connection: say so, and uvicorn closes it.
    headers = {"Connection": "close"} if error.status in (408, 413) else None
    return JSONResponse(body.model_dump(), status_code=error.status, headers=headers)


_TAGS = {"system", "developer", "user", "assistant", "tool", "environment", "text", "image_url", "video_url"}
_SCALARS = {"str", "int", "float", "bool"}


def _location(loc: tuple[Any, ...]) -> str:
    """``('messages', 0, 'user', 'content', 'str')`` → ``messages[0].content``: union labels and tags dropped."""
    text, previous = "", None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not (
            "[" in part or part[:1].isupper() or part in _SCALARS or (isinstance(previous, int) and part in _TAGS)
        ):
            text += f".{part}" if text else part
        previous = part
    return text


def validation_message(error: ValidationError) -> tuple[str, str | None]:
    """One readable sentence (and the ``param``) for the most specific problem pydantic found in a request body.

    A union (``content`` is a string or a list of parts) reports one error per member: the deepest location is the
    one the client meant; alternatives at that same location are joined with "or".
    """
    problems = [(_location(tuple(p["loc"])), p) for p in error.errors(include_url=False, include_input=False)]
    where, first = max(problems, key=lambda item: item[0].count(".") + item[0].count("["))
    if first["type"] == "json_invalid":
        return f"the request body is not valid JSON: {first['ctx'].get('error', first['msg'])}", None
    if first["type"] == "extra_forbidden":
        return f"unrecognised request field '{where}'", where or None
    same_place = list(dict.fromkeys(p["msg"] for place, p in problems if place == where))
    others = len({place for place, _ in problems} - {where})
    more = f" (and {others} more problem(s))" if others else ""
    text = " or ".join(same_place)
    return (f"'{where}': {text}{more}" if where else f"the request body: {text}{more}"), where or None


async def _api_error(_: Request, error: APIError) -> JSONResponse:
    return error_response(error)


async def _http_error(_: Request, error: HTTPException) -> JSONResponse:
    # Starlette's own refusals: an unknown route, a wrong method, the body limit (see server.py for its message).
    message = {404: "no such endpoint; this server offers /v1/chat/completions, /v1/models and /health",
               405: "method not allowed on this endpoint"}.get(error.status_code, str(error.detail))  # fmt: skip
    return error_response(APIError(message, error.status_code, code=_HTTP_CODES.get(error.status_code)))


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error while serving a request", exc_info=error)
    return error_response(APIError(f"internal server error ({type(error).__name__})", 500))


def install_error_handlers(app: Any, *, body_limit_message: str) -> None:
    """Register the one error format on a FastAPI ``app`` (``body_limit_message`` answers a 413 from the limiter)."""

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 413:
            return error_response(APIError(body_limit_message, 413, code="request_too_large"))
        return await _http_error(request, error)

    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, _unexpected)
