"""The three endpoints: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health``.

A chat request goes: body (size- and time-limited before it is read) → pydantic → this server's abilities and
limits → media decoded → a :class:`~app.serving.generation.Generation`. The first event is awaited before any
response is started, so an error the backend finds in the request (a prompt over the token budget) is still an
HTTP status, not a 200 stream carrying an error. Streaming answers are SSE chunks in the lmdeploy dialect
(``delta.reasoning_content``, ``delta.tool_calls``, a usage chunk with ``include_usage``, ``[DONE]``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.backends.base import BackendError, BackendInputError, ChatBackend
from app.config import Limits
from app.serving.answer import Answer
from app.serving.convert import to_backend_request
from app.serving.errors import APIError, scrub_paths, validation_message
from app.serving.generation import ClientGone, Event, Generation, Slots
from app.serving.protocol import ChatCompletionRequest, ChunkDelta, ErrorBody, ErrorDetail, ModelCard, ModelList


__all__ = ["OWNER", "build_router", "max_body_bytes"]

logger = logging.getLogger(__name__)

OWNER = "intern-s1-studio"  # /v1/models owned_by: the remote backend recognises its own server by it
AFTER_STOP_S = 2.0  # after a stop sequence, how long to wait for the backend's usage report


def max_body_bytes(limits: Limits) -> int:
    return int(limits.max_request_body_mb * 1024 * 1024)


def _parse(body: bytes) -> ChatCompletionRequest:
    if not body.strip():
        raise APIError("the request body is empty; send a chat-completions request as JSON", code="empty_body")
    try:
        return ChatCompletionRequest.model_validate_json(body)
    except ValidationError as error:
        message, param = validation_message(error)
        raise APIError(message, param=param, code="invalid_request") from None


def _as_api_error(error: BaseException, generation: Generation) -> APIError:
    if isinstance(error, APIError):
        return error
    folder = generation.request.media.folder or ""
    if isinstance(error, BackendInputError):
        return APIError(scrub_paths(str(error), folder), 400, code="invalid_input")
    if isinstance(error, BackendError):
        return APIError(scrub_paths(str(error), folder), 500, code="backend_error")
    logger.error("the backend failed", exc_info=error)
    return APIError(f"internal error in the model backend ({type(error).__name__})", 500, code="backend_error")


def _sse(payload: BaseModel | str) -> str:
    return f"data: {payload if isinstance(payload, str) else payload.model_dump_json()}\n\n"


async def _finish_after_stop(generation: Generation, answer: Answer) -> None:
    """Cancel generation once a stop sequence was found; keep the backend's usage report if it comes soon."""
    generation.cancel()
    try:
        async with asyncio.timeout(AFTER_STOP_S):
            event = await generation.next_event()
            while event.delta is not None:
                answer.feed(event.delta)  # after the stop only usage is recorded
                event = await generation.next_event()
    except TimeoutError:
        pass


async def _collect(generation: Generation, answer: Answer, event: Event, request: Request) -> None:
    while not event.is_end:
        if event.error is not None:
            raise _as_api_error(event.error, generation)
        answer.feed(event.delta)
        if answer.stopped:
            await _finish_after_stop(generation, answer)
            return
        event = await generation.next_event(request)
    answer.flush()


async def _stream(generation: Generation, answer: Answer, event: Event, include_usage: bool) -> AsyncIterator[str]:
    # Starlette cancels this generator when the client disconnects; `finally` then stops generation.
    try:
        while not event.is_end:
            if event.error is not None:
                error = _as_api_error(event.error, generation)
                detail = ErrorDetail(message=error.message, type=error.kind, code=error.code)
                yield _sse(ErrorBody(error=detail))
                break
            piece = answer.feed(event.delta)
            if piece is not None:
                yield _sse(answer.chunk(piece))
            if answer.stopped:
                await _finish_after_stop(generation, answer)
                break
            event = await generation.next_event()
        if event.error is None:
            tail = answer.flush()
            if tail is not None:
                yield _sse(answer.chunk(tail))
            yield _sse(answer.chunk(ChunkDelta(), answer.finish_reason()))
            if include_usage:
                yield _sse(answer.usage_chunk())
        yield _sse("[DONE]")
    finally:
        generation.cancel()


def build_router(backend: ChatBackend, limits: Limits) -> APIRouter:
    """The endpoints serving ``backend`` within ``limits``."""
    router = APIRouter()
    model_id = backend.info.model_id
    slots = Slots(limits.concurrency_limit, limits.max_queue_size)

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": model_id, "backend": backend.info.kind}

    @router.get("/v1/models")
    async def models() -> dict[str, Any]:
        return ModelList(data=[ModelCard(id=model_id, owned_by=OWNER, root=model_id)]).model_dump()

    @router.post("/v1/chat/completions", max_body_size=max_body_bytes(limits))
    async def chat_completions(request: Request) -> Response:
        parsed = await run_in_threadpool(_parse, await request.body())
        if parsed.model not in (None, "", model_id):
            raise APIError(f"the model `{parsed.model}` does not exist; this server serves `{model_id}`", 404,
                           param="model", code="model_not_found")  # fmt: skip
        backend_request = await run_in_threadpool(to_backend_request, parsed, backend.info.default_sampling, limits)
        try:
            generation = Generation(backend, backend_request, slots, timeout_s=limits.request_timeout_s)
        except BaseException:
            backend_request.media.close()
            raise
        answer = Answer(model_id, backend_request.stop, backend_request.params.max_new_tokens)
        try:
            first = await generation.next_event(request)
            if first.error is not None:
                raise _as_api_error(first.error, generation)
            if backend_request.stream:
                stream = _stream(generation, answer, first, backend_request.include_usage)
                return StreamingResponse(stream, media_type="text/event-stream")
            await _collect(generation, answer, first, request)
        except ClientGone:
            return Response(status_code=499)  # nobody reads this; generation has been cancelled
        except BaseException:
            generation.cancel()
            raise
        return JSONResponse(answer.completion().model_dump())

    return router
