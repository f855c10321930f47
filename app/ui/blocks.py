"""The Blocks app: layout and event wiring only (the handlers live in :mod:`app.ui.handlers` and
:mod:`app.ui.panels`, the engine in :mod:`app.chat`).

``build_demo(backend, config)`` builds the same UI for any :class:`~app.backends.base.ChatBackend` (a
:class:`~app.backends.loading.LoadingBackend` gets a status line that follows the model's loading);
``launch(demo, config)`` starts the server. Named API endpoints: ``/chat``, ``/check_smiles``,
``/check_sequence``, ``/render_molecule``, ``/name_to_structure``, ``/structure_card`` and, with a local model,
``/tokenize`` (see README for ``gradio_client`` examples); with ``mcp=True`` the science endpoints are also MCP tools
(:mod:`app.ui.mcp`). The sketcher, the name box and the structure panel live in :mod:`app.ui.sketcher`,
:mod:`app.ui.name_box` and :mod:`app.ui.structures`, each with its own ``wire_*`` function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from app import science_api
from app.backends.base import BackendInfo, ChatBackend, SamplingParams
from app.chat.engine import ChatEngine
from app.chat.history import History
from app.config import ACCEPTED_EXTENSIONS, MOLECULE_EXTENSIONS, SEQUENCE_EXTENSIONS, AppConfig, Limits
from app.ui import examples, name_box, panels, sketcher, structures, viewer3d
from app.ui.api_inputs import api_files, api_number
from app.ui.handlers import ChatHandlers, api_errors
from app.ui.mcp import science_tools_only
from app.ui.page_guard import MESSAGE_CSS, PageGuard
from app.ui.rendering import SCIENCE_TAGS
from app.ui.style import ON_LOAD_JS, PAGE_CSS


logger = logging.getLogger(__name__)

__all__ = ["CSS", "GENERATE_GROUP", "build_demo", "demo_banner_markdown", "launch", "model_info_markdown"]

GENERATE_GROUP = "generate"  # one concurrency pool for UI chat and /chat API calls
# Tags the Chatbot shows as text in the user's own (or an imported) message instead of building them: nothing a
# message says can add a form, a control, a frame, an embedded object, a script, a style or a picture to the page,
# and the user's <SMILES>…</SMILES> stays visible (else dropped with its text). Model text never holds raw tags
# (app.ui.safe_html writes its HTML, with none of these), so the list only ever applies to user text.
USER_TEXT_TAGS_SHOWN_AS_TEXT = [
    "form", "input", "button", "select", "option", "textarea", "label", "fieldset", "iframe", "frame", "frameset",
    "object", "embed", "applet", "script", "noscript", "style", "link", "meta", "base", "img", "image", "picture",
    "source", "video", "audio", "track", "svg", "math", "portal", "details", "dialog", "marquee",
    *(tag.lower() for tag in SCIENCE_TAGS),
]  # fmt: skip
CSS = PAGE_CSS
STATUS_POLL_S = 1.0  # how often the page asks a loading backend how far it got


def model_info_markdown(info: BackendInfo) -> str:
    line = f"**Model:** `{info.model_id}` · backend: {info.kind}"
    if info.context_length:
        line += f" · context {info.context_length:,} tokens"
    if info.description:
        line += f" · {info.description}"
    return line


def demo_banner_markdown(info: BackendInfo) -> str:
    if not info.is_demo_model:
        return ""
    return (
        "⚠️ **This is a small offline demo model**, not Intern-S1: SmolLM2-135M-Instruct as the language model "
        "inside the real Intern-S1 architecture (dynamic SMILES/FASTA tokenizer, a small *untrained* vision tower). "
        "It answers simple questions and cannot really understand images or videos. For real answers run "
        "`intern-s1-studio --model internlm/Intern-S1-mini-hf` (one GPU, bf16) or serve Intern-S1 with lmdeploy "
        "and connect with `--backend openai --base-url http://host:23333/v1`."
    )


def loading_markdown(status: str | None) -> str:
    """The status line while a model loads ("" once it is ready)."""
    if not status:
        return ""
    if status.startswith("failed"):
        return f"⚠️ **The model could not be loaded** — {status.removeprefix('failed: ')}"
    return f"**Loading the model** — {status}. You can type already; the answer starts once it is loaded."


def _status_poll(backend: ChatBackend, on_ready: Callable[[], list[Any]]) -> Callable[[], list[Any]]:
    """The timer's function: the status line while loading; once loaded, the page updates and the timer stops."""

    def poll() -> list[Any]:
        status = backend.loading_status()  # type: ignore[attr-defined]
        if status is None:
            return [gr.Markdown("", visible=False), *on_ready(), gr.Timer(active=False)]
        still_loading = not status.startswith("failed")
        return [loading_markdown(status), *[gr.skip() for _ in on_ready()], gr.Timer(active=still_loading)]

    return poll


