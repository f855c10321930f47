"""Intern-S1 / Intern-S1-mini for Hugging Face transformers.

Importing this package registers every Intern-S1 class with the transformers Auto classes (the one
import-time effect, and the reason to import it), so that the model page's code runs unchanged::

    import intern_s1  # noqa: F401
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained("internlm/Intern-S1-mini-hf")
    model = AutoModelForImageTextToText.from_pretrained("internlm/Intern-S1-mini-hf", device_map="auto", dtype="auto")
"""

from intern_s1.auto_registration import register_auto_classes
from intern_s1.configuration_intern_s1 import InternS1Config, InternS1VisionConfig
from intern_s1.modeling_intern_s1 import (
    InternS1ForConditionalGeneration,
    InternS1Model,
    InternS1PreTrainedModel,
    InternS1VisionModel,
)
from intern_s1.processing_intern_s1 import InternS1Processor
from intern_s1.tokenization_intern_s1 import InternS1Tokenizer
from intern_s1.video_processing_intern_s1 import InternS1VideoProcessor


register_auto_classes()

__all__ = [
    "InternS1Config",
    "InternS1ForConditionalGeneration",
    "InternS1Model",
    "InternS1PreTrainedModel",
    "InternS1Processor",
    "InternS1Tokenizer",
    "InternS1VideoProcessor",
    "InternS1VisionConfig",
    "InternS1VisionModel",
]
