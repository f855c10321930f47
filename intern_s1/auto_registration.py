"""The one place where Intern-S1 classes are registered with the transformers Auto classes.

Registration is idempotent so that re-importing (or reloading) the package is harmless.
Each block belongs to one file role; keep the registered key equal to the class's ``model_type``.
"""

import logging


logger = logging.getLogger(__name__)

_registered = False


def register_auto_classes() -> None:
    """Register configs, models, tokenizer, processors with the transformers Auto classes (once)."""
    global _registered
    if _registered:
        return
    _register_configs_and_models()
    _register_tokenizer()
    _register_processors()
    _registered = True


def _register_configs_and_models() -> None:
    # Owned by configuration_intern_s1.py / modeling_intern_s1.py.
    pass


def _register_tokenizer() -> None:
    # Owned by tokenization_intern_s1.py.
    pass


def _register_processors() -> None:
    # Owned by processing_intern_s1.py / video_processing_intern_s1.py (and an image processor if ours).
    pass