def build_demo(backend: ChatBackend, config: AppConfig | None = None) -> gr.Blocks:
    """The whole app for one backend (nothing is launched)."""
    config = config or AppConfig()
    limits = config.limits
    chat = ChatHandlers(ChatEngine(backend, limits))
    defaults = backend.info.default_sampling
    loading_status = getattr(backend, "loading_status", None)
    gr.set_static_paths(viewer3d.static_paths() + examples.static_paths() + sketcher.static_paths())

    with gr.Blocks(title=config.title, delete_cache=cache_cleanup(limits)) as demo:
        history = gr.State(History())
        gr.Markdown(f"## {config.title} — a scientific assistant for Intern-S1")
        model_info = gr.Markdown(model_info_markdown(backend.info), elem_id="model-info")
        status_text = loading_status() if loading_status is not None else None
        model_status = gr.Markdown(loading_markdown(status_text), elem_id="model-status", visible=bool(status_text))
        gr.Markdown(demo_banner_markdown(backend.info), elem_id="demo-banner", visible=backend.info.is_demo_model)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=560,
                    editable="user",
                    buttons=["copy", "copy_all"],
                    sanitize_html=True,
                    allow_tags=USER_TEXT_TAGS_SHOWN_AS_TEXT,
                    feedback_options=None,
                    group_consecutive_messages=False,  # one bubble per message (app.ui.rendering: editing a turn)
                    elem_id="chat",
                    placeholder="Ask about molecules, proteins, figures or lab videos — or try an example:",
                    examples=examples.chat_examples(),
                )
                box = gr.MultimodalTextbox(
                    file_types=list(ACCEPTED_EXTENSIONS),
                    file_count="multiple",
                    sources=["upload"],
                    placeholder="Message (attach images, a video, .fasta/.sdf/.mol/.smi/.pdb/.cif files)",
                    max_plain_text_length=limits.max_text_chars,
                    show_label=False,
                    elem_id="chat-input",  # focused by ON_LOAD_JS on wide screens (autofocus would scroll a phone)
                )
                with gr.Row():
                    stop_btn = gr.Button("Stop", variant="secondary", size="sm", elem_id="stop-btn", interactive=False)
                    thinking = gr.Checkbox(value=defaults.enable_thinking, label="Thinking", elem_id="thinking")
                    use_tools = gr.Checkbox(
                        value=False,
                        label="Chemistry tools",
                        elem_id="use-tools",
                        info="let the model call RDKit / ProtParam tools mid-answer",
                    )
                gr.Markdown(limits.describe(), elem_id="limits")
                with gr.Accordion("Export / import the conversation", open=False):
                    with gr.Row():
                        export_btn = gr.Button("Export Markdown + JSON", size="sm")
                        import_btn = gr.UploadButton("Import JSON", file_types=[".json"], size="sm")
                    exported = gr.File(label="Exported files", file_count="multiple", interactive=False)
            with gr.Column(scale=2):
                with gr.Tab("Molecule"):
                    smiles = gr.Textbox(label="SMILES", placeholder="e.g. CC(=O)Oc1ccccc1C(=O)O", elem_id="smiles")
                    name, convert_name, name_status, name_origin = name_box.make_name_box()
                    with gr.Accordion("Draw it (JSME sketcher)", open=True, elem_id="sketcher-accordion"):
                        drawing = sketcher.make_sketcher(elem_id="sketcher")
                    answer_molecules = gr.Dropdown(
                        label="…or a molecule or reaction from the answers",
                        choices=[],
                        interactive=False,
                        elem_id="answer-molecules",
                    )
                    smiles_file = gr.File(
                        label="…or a .smi / .sdf / .mol file", file_types=list(MOLECULE_EXTENSIONS), height=80
                    )
                    smiles_status = gr.Markdown(panels.SMILES_PROMPT, elem_id="smiles-status")
                    smiles_picture = gr.HTML(elem_id="smiles-picture")
                    descriptors = gr.Dataframe(
                        headers=["property", "value"],
                        interactive=False,
                        wrap=True,
                        label="Properties",
                        elem_id="descriptors",
                    )
                    with gr.Row():
                        ask_molecule = gr.Button("Ask about it in the chat", size="sm", elem_id="ask-molecule")
                        show_3d = gr.Button("Show in 3D", size="sm")
                    viewer = viewer3d.make_viewer(elem_id="viewer3d")
                with gr.Tab("Protein / DNA"):
                    sequence = gr.Textbox(label="Sequence (FASTA or bare)", lines=5, elem_id="sequence")
                    sequence_file = gr.File(
                        label="…or a .fasta / .fa file", file_types=list(SEQUENCE_EXTENSIONS), height=80
                    )
                    sequence_status = gr.Markdown(panels.SEQUENCE_PROMPT, elem_id="sequence-status")
                    sequence_card = gr.HTML(elem_id="sequence-card")
                    ask_sequence = gr.Button("Ask about it in the chat", size="sm", elem_id="ask-sequence")
                    structure = structures.make_structure_panel()
                explain = getattr(backend, "explain_tokens", None)
                with gr.Tab("Tokens", visible=explain is not None):
                    token_text = gr.Textbox(
                        label="Text", value="Ethanol is <SMILES>CCO</SMILES>.", elem_id="token-text"
                    )
                    token_table = gr.Dataframe(
                        headers=["token", "id", "vocabulary"],
                        interactive=False,
                        label="How the dynamic tokenizer splits it",
                        elem_id="token-table",
                    )
                with gr.Tab("Settings"):
                    system_prompt = gr.Textbox(
                        label="System prompt",
                        lines=3,
                        placeholder="(empty: the model's default, which asks it to think)",
                    )
                    temperature = gr.Slider(0.0, 2.0, value=defaults.temperature, step=0.05, label="Temperature")
                    top_p = gr.Slider(0.05, 1.0, value=defaults.top_p, step=0.05, label="top_p")
                    top_k = gr.Slider(0, 200, value=defaults.top_k, step=1, label="top_k")
                    min_p = gr.Slider(0.0, 1.0, value=defaults.min_p, step=0.01, label="min_p")
                    max_new_tokens = gr.Slider(
                        1,
                        limits.max_new_tokens_cap,
                        step=1,
                        value=min(defaults.max_new_tokens, limits.max_new_tokens),
                        label="Max new tokens",
                    )
        api_inputs = _hidden_api_inputs(defaults, limits)
        api_output = gr.Textbox(visible=False)
        api_trigger = gr.Button(visible=False)
        sampling = [thinking, temperature, top_p, top_k, min_p, max_new_tokens, use_tools]

        # ---- event wiring -------------------------------------------------------------------------------------
        private: dict[str, Any] = {"api_visibility": "private"}
        generate: dict[str, Any] = {
            "concurrency_limit": limits.concurrency_limit,
            "concurrency_id": GENERATE_GROUP,
            **private,
        }

        chat_outputs = [chatbot, history, stop_btn]
        generate["show_progress_on"] = [chatbot]  # never a loading veil over Stop while it is the button to press
        submitted = box.submit(chat.add_turn, [box, history], [chatbot, history, box], **private)
        answering = submitted.success(chat.respond, [history, system_prompt, *sampling], chat_outputs, **generate)
        submitted.success(structures.attached_structure, [history], structure.outputs, **private)
        retrying = chatbot.retry(chat.retry, [history], [chatbot, history], **private)
        retry_answer = retrying.success(chat.respond, [history, system_prompt, *sampling], chat_outputs, **generate)
        editing = chatbot.edit(chat.edit, [history], [chatbot, history], **private)
        edit_answer = editing.success(chat.respond, [history, system_prompt, *sampling], chat_outputs, **generate)
        for finished in (answering, retry_answer, edit_answer):
            finished.then(chat.idle, None, [box, stop_btn], **private)
            named = finished.then(chat.name_structures, [history], [chatbot, history], **private)
            named.then(chat.molecules, [history], [answer_molecules], **private)
        chatbot.undo(chat.undo, [history], [chatbot, history, box], **private)
        chatbot.clear(chat.clear, None, [history], **private)
        chatbot.example_select(_example, None, [box], **private)
        stop_btn.click(chat.stop, [history], [chatbot, history, box, stop_btn],
                       cancels=[answering, retry_answer, edit_answer], queue=False, **private)  # fmt: skip

        smiles.change(_smiles_changed, [smiles, name_origin], [smiles_status, smiles_picture, descriptors, viewer],
                      trigger_mode="always_last", queue=False, **private)  # fmt: skip
        sketcher.wire_sketcher(drawing, smiles, **private)
        name_box.wire_name_box(name, convert_name, name_status, name_origin, smiles, **private)
        answer_molecules.input(lambda choice: choice or "", [answer_molecules], [smiles], **private)
        smiles_file.upload(panels.read_upload_text, [smiles_file], [smiles], **private)
        ask_molecule.click(panels.insert_molecule, [smiles, box], [box], **private)
        show_3d.click(panels.molecule_3d, [smiles], [viewer], **private)
        sequence.change(panels.sequence_panel, [sequence], [sequence_status, sequence_card],
                        trigger_mode="always_last", queue=False, **private)  # fmt: skip
        sequence_file.upload(panels.read_sequence_upload, [sequence_file], [sequence], **private)
        ask_sequence.click(panels.insert_sequence, [sequence, box], [box], **private)
        structures.wire_structure_panel(structure, box, **private)

        api_trigger.click(chat.chat, api_inputs, [api_output], api_name="chat", concurrency_limit=limits.concurrency_limit,
                          concurrency_id=GENERATE_GROUP)  # fmt: skip
        if explain is not None:

            def tokenize(text: str) -> list[list]:
                """Tokens of a text as (token, id, vocabulary) rows; vocabulary shows SMILES/IUPAC/FASTA pieces."""
                return [list(row) for row in explain((text or "")[: limits.max_text_chars])]

            token_text.change(tokenize, [token_text], [token_table], api_name="tokenize", trigger_mode="always_last")
            demo.load(tokenize, [token_text], [token_table], **private)
        export_btn.click(chat.export, [history], [exported], **private)
        imported = import_btn.upload(chat.import_conversation, [import_btn], [chatbot, history], **private)
        imported.success(chat.all_name_structures, [history], [chatbot, history], **private)
        if loading_status is not None:
            sliders = [thinking, temperature, top_p, top_k, min_p, max_new_tokens]

            def on_ready() -> list[Any]:
                info, ready = backend.info, backend.info.default_sampling
                values = [ready.enable_thinking, ready.temperature, ready.top_p, ready.top_k, ready.min_p,
                          min(ready.max_new_tokens, limits.max_new_tokens)]  # fmt: skip
                return [model_info_markdown(info), *values]

            timer = gr.Timer(STATUS_POLL_S, active=bool(status_text))
            timer.tick(_status_poll(backend, on_ready), None, [model_status, model_info, *sliders, timer],
                       queue=False, **private)  # fmt: skip
        for name in science_api.SCIENCE_ENDPOINTS:
            gr.api(api_errors(getattr(science_api, name)), api_name=name)
    demo.queue(max_size=limits.max_queue_size, default_concurrency_limit=limits.concurrency_limit)
    demo.cancel_request = chat.engine.cancel_request  # launch() routes API cancels here (app.ui.page_guard)
    return demo


