"""The Blocks app: layout and event wiring only (logic lives in :mod:`app.callbacks`).

``build_demo(backend, config)`` builds the same UI for any :class:`~app.backends.base.ChatBackend`;
``launch(demo, config)`` starts the server. Named API endpoints: ``/chat``, ``/check_smiles``,
``/check_sequence``, ``/render_molecule`` (see README for ``gradio_client`` examples).
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from app import callbacks
from app.backends.base import BackendInfo, ChatBackend
from app.config import ACCEPTED_EXTENSIONS, MOLECULE_EXTENSIONS, SEQUENCE_EXTENSIONS, AppConfig
from app.ui import rendering, viewer3d


logger = logging.getLogger(__name__)

GENERATE_GROUP = "generate"  # one concurrency pool for UI chat and /chat API calls
EXAMPLES = [
    {"text": "What is the chemical formula of water?"},
    {"text": "Which functional groups does <SMILES>CC(=O)Oc1ccccc1C(=O)O</SMILES> have?"},
    {"text": "Give the SMILES of caffeine and explain its structure."},
]

CSS = rendering.CARD_CSS + """
#model-info { font-size: 0.9em; }
#demo-banner { border-left: 4px solid #e0a800; padding-left: 8px; }
"""


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


def build_demo(backend: ChatBackend, config: AppConfig | None = None) -> gr.Blocks:
    """The whole app for one backend (nothing is launched)."""
    config = config or AppConfig()
    limits = config.limits
    ctx = callbacks.ChatContext(backend=backend, limits=limits, sessions=callbacks.SessionRegistry(
        limits.max_requests_per_session))
    defaults = backend.info.default_sampling
    gr.set_static_paths(viewer3d.static_paths())

    with gr.Blocks(title=config.title) as demo:
        gr.Markdown(f"## {config.title} — a scientific assistant for Intern-S1")
        gr.Markdown(model_info_markdown(backend.info), elem_id="model-info")
        gr.Markdown(demo_banner_markdown(backend.info), elem_id="demo-banner", visible=backend.info.is_demo_model)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat", height=560, editable="user", buttons=["copy", "copy_all"], sanitize_html=True,
                    allow_tags=False, feedback_options=None, elem_id="chat",
                    placeholder="Ask about molecules, proteins, figures or lab videos.",
                    examples=EXAMPLES,
                )
                box = gr.MultimodalTextbox(
                    file_types=list(ACCEPTED_EXTENSIONS), file_count="multiple", sources=["upload"],
                    placeholder="Message (attach images, a video, .fasta/.sdf/.mol/.smi/.pdb files)",
                    max_plain_text_length=limits.max_text_chars, show_label=False, elem_id="chat-input",
                    autofocus=True,
                )
                with gr.Row():
                    stop_btn = gr.Button("Stop", variant="stop", size="sm", elem_id="stop-btn")
                    thinking = gr.Checkbox(value=defaults.enable_thinking, label="Thinking", elem_id="thinking")
                    use_tools = gr.Checkbox(value=False, label="Chemistry tools", elem_id="use-tools",
                                            info="let the model call RDKit / ProtParam tools mid-answer")
                gr.Markdown(limits.describe(), elem_id="limits")
                with gr.Accordion("Export / import the conversation", open=False):
                    with gr.Row():
                        export_btn = gr.Button("Export Markdown + JSON", size="sm")
                        import_btn = gr.UploadButton("Import JSON", file_types=[".json"], size="sm")
                    exported = gr.File(label="Exported files", file_count="multiple", interactive=False)
            with gr.Column(scale=2):
                with gr.Tab("Molecule"):
                    smiles = gr.Textbox(label="SMILES", placeholder="e.g. CC(=O)Oc1ccccc1C(=O)O", elem_id="smiles")
                    answer_molecules = gr.Dropdown(label="…or a molecule from the answers", choices=[],
                                                   interactive=False, elem_id="answer-molecules")
                    smiles_file = gr.File(label="…or a .smi / .sdf / .mol file", file_types=list(MOLECULE_EXTENSIONS),
                                          height=80)
                    smiles_status = gr.Markdown("Type or paste a SMILES string.", elem_id="smiles-status")
                    smiles_picture = gr.HTML(elem_id="smiles-picture")
                    descriptors = gr.Dataframe(headers=["descriptor", "value"], interactive=False, wrap=True,
                                               label="Descriptors", elem_id="descriptors")
                    with gr.Row():
                        ask_molecule = gr.Button("Ask about this molecule", size="sm")
                        show_3d = gr.Button("Show in 3D", size="sm")
                    viewer = viewer3d.make_viewer(elem_id="viewer3d")
                with gr.Tab("Protein / DNA"):
                    sequence = gr.Textbox(label="Sequence (FASTA or bare)", lines=5, elem_id="sequence")
                    sequence_file = gr.File(label="…or a .fasta / .fa / .pdb file",
                                            file_types=list(SEQUENCE_EXTENSIONS), height=80)
                    sequence_status = gr.Markdown("Paste a protein or DNA sequence (FASTA or bare letters).")
                    sequence_card = gr.HTML()
                    ask_sequence = gr.Button("Ask about this sequence", size="sm")
                explain = getattr(backend, "explain_tokens", None)
                with gr.Tab("Tokens", visible=explain is not None):
                    token_text = gr.Textbox(label="Text", value="Ethanol is <SMILES>CCO</SMILES>.", elem_id="token-text")
                    token_table = gr.Dataframe(headers=["token", "id", "vocabulary"], interactive=False,
                                               label="How the dynamic tokenizer splits it", elem_id="token-table")
                with gr.Tab("Settings"):
                    system_prompt = gr.Textbox(label="System prompt", lines=3,
                                               placeholder="(empty: the model's default, which asks it to think)")
                    temperature = gr.Slider(0.0, 2.0, value=defaults.temperature, step=0.05, label="Temperature")
                    top_p = gr.Slider(0.05, 1.0, value=defaults.top_p, step=0.05, label="top_p")
                    top_k = gr.Slider(0, 200, value=defaults.top_k, step=1, label="top_k")
                    min_p = gr.Slider(0.0, 1.0, value=defaults.min_p, step=0.01, label="min_p")
                    max_new_tokens = gr.Slider(1, limits.max_new_tokens_cap, step=1,
                                               value=min(defaults.max_new_tokens, limits.max_new_tokens),
                                               label="Max new tokens")
        api_inputs = _hidden_api_inputs(defaults, limits)
        api_output = gr.Textbox(visible=False)
        api_trigger = gr.Button(visible=False)

        sampling = [thinking, temperature, top_p, top_k, min_p, max_new_tokens, use_tools]

        # ---- event wiring -------------------------------------------------------------------------------------
        def add_turn(value, history):
            return callbacks.add_user_turn(value, history, limits)

        def respond(history, system, think, temp, p, k, mp, max_tokens, tools, request: gr.Request):
            try:
                params = callbacks.make_params(think, temp, p, k, mp, max_tokens, limits)
            except callbacks.InputError as error:
                raise gr.Error(str(error), print_exception=False) from error
            yield from callbacks.respond(ctx, history, system, params, _session(request), use_tools=bool(tools))

        def stop(request: gr.Request):
            callbacks.stop(ctx, _session(request))

        def unlock():
            return gr.MultimodalTextbox(interactive=True)

        generate_args: dict[str, Any] = {
            "concurrency_limit": limits.concurrency_limit,
            "concurrency_id": GENERATE_GROUP,
            "api_visibility": "private",
        }
        submitted = box.submit(add_turn, [box, chatbot], [chatbot, box], api_visibility="private")
        answering = submitted.success(respond, [chatbot, system_prompt, *sampling], [chatbot], **generate_args)
        answering.then(unlock, None, [box], api_visibility="private")
        submitted.failure(unlock, None, [box], api_visibility="private")

        retrying = chatbot.retry(_retry, [chatbot], [chatbot], api_visibility="private")
        retry_answer = retrying.then(respond, [chatbot, system_prompt, *sampling], [chatbot], **generate_args)
        editing = chatbot.edit(_edit, [chatbot], [chatbot], api_visibility="private")
        edit_answer = editing.success(respond, [chatbot, system_prompt, *sampling], [chatbot], **generate_args)
        for finished in (answering, retry_answer, edit_answer):
            finished.then(callbacks.molecules_in_chat, [chatbot], [answer_molecules], api_visibility="private")
        chatbot.undo(_undo, [chatbot], [chatbot, box], api_visibility="private")
        chatbot.clear(stop, None, None, api_visibility="private")
        chatbot.example_select(_example, None, [box], api_visibility="private")

        def stop_and_unlock(request: gr.Request):
            stop(request)
            return unlock()  # a cancelled answer never reaches its .then(unlock)

        stop_btn.click(stop_and_unlock, None, [box], cancels=[answering, retry_answer, edit_answer],
                       api_visibility="private", queue=False)

        smiles.change(callbacks.smiles_panel, [smiles], [smiles_status, smiles_picture, descriptors],
                      api_visibility="private", trigger_mode="always_last", queue=False)
        answer_molecules.input(lambda choice: choice or "", [answer_molecules], [smiles], api_visibility="private")
        smiles_file.upload(callbacks.read_upload_text, [smiles_file], [smiles], api_visibility="private")
        ask_molecule.click(callbacks.insert_molecule, [smiles, box], [box], api_visibility="private")
        show_3d.click(callbacks.molecule_3d, [smiles], [viewer], api_visibility="private")
        sequence.change(callbacks.sequence_panel, [sequence], [sequence_status, sequence_card],
                        api_visibility="private", trigger_mode="always_last", queue=False)
        sequence_file.upload(callbacks.read_upload_text, [sequence_file], [sequence], api_visibility="private")
        ask_sequence.click(callbacks.insert_sequence, [sequence, box], [box], api_visibility="private")

        def chat(message, files, think, temp, p, k, mp, max_tokens, system, tools, request: gr.Request):
            yield from callbacks.chat_api(ctx, message, files, think, (temp, p, k, mp, max_tokens), system,
                                          _session(request), use_tools=bool(tools))

        api_trigger.click(chat, api_inputs, [api_output], api_name="chat", concurrency_limit=limits.concurrency_limit,
                          concurrency_id=GENERATE_GROUP)
        if explain is not None:
            def tokenize(text: str) -> list[list]:
                """Tokens of a text as (token, id, vocabulary) rows; vocabulary shows SMILES/IUPAC/FASTA pieces."""
                return [list(row) for row in explain((text or "")[: limits.max_text_chars])]

            token_text.change(tokenize, [token_text], [token_table], api_name="tokenize", trigger_mode="always_last")
            demo.load(tokenize, [token_text], [token_table], api_visibility="private")
        export_btn.click(_export, [chatbot], [exported], api_visibility="private")
        import_btn.upload(_import, [import_btn], [chatbot], api_visibility="private")
        gr.api(_check_smiles, api_name="check_smiles")
        gr.api(_check_sequence, api_name="check_sequence")
        gr.api(_render_molecule, api_name="render_molecule")
    _register_mcp_tools(demo)  # re-enters the Blocks itself; calling it inside our `with` breaks the next build
    demo.queue(max_size=limits.max_queue_size, default_concurrency_limit=limits.concurrency_limit)
    return demo


def _hidden_api_inputs(defaults, limits) -> list[gr.components.Component]:
    """Inputs of the /chat endpoint, in order (hidden: the UI uses the chat box)."""
    return [
        gr.Textbox(visible=False, label="message"),
        gr.File(visible=False, file_count="multiple", type="filepath", label="files"),
        gr.Checkbox(visible=False, value=defaults.enable_thinking, label="thinking"),
        gr.Number(visible=False, value=defaults.temperature, label="temperature"),
        gr.Number(visible=False, value=defaults.top_p, label="top_p"),
        gr.Number(visible=False, value=defaults.top_k, label="top_k"),
        gr.Number(visible=False, value=defaults.min_p, label="min_p"),
        gr.Number(visible=False, value=min(defaults.max_new_tokens, limits.max_new_tokens), label="max_new_tokens"),
        gr.Textbox(visible=False, value="", label="system_prompt"),
        gr.Checkbox(visible=False, value=False, label="tools"),
    ]


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def _retry(history: list[dict[str, Any]], data: gr.RetryData) -> list[dict[str, Any]]:
    return callbacks.history_before(history, data.index)


def _edit(history: list[dict[str, Any]], data: gr.EditData) -> list[dict[str, Any]]:
    return callbacks.edit_history(history, data.index, str(data.value))


def _undo(history: list[dict[str, Any]], data: gr.UndoData):
    kept = history[: data.index]
    value = data.value
    text = value if isinstance(value, str) else " ".join(v for v in value if isinstance(v, str))
    import html

    return kept, {"text": html.unescape(text), "files": []}


def _example(data: gr.SelectData):
    return {"text": data.value.get("text", ""), "files": data.value.get("files", [])}


def _export(history: list[dict[str, Any]]) -> list[str]:
    from app.chat.transcript import write_exports

    if not history:
        raise gr.Error("nothing to export yet", print_exception=False)
    return list(write_exports(history))


def _import(path: str) -> list[dict[str, Any]]:
    from pathlib import Path

    from app.chat.transcript import ConversationImportError, from_json

    try:
        return from_json(Path(path).read_bytes())
    except ConversationImportError as error:
        raise gr.Error(f"could not import: {error}", print_exception=False) from error


def _register_mcp_tools(demo: gr.Blocks) -> None:
    """Agent-facing API/MCP tools from app.mcp_tools (they become MCP tools with --mcp)."""
    from app.mcp_tools import register_api

    register_api(demo)


def _check_smiles(smiles: str) -> dict:
    """Validate a SMILES with RDKit; returns ok, canonical_smiles, formula, error and descriptors."""
    return callbacks.check_smiles(smiles)


def _check_sequence(sequence: str) -> dict:
    """Validate a protein/DNA/RNA sequence (FASTA or bare); returns ok, kind, sequence, error, properties."""
    return callbacks.check_sequence(sequence)


def _render_molecule(smiles: str) -> dict:
    """Draw a SMILES with RDKit; returns ok, canonical_smiles, formula, svg (an SVG string) and error."""
    return callbacks.render_molecule(smiles)


def launch(demo: gr.Blocks, config: AppConfig, **kwargs: Any) -> tuple[Any, str, str | None]:
    """Start the server; returns (app, local_url, share_url or None)."""
    app, local_url, share_url = demo.launch(
        server_name=config.host,
        server_port=config.port,
        share=config.share,
        max_file_size=config.limits.max_file_size_bytes,
        css=CSS,
        footer_links=["api", "settings"],
        auth=list(config.auth) or None,
        quiet=True,
        **kwargs,
    )
    return app, local_url, share_url
