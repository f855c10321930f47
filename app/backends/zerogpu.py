"""ZeroGPU's ``spaces.GPU`` around generation, with a per-request duration.

On a ZeroGPU Space (``SPACES_ZERO_GPU`` set) every generation must run inside a function decorated with
``spaces.GPU(duration=…)``; the duration is reserved from the user's daily quota, so it is computed per request from
max new tokens, the thinking switch and the images / video frames (an over-estimate wastes quota, an
under-estimate cuts the answer). Anywhere else nothing here imports ``spaces`` and backends are used as they are.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.backends.base import ChatBackend, Delta, SamplingParams
from app.config import TOKENS_PER_TILE
from app.spaces import on_zerogpu


__all__ = ["GpuBudget", "ZeroGPUBackend", "gpu_seconds", "wrap_for_zerogpu"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuBudget:
    """How GPU seconds are estimated for one answer (Intern-S1-mini, bf16, transformers ``generate``).

    ``decode_tokens_per_s`` is the conservative end of what transformers reaches for an 8B dense model at batch 1
    (45 tok/s on an H20, ``../shared/docs/performance.md`` §0), since a ZeroGPU slice is shared.
    """

    decode_tokens_per_s: float = 30.0
    prefill_tokens_per_s: float = 4000.0
    overhead_s: float = 10.0  # moving the request to the GPU worker, prompt processing set-up
    thinking_off_token_cap: int = 2048  # without thinking, answers rarely use more
    min_s: int = 20
    max_s: int = 120

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GpuBudget:
        maximum = environ.get("ZEROGPU_MAX_SECONDS")
        return cls(max_s=int(maximum)) if maximum else cls()


def _media_counts(messages: list[dict[str, Any]]) -> tuple[int, int]:
    images = videos = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            images += sum(1 for item in content if isinstance(item, dict) and item.get("type") == "image")
            videos += sum(1 for item in content if isinstance(item, dict) and item.get("type") == "video")
    return images, videos


def gpu_seconds(
    messages: list[dict[str, Any]],
    params: SamplingParams,
    *,
    max_video_frames: int = 8,
    max_tiles_per_image: int = 6,
    budget: GpuBudget | None = None,
) -> int:
    """GPU seconds to reserve for one answer: set-up + visual prefill + decoding max new tokens, clamped."""
    budget = budget or GpuBudget()
    images, videos = _media_counts(messages)
    visual_tokens = (images * (max_tiles_per_image + 1) + videos * max_video_frames) * TOKENS_PER_TILE
    new_tokens = params.max_new_tokens
    if not params.enable_thinking:
        new_tokens = min(new_tokens, budget.thinking_off_token_cap)
    seconds = budget.overhead_s + visual_tokens / budget.prefill_tokens_per_s + new_tokens / budget.decode_tokens_per_s
    return int(min(budget.max_s, max(budget.min_s, math.ceil(seconds))))


class ZeroGPUBackend(ChatBackend):
    """Runs another backend's generation inside ``spaces.GPU`` with a per-request duration.

    ``cancel`` cannot cross into ZeroGPU's GPU worker process; Stop closes the stream instead, which ends the task.
    """

    def __init__(self, inner: ChatBackend, gpu_decorator: Any, *, max_video_frames: int = 8,
                 max_tiles_per_image: int = 6, budget: GpuBudget | None = None) -> None:  # fmt: skip
        self.inner = inner
        self.info = inner.info
        self.budget = budget or GpuBudget()
        self._frames, self._tiles = max_video_frames, max_tiles_per_image
        self._stream_on_gpu = gpu_decorator(duration=self.duration)(self._generate)

    def duration(self, messages: list[dict[str, Any]], params: SamplingParams, tools: Any = None) -> int:
        """Called by ``spaces.GPU`` with the generating function's arguments."""
        return gpu_seconds(messages, params, max_video_frames=self._frames, max_tiles_per_image=self._tiles,
                           budget=self.budget)  # fmt: skip

    def _generate(self, messages: list[dict[str, Any]], params: SamplingParams, tools: Any = None) -> Iterator[Delta]:
        yield from self.inner.stream_chat(messages, params, tools=tools)

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        stream = self._stream_on_gpu(messages, params, tools)
        try:
            for delta in stream:
                if cancel is not None and cancel.is_set():
                    return
                yield delta
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        self.inner.close()


def wrap_for_zerogpu(
    backend: ChatBackend, environ: Mapping[str, str] = os.environ, *, max_video_frames: int = 8,
    max_tiles_per_image: int = 6,
) -> ChatBackend:  # fmt: skip
    """``backend`` under ``spaces.GPU`` on ZeroGPU (local backends only); unchanged anywhere else."""
    if not on_zerogpu(environ) or backend.info.kind != "local":
        return backend
    import spaces  # only on ZeroGPU: the package patches CUDA initialisation when imported

    return ZeroGPUBackend(backend, spaces.GPU, max_video_frames=max_video_frames,
                          max_tiles_per_image=max_tiles_per_image, budget=GpuBudget.from_env(environ))  # fmt: skip