def _hidden_api_inputs(defaults: SamplingParams, limits: Limits) -> list[gr.components.Component]:
    """Inputs of the /chat endpoint, in the order of :meth:`ChatHandlers.chat` (hidden: the page uses the chat box)."""
    return [
        gr.Textbox(visible=False, label="message"),
        api_files(visible=False, value=[], label="files"),
        gr.Checkbox(visible=False, value=defaults.enable_thinking, label="thinking"),
        api_number(visible=False, value=defaults.temperature, label="temperature"),
        api_number(visible=False, value=defaults.top_p, label="top_p"),
        api_number(visible=False, value=defaults.top_k, precision=0, label="top_k"),
        api_number(visible=False, value=defaults.min_p, label="min_p"),
        api_number(
            visible=False,
            value=min(defaults.max_new_tokens, limits.max_new_tokens),
            precision=0,
            label="max_new_tokens",
        ),
        gr.Textbox(visible=False, value="", label="system_prompt"),
        gr.Checkbox(visible=False, value=False, label="tools"),
    ]


def cache_cleanup(limits: Limits) -> tuple[int, int]:
    """Gradio's ``delete_cache`` (every hour, files older than ``upload_retention_hours``): uploads, exports and
    imported attachments are removed once a conversation is that old (the upload quota counts the same window)."""
    age = int(limits.upload_retention_hours * 3600)
    return min(3600, age), age


