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
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
    )
    from transformers.conversion_mapping import register_checkpoint_conversion_mapping
    from transformers.core_model_loading import WeightRenaming
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from intern_s1.configuration_intern_s1 import (
        REMOTE_CODE_MODEL_TYPE,
        REMOTE_CODE_VISION_MODEL_TYPE,
        InternS1Config,
        InternS1VisionConfig,
    )
    from intern_s1.modeling_intern_s1 import InternS1ForConditionalGeneration, InternS1Model, InternS1VisionModel

    AutoConfig.register(InternS1Config.model_type, InternS1Config, exist_ok=True)
    AutoConfig.register(InternS1VisionConfig.model_type, InternS1VisionConfig, exist_ok=True)
    # The remote-code checkpoints say "interns1" / "interns1_vision": the same model. Mapping those names to our
    # classes (AutoConfig.register insists on key == class model_type, hence the mapping's own register) makes
    # AutoConfig prefer local code, so they load without trust_remote_code and come out as "intern_s1" configs.
    CONFIG_MAPPING.register(REMOTE_CODE_MODEL_TYPE, InternS1Config, exist_ok=True)
    CONFIG_MAPPING.register(REMOTE_CODE_VISION_MODEL_TYPE, InternS1VisionConfig, exist_ok=True)

    AutoModel.register(InternS1VisionConfig, InternS1VisionModel, exist_ok=True)
    AutoModel.register(InternS1Config, InternS1Model, exist_ok=True)
    AutoModelForImageTextToText.register(InternS1Config, InternS1ForConditionalGeneration, exist_ok=True)
    # The remote-code checkpoints are loaded with AutoModelForCausalLM in their model cards.
    AutoModelForCausalLM.register(InternS1Config, InternS1ForConditionalGeneration, exist_ok=True)

    # Vision layers are `encoder.layers.N` in our modules; checkpoints written with `encoder.layer.N` (remote code,
    # vLLM, older transformers branches) are renamed on load. save_pretrained reverts the renamings it applied, so a
    # model is saved in the layout it came from, and a newly built one in the published `encoder.layer.N` layout.
    register_checkpoint_conversion_mapping(
        InternS1VisionConfig.model_type,
        [WeightRenaming(r"encoder\.layer\.", "encoder.layers.")],
        overwrite=True,
    )


def _register_tokenizer() -> None:
    # Owned by tokenization_intern_s1.py.
    from transformers import AutoTokenizer

    from intern_s1.configuration_intern_s1 import InternS1Config
    from intern_s1.tokenization_intern_s1 import InternS1Tokenizer

    # Registering by class also registers the name "InternS1Tokenizer", which is what tokenizer_config.json says.
    # AutoTokenizer then treats the class as explicit local code: a remote-code tokenizer_config.json (with an
    # "auto_map" pointing at the hub's tokenization_interns1.py) loads our class without trust_remote_code.
    AutoTokenizer.register(InternS1Config, tokenizer_class=InternS1Tokenizer, exist_ok=True)


def _register_processors() -> None:
    # Owned by processing_intern_s1.py / video_processing_intern_s1.py (and an image processor if ours).
    # Keyed by InternS1Config, which also stands for the remote-code "interns1" model type (same class), so both
    # checkpoint flavours resolve; checkpoints naming our classes in their JSON files resolve by class name.
    from transformers import AutoImageProcessor, AutoProcessor, AutoVideoProcessor

    from intern_s1.configuration_intern_s1 import InternS1Config
    from intern_s1.image_processing_intern_s1 import InternS1ImageProcessorPil
    from intern_s1.processing_intern_s1 import InternS1Processor
    from intern_s1.video_processing_intern_s1 import InternS1VideoProcessor

    image_processor_classes = {"pil": InternS1ImageProcessorPil}
    try:  # the torchvision backend exists only where torchvision imports beside torch
        from intern_s1.image_processing_intern_s1 import InternS1ImageProcessor

        image_processor_classes["torchvision"] = InternS1ImageProcessor
    except ImportError:
        logger.info("torchvision unavailable: only the PIL Intern-S1 image processor is registered")
    AutoImageProcessor.register(InternS1Config, image_processor_classes=image_processor_classes, exist_ok=True)
    AutoVideoProcessor.register(InternS1Config, InternS1VideoProcessor, exist_ok=True)
    AutoProcessor.register(InternS1Config, InternS1Processor, exist_ok=True)
