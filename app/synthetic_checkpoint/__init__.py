"""Development tooling: the non-weight files of a synthetic Intern-S1 checkpoint, written offline.

Not part of the installed model package ``intern_s1``. The offline demo model (``app/demo_model.py``) builds its
tokenizer and processor files with these writers, and the tests and benchmarks use them for their tiny checkpoints:

* :func:`write_tokenizer_files` — an ``InternS1Tokenizer`` directory over a base byte-level BPE vocabulary (the real
  Qwen3 one by default) with small SentencePiece SMILES / IUPAC / FASTA sub-vocabularies trained on the spot;
* :func:`write_processor_files` — image / video processor settings, processor config and chat template.

``import app`` does not import this package (the demo builder imports it when it runs).
"""

from app.synthetic_checkpoint.processor_files import write_processor_files
from app.synthetic_checkpoint.tokenizer_files import (
    builtin_training_corpus,
    qwen3_base_vocab_dir,
    train_sentencepiece,
    write_tokenizer_files,
)


__all__ = [
    "builtin_training_corpus",
    "qwen3_base_vocab_dir",
    "train_sentencepiece",
    "write_processor_files",
    "write_tokenizer_files",
]
