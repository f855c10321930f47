"""Clean-up and upload bounds (issue 16): exports and imports write nothing outside Gradio's cache, Gradio's
``delete_cache`` removes uploads after the retention window, and each client's uploads are bounded.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from reliability_helpers import chat, launch_app, probe_backend
from studio_media import make_image

from app.backends.fake import FakeBackend
from app.chat.engine import ChatEngine
from app.chat.history import History
from app.config import Limits
from app.ui.blocks import build_demo, cache_cleanup
from app.ui.handlers import ChatHandlers
from app.ui.page_guard import CONTENT_SECURITY_POLICY


def _census() -> set[str]:
    """Every entry of the system temp folder except Gradio's cache (whose files delete_cache handles)."""
    from gradio.utils import get_upload_folder

    cache = Path(get_upload_folder()).resolve()
    return {str(entry) for entry in Path(tempfile.gettempdir()).iterdir() if entry.resolve() != cache}


def test_export_and_import_leave_nothing_in_the_temp_folder(tmp_path):
    from gradio.utils import get_upload_folder

    handlers = ChatHandlers(ChatEngine(FakeBackend(content="Ethanol is CCO."), Limits()), model_id="m")
    image = make_image(tmp_path / "flask.png")
    history = History()
    value, history, _ = handlers.add_turn({"text": "what is it?", "files": [str(image)]}, history)
    for _ in handlers.respond(None, history, "", False, 0.0, 1.0, 50, 0.0, 32, False):
        pass
    before = _census()
    markdown, document = handlers.export(history)
    _, restored = handlers.import_conversation(document)
    new_entries = _census() - before
    print(f"\ntemp folder entries before {len(before)}, new after export + import: {sorted(new_entries)}")
    assert new_entries == set(), "exports and imports must be written into Gradio's cache (delete_cache covers it)"
    cache = Path(get_upload_folder()).resolve()
    written = [Path(markdown), Path(document), Path(restored.turns[0].attachments[0].path)]
    assert all(cache in path.resolve().parents for path in written), written
    assert json.loads(Path(document).read_text())["turns"][0]["user"]["text"] == "what is it?"


def test_delete_cache_is_set_from_the_retention_window():
    demo = build_demo(FakeBackend(), None)
    assert demo.delete_cache == (3600, 24 * 3600) == cache_cleanup(Limits())
    assert cache_cleanup(Limits(upload_retention_hours=2 / 3600)) == (2, 2)


@pytest.mark.slow
def test_uploads_are_deleted_after_the_retention_window(tmp_path):
    limits = Limits(upload_retention_hours=2 / 3600)  # 2 s, checked every 2 s
    with launch_app(probe_backend(), limits) as app:
        client = app.client()
        assert chat(client, "see", [handle_file(str(make_image(tmp_path / "x.png")))]) == "echo: see"
        stored = [Path(path) for path in app.demo.upload_file_set]
        assert stored and all(path.exists() for path in stored)
        deadline = time.monotonic() + 20
        while any(path.exists() for path in stored) and time.monotonic() < deadline:
            time.sleep(0.5)
        remaining = [path for path in stored if path.exists()]
        print(f"\nuploads deleted after {time.monotonic() - deadline + 20:.1f} s (retention 2 s)")
        assert remaining == []


@pytest.mark.slow
def test_each_client_has_an_upload_quota_and_every_page_a_content_security_policy(tmp_path):
    limits = Limits(max_uploads_per_client=3, max_upload_mb_per_client=0.05)  # 3 uploads, 52 kB
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_bytes(b"x" * 1000)
    large.write_bytes(b"y" * 60_000)
    with launch_app(probe_backend(), limits) as app:
        page = httpx.get(app.url, timeout=10)
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        upload = app.url + "gradio_api/upload"

        def send(path: Path) -> httpx.Response:
            with path.open("rb") as handle:
                return httpx.post(upload, files={"files": (path.name, handle)}, timeout=10)

        assert send(large).status_code == 413  # over the bytes at once (its length is declared)
        assert "max_upload_mb_per_client" in send(large).text
        statuses = [send(small).status_code for _ in range(3)]
        assert statuses == [200, 429, 429]  # the two refused large ones counted as requests too
        assert "max_uploads_per_client" in send(small).text
