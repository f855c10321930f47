"""The serve tests share tests/app's launcher (``serving.py``) and fixtures (``fixtures/serve_factory.py``)."""

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
