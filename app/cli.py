"""``intern-s1-studio`` / ``python -m app``: parse flags, build the backend once, launch the UI.

Examples::

    intern-s1-studio                                   # the embedded offline demo model
    intern-s1-studio --model internlm/Intern-S1-mini-hf --device cuda --dtype bfloat16
    intern-s1-studio --backend openai --base-url http://localhost:23333/v1 --served-model intern-s1
    intern-s1-studio serve --port 8000                 # OpenAI-compatible HTTP server (app.serving.server)
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from app.config import AppConfig, Limits, ModelOptions


logger = logging.getLogger(__name__)

SERVE_PORT = 23333  # lmdeploy's default, so recipes and clients written for it work unchanged


def _add_model_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (local backend)")
    group.add_argument(
        "--model",
        default=None,
        help="checkpoint dir or Hub id (e.g. internlm/Intern-S1-mini-hf); default: the offline demo",
    )
    group.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (auto: device_map='auto' on GPU)")
    group.add_argument(
        "--dtype",
        default="auto",
        choices=["auto", "bfloat16", "float16", "float32"],
        help="auto: bf16 on GPU, fp32 on CPU",
    )
    group.add_argument("--attn-implementation", default=None, choices=["sdpa", "eager", "flash_attention_2"])
    group.add_argument("--trust-remote-code", action="store_true", help="allow the Hub repo's own modeling code")
    group.add_argument("--cache-dir", default=None, help="where the demo model is built (default ~/.cache/...)")
    group.add_argument(
        "--compile",
        action="store_true",
        help="decode with a static KV cache and a torch.compile'd decode step (compiled at start-up)",
    )


def _add_remote_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("remote (OpenAI-compatible) backend")
    group.add_argument("--backend", default="local", choices=sorted(BACKEND_FACTORIES))
    group.add_argument(
        "--backend-factory",
        default=None,
        metavar="MODULE:FUNCTION",
        help="build the backend by calling MODULE:FUNCTION or FILE.py:FUNCTION (custom backends, tests)",
    )
    group.add_argument("--base-url", default=None, help="e.g. http://localhost:23333/v1 (lmdeploy / vLLM / SGLang)")
    group.add_argument("--api-key", default=None, help="default: $OPENAI_API_KEY or 'EMPTY'")
    group.add_argument("--served-model", default=None, help="model name on the server (default: its first model)")
    group.add_argument(
        "--dialect",
        default="auto",
        choices=["auto", "generic", "lmdeploy", "vllm", "sglang"],
        help="auto: recognised from GET /v1/models; generic sends only OpenAI chat-completions fields",
    )


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits")
    for field in dataclasses.fields(Limits):
        flag = "--" + field.name.replace("_", "-")
        kind = float if field.type in ("float", float) else int
        group.add_argument(flag, type=kind, default=field.default, help=f"(default {field.default})")


def _add_backend_and_limit_flags(parser: argparse.ArgumentParser) -> None:
    """The flags the UI and ``serve`` share: which backend, which model, and every limit."""
    _add_model_flags(parser)
    _add_remote_flags(parser)
    _add_limit_flags(parser)


def _add_serve_parser(subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="serve the backend as an OpenAI-compatible HTTP endpoint at http://HOST:PORT/v1",
        description="Serve a model as an OpenAI-compatible endpoint (lmdeploy dialect) at http://HOST:PORT/v1.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    serve.add_argument("--port", type=int, default=SERVE_PORT, help=f"port (default {SERVE_PORT}, as lmdeploy)")
    serve.add_argument("--log-level", default="INFO")
    _add_backend_and_limit_flags(serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intern-s1-studio", description="Intern-S1 Studio, a scientific assistant.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 exposes the app to the network)")
    parser.add_argument("--port", type=int, default=None, help="default: first free port from 7860")
    parser.add_argument("--share", action="store_true", help="open a public gradio.live link")
    parser.add_argument(
        "--mcp",
        action="store_true",
        help="also serve the science endpoints (check_smiles, check_sequence, render_molecule) as "
        "MCP tools at /gradio_api/mcp/",
    )
    parser.add_argument(
        "--auth", action="append", default=[], metavar="USER:PASSWORD", help="require a login (repeatable)"
    )
    parser.add_argument("--auth-file", default=None, help="file with one USER:PASSWORD per line")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--build-demo-only", action="store_true", help="build/cache the offline demo model and exit")
    _add_backend_and_limit_flags(parser)
    subparsers = parser.add_subparsers(dest="command", title="subcommands", metavar="serve")
    _add_serve_parser(subparsers)
    return parser


def limits_from_args(args: argparse.Namespace) -> Limits:
    return Limits(**{field.name: getattr(args, field.name) for field in dataclasses.fields(Limits)})


def model_options_from_args(args: argparse.Namespace) -> ModelOptions:
    return ModelOptions(
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        attn_implementation=args.attn_implementation,
        trust_remote_code=args.trust_remote_code,
        cache_dir=args.cache_dir,
        compile=args.compile,
    )


def parse_auth(pairs: Sequence[str], auth_file: str | None) -> tuple[tuple[str, str], ...]:
    """(user, password) pairs from --auth values and an --auth-file; malformed entries stop the CLI."""
    entries = [(value, "--auth") for value in pairs]
    if auth_file:
        try:
            lines = Path(auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise SystemExit(f"--auth-file {auth_file}: {error.strerror}") from error
        entries += [(line.strip(), f"{auth_file}:{n}") for n, line in enumerate(lines, 1) if line.strip()]
    parsed = []
    for value, where in entries:
        user, colon, password = value.partition(":")
        if not colon or not user.strip() or not password:
            raise SystemExit(f"{where}: expected USER:PASSWORD with a non-empty user and password")
        parsed.append((user.strip(), password))
    return tuple(parsed)


def _local_backend(args: argparse.Namespace, limits: Limits):
    from app.backends.local import TransformersBackend

    return TransformersBackend(model_options_from_args(args), limits=limits)


def _loading_local_backend(args: argparse.Namespace, limits: Limits):
    """The local backend for the page: loaded on a thread while the page is already up, which shows the progress."""
    from app.backends.base import BackendInfo
    from app.backends.loading import LoadingBackend
    from app.backends.local import DEMO_SAMPLING, MINI_SAMPLING, TransformersBackend

    options = model_options_from_args(args)
    is_demo = options.model is None
    sampling = DEMO_SAMPLING if is_demo else MINI_SAMPLING  # the loaded model's own defaults replace these
    name = (
        "intern-s1-demo" if is_demo else (Path(options.model).name if Path(options.model).exists() else options.model)
    )
    info = BackendInfo(kind="local", model_id=name, description="loading…", is_demo_model=is_demo,
                       default_sampling=sampling.with_updates(max_new_tokens=min(sampling.max_new_tokens,
                                                                                 limits.max_new_tokens)))  # fmt: skip
    return LoadingBackend(lambda progress: TransformersBackend(options, limits=limits, progress=progress), info)


def _openai_backend(args: argparse.Namespace, limits: Limits):
    if not args.base_url:
        raise SystemExit("--backend openai needs --base-url (e.g. http://localhost:23333/v1)")
    from app.backends.remote import OpenAICompatibleBackend

    api_key = args.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
    return OpenAICompatibleBackend(
        base_url=args.base_url,
        api_key=api_key,
        served_model=args.served_model,
        dialect=args.dialect,
        timeout=limits.request_timeout_s,
    )


def _fake_backend(args: argparse.Namespace, limits: Limits):
    from app.backends.fake import FakeBackend

    return FakeBackend(
        reasoning="Scripted thinking.", content="A scripted answer about <SMILES>CCO</SMILES>.", delay_s=0.02
    )


# The backend is chosen once, from --backend; each factory imports its heavy dependencies only when called.
BACKEND_FACTORIES: dict[str, Callable] = {"local": _local_backend, "openai": _openai_backend, "fake": _fake_backend}


def load_backend_factory(spec: str) -> Callable[[], object]:
    """The callable named by ``module:function`` or ``path/to/file.py:function``."""
    import importlib
    import importlib.util

    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise SystemExit(f"--backend-factory must look like module:function or file.py:function, got {spec!r}")
    if target.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location(Path(target).stem, target)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"--backend-factory: cannot load {target}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    try:
        return getattr(module, name)
    except AttributeError as error:
        raise SystemExit(f"--backend-factory: {target} has no {name!r}") from error


def build_backend(args: argparse.Namespace, limits: Limits):
    if args.backend_factory:
        return load_backend_factory(args.backend_factory)()
    return BACKEND_FACTORIES[args.backend](args, limits)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per HTTP request is noise
    try:
        limits = limits_from_args(args)
    except ValueError as error:
        raise SystemExit(f"invalid limit: {error}") from error
    if args.command == "serve":
        return run_server(
            build_backend(args, limits), limits, host=args.host, port=args.port, log_level=args.log_level.lower()
        )
    if args.build_demo_only:
        from app.demo_model import ensure_demo_model

        print(f"demo model ready at {ensure_demo_model(args.cache_dir)}")
        return 0
    auth = parse_auth(args.auth, args.auth_file)
    page_loads_model = args.backend == "local" and not args.backend_factory
    backend = _loading_local_backend(args, limits) if page_loads_model else build_backend(args, limits)
    config = AppConfig(host=args.host, port=args.port, share=args.share, limits=limits, auth=auth)
    return run_app(backend, config, mcp=args.mcp)


def run_server(backend, limits: Limits, *, host: str, port: int, log_level: str = "info") -> int:
    from app.serving import serve

    try:
        serve(backend, limits, host=host, port=port, log_level=log_level)
    finally:
        backend.close()
    return 0


def share_message(share: bool, share_url: str | None) -> str | None:
    """What to tell the user about --share (Gradio only logs a download error when the tunnel fails)."""
    if not share:
        return None
    if share_url:
        return f"Public share link: {share_url}"
    return (
        "Could not open a share link (no network, or the FRP tunnel binary is blocked/missing); "
        "the app is still available locally at the address above."
    )


def run_app(backend, config: AppConfig, *, mcp: bool = False) -> int:
    from app.ui import build_demo, launch

    demo = build_demo(backend, config)
    _, local_url, share_url = launch(demo, config, mcp=mcp, prevent_thread_lock=True)
    print(f"Intern-S1 Studio running at {local_url} (host {config.host}, port {demo.server_port})", flush=True)
    message = share_message(config.share, share_url)
    if message:
        print(message, flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        backend.close()
    return 0
