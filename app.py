"""Hugging Face Spaces entry point (README front matter ``app_file: app.py``); locally use ``intern-s1-studio``.

Settings come from ``INTERN_S1_*`` Space variables (see ``app/spaces.py``): with none set the Space serves the
embedded demo model (built on first start from SmolLM2 on the Hub, see ``app/demo_model.py``);
``INTERN_S1_MODEL=internlm/Intern-S1-mini-hf`` loads the real mini model, and ``INTERN_S1_BACKEND=openai`` +
``INTERN_S1_BASE_URL`` point the UI at an lmdeploy / vLLM / SGLang server. The model is loaded at import, as Spaces
(and ZeroGPU's CUDA packing) expect; nothing is installed at run time.
"""

import logging
import os

from app.spaces import on_zerogpu, space_argv


if on_zerogpu():
    import spaces  # noqa: F401  (must be imported before torch touches CUDA: it patches CUDA initialisation)

from app import cli  # noqa: E402
from app.backends.zerogpu import wrap_for_zerogpu  # noqa: E402
from app.config import AppConfig  # noqa: E402
from app.ui.blocks import build_demo, launch  # noqa: E402


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
args = cli.build_parser().parse_args(space_argv(os.environ))
limits = cli.limits_from_args(args)
backend = wrap_for_zerogpu(cli.build_backend(args, limits), max_video_frames=limits.max_video_frames,
                           max_tiles_per_image=limits.max_tiles_per_image)  # fmt: skip
config = AppConfig(host=args.host, port=args.port, limits=limits)
demo = build_demo(backend, config)

if __name__ == "__main__":
    launch(demo, config, mcp=args.mcp)
