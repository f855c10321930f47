"""`InternS1Processor`: tokenizer + dynamic-tiling image processor + video processor + chat template.

Built on transformers' ``InternVLProcessor`` (same placeholder expansion: ``<img>`` + 256·tiles ``<IMG_CONTEXT>``
+ ``</img>`` per image, ``FrameN: <img>…</img>`` per video frame, pixels of images and frames concatenated in the
order their placeholders appear). What differs:

* placeholder counts are checked *before* any image is fetched or decoded, with one error type
  (:class:`InternS1PlaceholderError`) and a message that names the counts per prompt;
* images given as URLs/paths are loaded by our loader (HTTP status checked, EXIF orientation, bomb guard,
  clear :class:`~intern_s1.image_processing_intern_s1.InternS1MediaError` for bad files), whichever image
  processor class the checkpoint names;
* videos of different lengths can be batched (InternVL requires equal frame counts);
* a stock ``GotOcr2ImageProcessor``/``GotOcr2ImageProcessorPil`` (what real checkpoints name) is swapped for our
  subclass of the same backend: identical pixels, faster, safer inputs;
* a processor built without a chat template gets the template shipped with this package.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import pathlib
from typing import Any

import numpy as np
import torch
from transformers.image_processing_utils import BatchFeature
from transformers.models.internvl.processing_internvl import InternVLProcessor
from transformers.processing_utils import ProcessingKwargs, ProcessorMixin, Unpack
from transformers.utils import PROCESSOR_NAME
from transformers.video_utils import make_batched_videos

from intern_s1.image_processing_intern_s1 import (
    DEFAULT_MAX_IMAGE_PIXELS,
    InternS1ImageProcessorPil,
    load_image,
)


logger = logging.getLogger(__name__)


class InternS1PlaceholderError(ValueError):
    """The prompts' image/video placeholders do not match the images/videos passed."""


def default_chat_template() -> str:
    """The Intern-S1 chat template shipped with this package (written from the spec, §7)."""
    return importlib.resources.files("intern_s1").joinpath("chat_template.jinja").read_text(encoding="utf-8")


def _count_images(images: Any) -> int:
    if images is None:
        return 0
    if isinstance(images, (list, tuple)):
        return sum(_count_images(item) for item in images)
    ndim = getattr(images, "ndim", None)
    if ndim == 4:  # a stacked batch of images
        return int(images.shape[0])
    return 1


def _count_videos(videos: Any) -> int:
    if videos is None:
        return 0
    if isinstance(videos, str):
        return 1
    if isinstance(videos, (list, tuple)) and all(isinstance(item, (list, tuple, str)) for item in videos):
        return sum(_count_videos(item) for item in videos)
    return len(make_batched_videos(videos))


def _upgrade_image_processor(image_processor):
    """Swap a stock GotOcr2 processor for ours of the same backend (same pixels) with the same settings."""
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    target = None
    if type(image_processor) is GotOcr2ImageProcessorPil:
        target = InternS1ImageProcessorPil
    else:
        try:
            from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor

            from intern_s1.image_processing_intern_s1 import InternS1ImageProcessor
        except ImportError:
            return image_processor
        if type(image_processor) is GotOcr2ImageProcessor:
            target = InternS1ImageProcessor
    if target is None:
        return image_processor
    settings = {k: v for k, v in image_processor.to_dict().items() if k in target.valid_kwargs.__annotations__}
    return target(**settings)