def _example(data: gr.SelectData):
    return examples.box_value(data.value)


def _smiles_changed(text: str, origin: dict[str, str] | None) -> tuple[str, str, list[list[str]], str]:
    """The SMILES panel for new input (captioned with the name it came from, if it did); the 3D viewer is emptied
    (it showed the previous molecule)."""
    return (*name_box.smiles_panel_with_origin(text, origin), panels.VIEWER_EMPTY)


def launch(demo: gr.Blocks, config: AppConfig, *, mcp: bool = False, **kwargs: Any) -> tuple[Any, str, str | None]:
    """Start the server; returns (app, local_url, share_url or None).

    Args:
        demo: the app from :func:`build_demo`.
        config: where to bind, limits, login.
        mcp: also serve the science endpoints as MCP tools at ``/gradio_api/mcp/``.
        **kwargs: passed to ``gr.Blocks.launch`` (e.g. ``prevent_thread_lock=True``).
    """
    app_kwargs = dict(kwargs.pop("app_kwargs", {}))
    if mcp:
        app_kwargs["lifespan"] = science_tools_only(demo)
    window_s = config.limits.upload_retention_hours * 3600
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                Middleware(PageGuard, limits=config.limits, window_s=window_s,
                                           on_cancel=getattr(demo, "cancel_request", None))]  # fmt: skip
    kwargs["app_kwargs"] = app_kwargs
    app, local_url, share_url = demo.launch(
        server_name=config.host,
        server_port=config.port,
        share=config.share,
        max_file_size=config.limits.max_file_size_bytes,
        css=CSS + MESSAGE_CSS,
        js=ON_LOAD_JS,
        footer_links=["api", "settings"],
        auth=list(config.auth) or None,
        quiet=True,
        mcp_server=mcp,
        **kwargs,
    )
    return app, local_url, share_url
