"""The command line: flags, limits from flags, the backend factory, and a light import."""

import json
import subprocess
import sys

import pytest

from app import cli
from app.config import Limits


def test_public_flags_parse():
    args = cli.build_parser().parse_args(
        [
            "--model",
            "internlm/Intern-S1-mini-hf",
            "--device",
            "cuda",
            "--dtype",
            "bfloat16",
            "--attn-implementation",
            "sdpa",
            "--host",
            "0.0.0.0",
            "--port",
            "7999",
            "--share",
            "--max-new-tokens",
            "64",
            "--max-video-frames",
            "4",
            "--max-file-size-mb",
            "2.5",
        ]
    )
    assert (args.model, args.device, args.dtype, args.attn_implementation) == (
        "internlm/Intern-S1-mini-hf",
        "cuda",
        "bfloat16",
        "sdpa",
    )
    assert (args.host, args.port, args.share) == ("0.0.0.0", 7999, True)
    limits = cli.limits_from_args(args)
    assert (limits.max_new_tokens, limits.max_video_frames, limits.max_file_size_mb) == (64, 4, 2.5)


def test_defaults_are_safe():
    args = cli.build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.share is False and args.model is None and args.backend == "local"
    assert cli.limits_from_args(args) == Limits()


def test_compile_flag_reaches_the_model_options():
    parser = cli.build_parser()
    assert cli.model_options_from_args(parser.parse_args(["--compile"])).compile is True
    assert cli.model_options_from_args(parser.parse_args([])).compile is False


def test_every_limit_has_a_flag():
    help_text = cli.build_parser().format_help()
    for name in Limits.__dataclass_fields__:
        assert "--" + name.replace("_", "-") in help_text


def test_bad_limits_are_refused_with_a_message():
    with pytest.raises(SystemExit, match="invalid limit"):
        cli.main(["--backend", "fake", "--max-video-frames", "0"])
    with pytest.raises(ValueError, match="exceeds max_new_tokens_cap"):
        Limits(max_new_tokens=10, max_new_tokens_cap=5)


def test_openai_backend_needs_a_base_url():
    with pytest.raises(SystemExit, match="--base-url"):
        cli.build_backend(cli.build_parser().parse_args(["--backend", "openai"]), Limits())


def test_fake_backend_from_the_factory():
    backend = cli.build_backend(cli.build_parser().parse_args(["--backend", "fake"]), Limits())
    assert backend.info.kind == "fake"


def test_cli_import_is_light():
    code = "import json, sys; import app.cli, app.config, app.chat.attachments; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout.strip().splitlines()[-1])}
    assert not loaded & {"torch", "transformers", "gradio"}


@pytest.mark.slow
def test_python_m_app_prints_its_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--backend", "fake"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for line in process.stdout:
            if "running at" in line:
                assert "http://127.0.0.1:" in line
                break
        else:
            pytest.fail("the CLI exited without printing its URL")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_share_message_is_clear_when_the_tunnel_fails():
    assert cli.share_message(False, None) is None
    assert cli.share_message(True, "https://abc.gradio.live") == "Public share link: https://abc.gradio.live"
    assert "Could not open a share link" in cli.share_message(True, None)


def test_auth_flags(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("carol:secret3\n\n", encoding="utf-8")
    assert cli.parse_auth(["alice:pw1", "bob:p:w2"], str(users)) == (
        ("alice", "pw1"),
        ("bob", "p:w2"),
        ("carol", "secret3"),
    )
    for bad in (["nocolon"], [":pw"], ["user:"]):
        with pytest.raises(SystemExit, match="USER:PASSWORD"):
            cli.parse_auth(bad, None)
    with pytest.raises(SystemExit, match="--auth-file"):
        cli.parse_auth([], str(tmp_path / "missing.txt"))