class InternS1Processor(InternVLProcessor):
    r"""
    Processor for Intern-S1 / Intern-S1-mini: wraps an image processor (dynamic 448 px tiling), an
    `InternS1Tokenizer`, an `InternS1VideoProcessor` and the chat template.

    Args:
        image_processor: an Intern-S1 (or GotOcr2) image processor.
        tokenizer: an `InternS1Tokenizer` (it names `start_image_token`, `end_image_token`, `context_image_token` and
            `video_token`: `<img>`, `</img>`, `<IMG_CONTEXT>`, `<video>` in the real checkpoints).
        video_processor: an `InternS1VideoProcessor`.
        image_seq_length (`int`, defaults to 256): LLM tokens per 448 px tile.
        chat_template (`str`, *optional*): defaults to the template shipped with this package.
    """

    valid_processor_kwargs = ProcessingKwargs
    # A batch of prompts is left-padded (generation appends on the right); one prompt is never padded.
    text_kwargs = {"padding_side": "left", "padding": True}
    # Video pixels stay a list of [frames, 3, H, W] tensors until merged into `pixel_values` (lengths may differ).
    skip_tensor_conversion = [*ProcessorMixin.skip_tensor_conversion, "pixel_values_videos", "num_patches"]

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        video_processor=None,
        image_seq_length: int = 256,
        chat_template=None,
        **kwargs,
    ):
        if image_processor is not None:
            image_processor = _upgrade_image_processor(image_processor)
        if chat_template is None:
            chat_template = default_chat_template()
        super().__init__(
            image_processor,
            tokenizer,
            video_processor,
            image_seq_length=image_seq_length,
            chat_template=chat_template,
            **kwargs,
        )
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)

    def save_pretrained(self, save_directory, push_to_hub: bool = False, **kwargs):
        """Save in the real checkpoints' layout: tokenizer files, `preprocessor_config.json`,
        `video_preprocessor_config.json`, a small `processor_config.json` and `chat_template.jinja`."""
        if push_to_hub:
            raise NotImplementedError("save to a folder, then upload it with huggingface_hub's `upload_folder`")
        saved = super().save_pretrained(save_directory, **kwargs)
        self.image_processor.save_pretrained(save_directory)
        self.video_processor.save_pretrained(save_directory)
        # transformers v5 nests the sub-processor settings in processor_config.json; the published checkpoints keep
        # them in their own files, which every transformers version reads.
        config = {"processor_class": type(self).__name__, "image_seq_length": self.image_seq_length}
        processor_file = pathlib.Path(save_directory) / PROCESSOR_NAME
        processor_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return saved

    # ---------------------------------------------------------------------------------------------------
    # validation and loading
    # ---------------------------------------------------------------------------------------------------

    def check_placeholder_counts(self, text: list[str], images: Any = None, videos: Any = None) -> None:
        """Raise `InternS1PlaceholderError` unless the prompts hold one placeholder per image and per video."""
        image_counts = [sample.count(self.image_token) for sample in text]
        video_counts = [sample.count(self.video_token) for sample in text]
        for kind, token, counts, passed in (
            ("image", self.image_token, image_counts, _count_images(images)),
            ("video", self.video_token, video_counts, _count_videos(videos)),
        ):
            if sum(counts) != passed:
                raise InternS1PlaceholderError(
                    f"the prompts hold {sum(counts)} {token} {kind} placeholder(s) (per prompt: {counts}) but "
                    f"{passed} {kind}(s) were passed; put exactly one {token} in the text for each {kind}"
                )

    def validate_inputs(self, images=None, text=None, videos=None, **kwargs) -> None:
        if text is None:
            raise ValueError("InternS1Processor needs `text` (with one placeholder per image/video).")
        if not (isinstance(text, str) or (isinstance(text, list) and all(isinstance(t, str) for t in text))):
            raise ValueError("`text` must be a string or a list of strings.")
        self.check_placeholder_counts([text] if isinstance(text, str) else text, images, videos)

    def _load_images(self, images: Any) -> Any:
        if isinstance(images, (list, tuple)):
            return [self._load_images(item) for item in images]
        if isinstance(images, str):
            max_pixels = getattr(self.image_processor, "max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS)
            return load_image(images, max_pixels)
        return images

    def prepare_inputs_layout(self, images=None, text=None, videos=None, audio=None, **kwargs):
        if images is not None:
            images = self._load_images(images)
        return super().prepare_inputs_layout(images=images, text=text, videos=videos, audio=audio, **kwargs)

    def _process_videos(self, videos, **kwargs):
        kwargs["return_tensors"] = None  # keep per-video tensors: different clips may have different frame counts
        return super()._process_videos(videos, **kwargs)

    # ---------------------------------------------------------------------------------------------------
    # __call__
    # ---------------------------------------------------------------------------------------------------

    def __call__(self, images=None, text=None, videos=None, **kwargs: Unpack[ProcessingKwargs]) -> BatchFeature:
        r"""
        Tokenise `text` after expanding each `<IMG_CONTEXT>` (one per image) and `<video>` (one per video), and
        preprocess the images (dynamic tiling) and videos (one 448 px tile per frame).

        Returns:
            [`BatchFeature`]: `input_ids`, `attention_mask`, `pixel_values` (image tiles and video frames in
            prompt order, [ΣT, 3, 448, 448]) and, with `return_mm_token_type_ids=True`, `mm_token_type_ids`.
        """
        text = [text] if isinstance(text, str) else text
        # Count check first: nothing is fetched, decoded or tokenised for a mismatched request.
        self.validate_inputs(images=images, text=text, videos=videos)
        return_tensors = kwargs.get("return_tensors", kwargs.get("text_kwargs", {}).get("return_tensors"))
        visuals_order = [m.lastgroup for sample in text for m in self.multimodal_pattern.finditer(sample)]

        # Differs from InternVL: its __call__ merges videos as one [B, F, ...] tensor (equal frame counts only); the
        # generic processing is ProcessorMixin's, and the merge below takes clips of any length.
        model_inputs = ProcessorMixin.__call__(self, images=images, text=text, videos=videos, **kwargs)

        image_chunks: list[torch.Tensor] = []
        if images is not None:
            num_patches = [int(n) for n in np.asarray(model_inputs.pop("num_patches")).reshape(-1)]
            tiles = _as_tensor(model_inputs["pixel_values"])
            image_chunks = list(torch.split(tiles, num_patches)) if num_patches else []
        video_chunks: list[torch.Tensor] = []
        if videos is not None:
            video_chunks = [_as_tensor(video) for video in model_inputs.pop("pixel_values_videos")]

        ordered, next_image, next_video = [], iter(image_chunks), iter(video_chunks)
        for kind in visuals_order:
            ordered.append(next(next_image) if kind == "image" else next(next_video))
        if ordered:
            pixel_values = torch.cat(ordered)
            model_inputs["pixel_values"] = pixel_values.numpy() if return_tensors == "np" else pixel_values
        return BatchFeature(data=dict(model_inputs), tensor_type=return_tensors)


def _as_tensor(values: Any) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values
    if isinstance(values, np.ndarray):
        return torch.from_numpy(values)
    return torch.stack([_as_tensor(value) for value in values])


__all__ = ["InternS1PlaceholderError", "InternS1Processor", "default_chat_template"]
