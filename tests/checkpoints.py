"""Session fixtures that build tiny Intern-S1 checkpoint directories (owned by the processor engineer).

Every checkpoint is built once per test session with :func:`tiny_checkpoints.build_tiny_checkpoint`
(real on-disk layout, real tokenizer layout and geometry, tiny widths) so that tests load it through the same
``from_pretrained`` path a user takes. Enabled in ``tests/conftest.py`` with ``pytest_plugins = ["checkpoints"]``.

* ``tiny_checkpoint`` — dense ``qwen3`` text model, ``layer_norm`` vision (Intern-S1-mini shape);
* ``tiny_moe_checkpoint`` — ``qwen3_moe`` text model, ``rms_norm`` vision with qk-norm (Intern-S1 shape);
* ``tiny_checkpoint_variant`` — parametrised over the four text × vision-norm combinations (qk-norm follows the
  norm, as in the real models); use it with ``@pytest.mark.usefixtures`` or as an argument;
* ``tiny_remote_code_checkpoint`` — the dense checkpoint rewritten as the remote-code flavour
  (``model_type`` "interns1" + ``auto_map``, ``encoder.layer.N`` keys);
* ``build_checkpoint`` — a factory ``build_checkpoint(**kwargs) -> Path`` for other shapes (cached per kwargs).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest


_VARIANTS = {
    "qwen3-layer_norm": {"text_model_type": "qwen3", "norm_type": "layer_norm", "use_qk_norm": False},
    "qwen3-rms_norm": {"text_model_type": "qwen3", "norm_type": "rms_norm", "use_qk_norm": True},
    "qwen3_moe-layer_norm": {"text_model_type": "qwen3_moe", "norm_type": "layer_norm", "use_qk_norm": False},
    "qwen3_moe-rms_norm": {"text_model_type": "qwen3_moe", "norm_type": "rms_norm", "use_qk_norm": True},
}


@pytest.fixture(scope="session")
def build_checkpoint(tmp_path_factory) -> Callable[..., pathlib.Path]:
    """Factory: ``build_checkpoint(**build_tiny_checkpoint_kwargs)`` → directory, built once per distinct kwargs."""
    from tiny_checkpoints import build_tiny_checkpoint

    built: dict[tuple, pathlib.Path] = {}

    def build(**kwargs) -> pathlib.Path:
        key = tuple(sorted(kwargs.items()))
        if key not in built:
            name = "-".join(f"{value}" for _, value in key) or "default"
            built[key] = build_tiny_checkpoint(tmp_path_factory.mktemp(f"intern_s1-{name}"), **kwargs)
        return built[key]

    return build


@pytest.fixture(scope="session")
def tiny_checkpoint(build_checkpoint) -> pathlib.Path:
    """Dense (qwen3) text model with a layer_norm vision tower — the Intern-S1-mini shape."""
    return build_checkpoint(**_VARIANTS["qwen3-layer_norm"])


@pytest.fixture(scope="session")
def tiny_moe_checkpoint(build_checkpoint) -> pathlib.Path:
    """MoE (qwen3_moe) text model with an rms_norm + qk-norm vision tower — the Intern-S1 shape."""
    return build_checkpoint(**_VARIANTS["qwen3_moe-rms_norm"])


@pytest.fixture(scope="session", params=sorted(_VARIANTS), ids=sorted(_VARIANTS))
def tiny_checkpoint_variant(request, build_checkpoint) -> pathlib.Path:
    """Each text × vision-norm combination in turn."""
    return build_checkpoint(**_VARIANTS[request.param])


@pytest.fixture(scope="session")
def tiny_remote_code_checkpoint(tiny_checkpoint, tmp_path_factory) -> pathlib.Path:
    """The dense checkpoint in the remote-code flavour (model_type "interns1" + auto_map)."""
    from tiny_checkpoints import write_remote_code_flavour

    return write_remote_code_flavour(tiny_checkpoint, tmp_path_factory.mktemp("intern_s1-remote-code"))


class _LocalFileServer:
    """A loopback HTTP server over one folder; ``url(name)`` gives a file's URL, ``requests`` lists the paths asked."""

    def __init__(self, root: pathlib.Path):
        import functools
        import http.server
        import threading

        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server naming
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep test output quiet
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def local_file_server(tmp_path_factory):
    """Serve a temporary folder on 127.0.0.1 (so URL code paths run offline); write files into ``server.root``."""
    server = _LocalFileServer(tmp_path_factory.mktemp("served"))
    yield server
    server.close()


def write_clip(path, frames: int = 48, fps: int = 24, width: int = 160, height: int = 120, gop: int = 12):
    """An H.264 clip whose frames all differ (moving gradients), written with PyAV."""
    import av
    import numpy as np

    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.gop_size = gop
    yy, xx = np.mgrid[0:height, 0:width]
    for index in range(frames):
        rgb = np.stack([(xx * 2 + index * 5) % 256, (yy * 2 + index * 3) % 256, (xx + yy + index * 7) % 256], -1)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24")))
    container.mux(stream.encode())
    container.close()
    return path
