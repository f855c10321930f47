"""Write the processor files of a synthetic Intern-S1 checkpoint (development tooling, not part of ``intern_s1``).

The files are what our processor classes serialise themselves, in the published layout: ``preprocessor_config.json``,
``video_preprocessor_config.json``, a small ``processor_config.json`` and ``chat_template.jinja``.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any


__all__ = ["write_processor_files"]


def write_processor_files(out_dir: str | pathlib.Path, *, image_seq_length: int = 256, **image_settings: Any) -> None:
    """Write preprocessor_config.json, video_preprocessor_config.json, processor_config.json, chat_template.jinja.

    Args:
        out_dir: the checkpoint folder (created if missing).
        image_seq_length: LLM tokens per tile, recorded in processor_config.json.
        image_settings: settings of the image processor (defaults: the real 448 px tiling).
    """
    from intern_s1.image_processing_intern_s1 import InternS1ImageProcessorPil
    from intern_s1.processing_intern_s1 import default_chat_template
    from intern_s1.video_processing_intern_s1 import InternS1VideoProcessor

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    InternS1ImageProcessorPil(**image_settings).save_pretrained(out_dir)  # type "InternS1ImageProcessor": any backend
    InternS1VideoProcessor().save_pretrained(out_dir)
    processor_config = {"processor_class": "InternS1Processor", "image_seq_length": image_seq_length}
    (out_dir / "processor_config.json").write_text(json.dumps(processor_config, indent=2) + "\n", encoding="utf-8")
    (out_dir / "chat_template.jinja").write_text(default_chat_template(), encoding="utf-8")
