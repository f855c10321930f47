"""The in-process backend: an ``intern_s1`` checkpoint run with transformers ``generate`` on a worker thread.

``TextIteratorStreamer`` carries decoded text from the worker to the caller; ``StreamSplitter`` turns it into
reasoning / answer / tool-call deltas. A stopping criterion watches the caller's cancel event, so Stop (or a
closed tab) ends ``generate`` at the next token — well within a second for any model that fits one device — and
the model's forward pass itself is interruptible (:mod:`app.backends.interruptible`), so a Stop during a long prompt's
prefill lands within about a second too instead of after the whole prompt.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from app.backends.base import BackendError, BackendInfo, BackendInputError, ChatBackend, Delta, SamplingParams
from app.backends.interruptible import Interrupted, make_interruptible, watching
from app.config import Limits, ModelOptions


logger = logging.getLogger(__name__)

STREAM_TIMEOUT_S = 600.0  # a worker silent this long is considered dead
JOIN_TIMEOUT_S = 5.0
# Model-card sampling: Intern-S1 uses temperature 0.7, Intern-S1-mini (and anything else) 0.8.
S1_SAMPLING = SamplingParams(temperature=0.7)
MINI_SAMPLING = SamplingParams(temperature=0.8)
# The demo LM is tiny: near-greedy decoding keeps it on topic, and it was never trained to write <think>.
DEMO_SAMPLING = SamplingParams(temperature=0.0, max_new_tokens=256, enable_thinking=False)

# Static KV cache of compiled decoding on CUDA (one CUDA graph for every request that fits; longer ones grow it).
CUDA_STATIC_CACHE_TOKENS = 4096

Progress = Callable[[float, str], None]


def _resolve_device_and_dtype(device: str, dtype: str) -> tuple[Any, Any]:
    """(device_map for from_pretrained, torch dtype): bf16 + device_map="auto" on GPU, fp32 on CPU."""
    import torch

    on_gpu = torch.cuda.is_available() and device != "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"--device {device} was asked for but torch sees no CUDA device")
    device_map = ("auto" if device == "auto" else device) if on_gpu else "cpu"
    if dtype == "auto":
        return device_map, torch.bfloat16 if on_gpu else torch.float32
    return device_map, getattr(torch, dtype)


def enable_compiled_decoding(model, warm_up_ids=None) -> float:
    """Make every later ``model.generate()`` decode with a static KV cache and a ``torch.compile``'d decode step.

    The prefill (which runs the vision tower) stays eager; each decode step is one full graph. On CUDA the step is
    replayed as a CUDA graph ("reduce-overhead") over a static cache of at least ``CUDA_STATIC_CACHE_TOKENS``
    positions, so requests share one graph. On CPU there is nothing to replay (inductor's default mode) and attention
    reads the whole static cache every step, so the cache is sized per request and the step is compiled with a dynamic
    cache length: the warm-up decodes twice with two cache sizes, and the second compile makes that length dynamic.

    Args:
        model: an ``InternS1ForConditionalGeneration`` (or any transformers generative model).
        warm_up_ids: token ids ``[1, n]`` to compile with now (recommended: no request then waits for a compile).

    Returns:
        Seconds spent compiling during the warm-up (0.0 without one).
    """
    from transformers.generation.configuration_utils import CompileConfig

    on_cuda = model.device.type == "cuda"
    compile_config = CompileConfig(fullgraph=True, mode="reduce-overhead" if on_cuda else "default")
    model.generation_config.cache_implementation = "static"
    if on_cuda:
        text_config = model.config.get_text_config(decoder=True)
        context = getattr(text_config, "max_position_embeddings", None) or CUDA_STATIC_CACHE_TOKENS
        model.generation_config.max_cache_len = min(CUDA_STATIC_CACHE_TOKENS, context)
    else:  # transformers compiles automatically on accelerators only; this is its switch for other devices
        compile_config._compile_all_devices = True
    model.generation_config.compile_config = compile_config
    if warm_up_ids is None:
        return 0.0
    started = time.monotonic()
    for new_tokens in (2, 3):  # two cache sizes (see above)
        model.generate(input_ids=warm_up_ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    return time.monotonic() - started


def _make_cancel_criteria(*events: threading.Event):
    from transformers import StoppingCriteria

    class CancelCriteria(StoppingCriteria):
        """Stops every sequence as soon as any of the events is set (the session's cancel, or the reader left)."""

        def __call__(self, input_ids, scores, **kwargs):
            import torch

            stop = any(event.is_set() for event in events)
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    return CancelCriteria()


class TransformersBackend(ChatBackend):
    """Local Intern-S1 (or the offline demo model) through ``AutoProcessor`` + ``AutoModelForImageTextToText``."""

    def __init__(
        self, options: ModelOptions | None = None, *, limits: Limits | None = None, progress: Progress | None = None
    ) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        import intern_s1  # noqa: F401  (registers the Intern-S1 classes with the Auto classes)

        self.options = options or ModelOptions()
        self.limits = limits or Limits()
        report = progress or (lambda fraction, message: logger.info("%3d%% %s", int(fraction * 100), message))
        is_demo = self.options.model is None
        if is_demo:
            from app.demo_model import ensure_demo_model

            path: str = str(ensure_demo_model(self.options.cache_dir, report))
        else:
            path = self.options.model
        device_map, dtype = _resolve_device_and_dtype(self.options.device, self.options.dtype)
        started = time.monotonic()
        report(0.9 if is_demo else 0.1, f"loading {path} ({dtype}, device_map={device_map})")
        load_kwargs: dict[str, Any] = {"dtype": dtype, "device_map": device_map}
        if self.options.attn_implementation:
            load_kwargs["attn_implementation"] = self.options.attn_implementation
        try:
            self.processor = AutoProcessor.from_pretrained(path, trust_remote_code=self.options.trust_remote_code)
            self.model = AutoModelForImageTextToText.from_pretrained(
                path, trust_remote_code=self.options.trust_remote_code, **load_kwargs
            ).eval()
        except (OSError, ValueError) as error:
            raise BackendError(f"could not load the model from {path!r}: {error}") from error
        self.load_seconds = time.monotonic() - started
        self._dtype = dtype
        make_interruptible(self.model)  # before any compile: the compiled step must include the checks' no-op path
        self.compile_seconds: float | None = None
        # A compiled decode step (and a CUDA graph above all) is not for concurrent use: one generation at a time.
        self._generate_lock = threading.Lock() if self.options.compile else contextlib.nullcontext()
        if self.options.compile:
            report(0.95, "compiling the decode step with torch.compile (once; about a minute on a CPU)")
            self.compile_seconds = self._compile_decoding()
        report(1.0, f"model loaded in {self.load_seconds:.1f} s")
        self.info = self._describe(path, is_demo)

    def _compile_decoding(self) -> float:
        """Switch to compiled decoding and compile it now, so that no user waits for it."""
        prompt = self.processor.tokenizer("Hello", return_tensors="pt")["input_ids"].to(self.model.device)
        seconds = enable_compiled_decoding(self.model, warm_up_ids=prompt)
        logger.info("decode step compiled in %.1f s", seconds)
        return seconds

    def _describe(self, path: str, is_demo: bool) -> BackendInfo:
        text_config = getattr(self.model.config, "text_config", self.model.config)
        context = getattr(text_config, "max_position_embeddings", None)
        if is_demo:
            name, description, sampling = (
                "intern-s1-demo",
                "offline demo: SmolLM2-135M inside Intern-S1",
                DEMO_SAMPLING,
            )
        else:
            name = Path(path).name if Path(path).exists() else path
            # Intern-S1 is the MoE model (model card temperature 0.7); mini and other dense models use 0.8.
            is_s1 = getattr(text_config, "model_type", "").endswith("moe")
            sampling = S1_SAMPLING if is_s1 else MINI_SAMPLING
            description = f"transformers, {str(self._dtype).replace('torch.', '')}"
        if self.compile_seconds is not None:
            description += f", compiled decoding ({self.compile_seconds:.0f} s to compile)"
        sampling = sampling.with_updates(max_new_tokens=min(sampling.max_new_tokens, self.limits.max_new_tokens))
        return BackendInfo(
            kind="local",
            model_id=name,
            description=description,
            is_demo_model=is_demo,
            context_length=context,
            default_sampling=sampling,
        )

    # ------------------------------------------------------------------------------------------------ encoding

    def encode(
        self, messages: list[dict[str, Any]], params: SamplingParams, tools: list[dict[str, Any]] | None = None
    ):
        """Chat template + image/video processing → model inputs on the model's device."""
        try:
            inputs = self.processor.apply_chat_template(
                messages,
                tools=tools,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                enable_thinking=params.enable_thinking,
                processor_kwargs={
                    "max_patches": self.limits.max_tiles_per_image,
                    "max_frames": self.limits.max_video_frames,
                },
            )
        except (ValueError, OSError, RuntimeError) as error:
            raise BackendInputError(f"the input could not be prepared for the model: {error}") from error
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        context = self.info.context_length if hasattr(self, "info") else None
        if context and prompt_tokens + params.max_new_tokens > context:
            raise BackendInputError(
                f"the prompt ({prompt_tokens:,} tokens) plus max new tokens ({params.max_new_tokens:,}) exceeds the "
                f"model's context of {context:,} tokens; clear the chat or lower max new tokens"
            )
        if prompt_tokens > self.limits.max_prompt_tokens:
            raise BackendInputError(
                f"the prompt is {prompt_tokens:,} tokens, over the limit of {self.limits.max_prompt_tokens:,}; "
                "clear the chat, shorten the message or attach fewer images/frames"
            )
        inputs = inputs.to(self.model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self._dtype)
        return inputs

    def explain_tokens(self, text: str) -> list[tuple[str, int, str]]:
        """(token, id, vocabulary) for ``text`` as the dynamic tokenizer splits it (the UI's token view).

        The vocabulary is "SMILES", "IUPAC" or "FASTA" for sub-vocabulary pieces, else "text".
        """
        tokenizer = self.processor.tokenizer
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        # (sub-vocabulary, piece) of a sub-vocabulary id; a tokenizer without sub-vocabularies has none
        sub_vocabulary_piece = getattr(tokenizer, "sub_vocabulary_piece", lambda token_id: None)
        rows = []
        for token, token_id in zip(tokenizer.convert_ids_to_tokens(ids), ids):
            found = sub_vocabulary_piece(token_id)
            rows.append((token, token_id, "text") if found is None else (found[1], token_id, found[0]))
        return rows

    # ---------------------------------------------------------------------------------------------- generation

    def _generation_kwargs(self, inputs, params: SamplingParams, streamer, *stops: threading.Event) -> dict:
        from transformers import StoppingCriteriaList

        kwargs: dict[str, Any] = dict(inputs)
        kwargs.update(
            max_new_tokens=params.max_new_tokens,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_make_cancel_criteria(*stops)]),
        )
        if params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        elif params.seed is not None:
            from app.backends.seeded_sampling import seeded_sampling_processors

            # generate's own sampling uses the process-wide RNG that concurrent answers share; see the module.
            kwargs.update(
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                logits_processor=seeded_sampling_processors(params),
            )
        else:
            kwargs.update(
                do_sample=True,
                temperature=params.temperature,
                top_p=params.top_p,
                top_k=params.top_k,
                min_p=params.min_p or None,
            )
        return kwargs

    def stream_chat(
        self,
        messages: list[dict[str, Any]],
        params: SamplingParams,
        *,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Delta]:
        from transformers import TextIteratorStreamer

        from app.backends.stream_parser import StreamSplitter

        cancel = cancel or threading.Event()
        inputs = self.encode(messages, params, tools)
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        tokenizer = self.processor.tokenizer
        thinking_open = tokenizer.decode(inputs["input_ids"][0, -3:]).rstrip().endswith("<think>")
        streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=False, timeout=STREAM_TIMEOUT_S
        )
        failure: list[BaseException] = []
        counter = {"tokens": 0}
        reader_gone = threading.Event()  # ours, not the caller's: set when this generator ends for any reason

        def worker() -> None:
            try:
                with self._generate_lock, watching(cancel, reader_gone):
                    output = self.model.generate(
                        **self._generation_kwargs(inputs, params, streamer, cancel, reader_gone)
                    )
                counter["tokens"] = int(output.shape[-1]) - prompt_tokens
            except Interrupted:  # Stop during a forward pass (a long prefill): a stop, not a failure
                streamer.end()
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread as BackendError
                failure.append(error)
                streamer.end()

        thread = threading.Thread(target=worker, name="intern-s1-generate", daemon=True)
        thread.start()
        splitter = StreamSplitter(thinking_open=thinking_open)
        try:
            for text in streamer:
                yield from splitter.feed(text)
                if cancel.is_set():
                    break
            yield from splitter.finish()
            thread.join(JOIN_TIMEOUT_S)
            if failure:
                raise BackendError(_describe_failure(failure[0])) from failure[0]
            # "length": generate stopped at max_new_tokens (an answer that ends on its own stops at EOS before it).
            finish_reason = "length" if counter["tokens"] >= params.max_new_tokens else "stop"
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": counter["tokens"],
                "finish_reason": finish_reason,
            }
            if thinking_open and not splitter.thinking_closed and finish_reason == "stop" and not cancel.is_set():
                usage["thinking_unclosed"] = True  # the model ended without </think>: its reply is the answer
            yield Delta("usage", data=usage)
        finally:
            reader_gone.set()  # stop the worker when the caller stops reading (Stop, closed tab, error)
            thread.join(JOIN_TIMEOUT_S)

    def close(self) -> None:
        self.model = None
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass


def _describe_failure(error: BaseException) -> str:
    name = type(error).__name__
    if "OutOfMemory" in name or "out of memory" in str(error).lower():
        _free_gpu_cache()
        return "the model ran out of memory; use fewer images/frames, fewer new tokens or a smaller model"
    return f"generation failed ({name}: {error})"


def _free_gpu_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
