"""Wrong types sent to the API get a message naming the parameter, never Gradio's generic error (issue 16).

Through the launched app and gradio_client, as a client sees it; each case then checks that a correct call works.
"""

from __future__ import annotations

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from reliability_helpers import chat, launch_app, probe_backend
from studio_media import make_image

from app.config import Limits


pytestmark = pytest.mark.slow

CHAT_DEFAULTS = {
    "message": "hi", "files": [], "thinking": False, "temperature": 0.0, "top_p": 1.0, "top_k": 50, "min_p": 0.0,
    "max_new_tokens": 8, "system_prompt": "", "tools": False,
}  # fmt: skip
CHAT_CASES = [
    ({"temperature": "abc"}, "temperature must be a number, got 'abc' (str)"),
    ({"temperature": None}, "temperature must be a number, got None (NoneType)"),
    ({"top_p": [1]}, "top_p must be a number, got [1] (list)"),
    ({"top_k": "x"}, "top_k must be a number, got 'x' (str)"),
    ({"min_p": True}, "min_p must be a number, got True (bool)"),
    ({"max_new_tokens": "8"}, "max_new_tokens must be a number, got '8' (str)"),
    ({"thinking": "yes"}, "thinking must be true or false, got 'yes' (str)"),
    ({"tools": 3}, "tools must be true or false, got 3 (int)"),
    ({"files": [123]}, "files[0] must be a file sent with gradio_client.handle_file(path), got 123 (int)"),
    ({"files": "abc"}, "files must be a list of files, got 'abc' (str)"),
    ({"files": [{"path": "x.png"}]}, "files[0] must be a file sent with gradio_client.handle_file(path)"),
]
SCIENCE_CASES = [
    ("/check_smiles", (123,), "smiles must be text (a string), got 123 (int)"),
    ("/check_sequence", (["MKV"],), "sequence must be text (a string), got ['MKV'] (list)"),
    ("/render_molecule", ({"s": 1}, 320, 240), "smiles must be text (a string), got {'s': 1} (dict)"),
]


@pytest.fixture(scope="module")
def client():
    with launch_app(probe_backend(), Limits()) as app:
        yield app.client()


@pytest.mark.parametrize(
    ("wrong", "message"),
    CHAT_CASES,
    ids=[next(iter(c[0])) + "-" + repr(next(iter(c[0].values()))) for c in CHAT_CASES],
)
def test_chat_names_the_wrongly_typed_parameter(client, wrong, message):
    with pytest.raises(AppError) as refused:
        client.predict(*(CHAT_DEFAULTS | wrong).values(), api_name="/chat")
    assert message in str(refused.value)
    assert "verbose error reporting" not in str(refused.value)
    assert chat(client, "still fine?", max_new_tokens=8) == "echo: still fine?"


@pytest.mark.parametrize(("endpoint", "args", "message"), SCIENCE_CASES, ids=[c[0] for c in SCIENCE_CASES])
def test_science_endpoints_name_the_wrongly_typed_parameter(client, endpoint, args, message):
    with pytest.raises(AppError, match="must be text") as refused:
        client.predict(*args, api_name=endpoint)
    assert message in str(refused.value)


def test_width_none_is_named_in_the_report(client):
    report = client.predict("CCO", None, 240, api_name="/render_molecule")
    assert report["svg"] is None and "width and height must be whole numbers" in report["warnings"][-1]


def test_real_files_still_reach_the_model(client, tmp_path):
    image = make_image(tmp_path / "flask.png")
    assert chat(client, "what is this?", [handle_file(str(image))]) == "echo: what is this?"
