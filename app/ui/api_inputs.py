"""Input components of the ``/chat`` API that name the parameter when a client sends the wrong type.

Gradio checks a file input against its data model before any handler runs, and a failure there reaches the client
as the generic "has not enabled verbose error reporting" text, as does a whole-number input's rounding of a
string. :func:`api_files` accepts any JSON value at that step and checks it itself, so ``files=[123]`` is answered
"files[0] must be a file …"; :func:`api_number` refuses a non-number naming the parameter before rounding it.
Ranges, flags and text are checked by the handler (:func:`app.chat.engine.make_params`,
:meth:`app.ui.handlers.ChatHandlers.chat`).

These are ordinary Gradio components whose ``preprocess`` is replaced on the instance: a subclass would make
Gradio's component metaclass write a ``.pyi`` stub next to this file on import.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.data_classes import GradioRootModel, ListFiles


__all__ = ["api_files", "api_number"]


class _AnyValue(GradioRootModel):
    """Whatever the client sent for the files parameter (checked by the files input's own ``preprocess``)."""

    root: Any = None


def _shown(value: Any) -> str:
    text = repr(value)
    return (text if len(text) <= 80 else text[:77] + "…") + f" ({type(value).__name__})"


def _is_file(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("path"), str)
        and isinstance(item.get("meta"), dict)
        and item["meta"].get("_type") == "gradio.FileData"
    )


def api_files(**kwargs: Any) -> gr.File:
    """``gr.File(file_count="multiple", type="filepath")`` whose wrong-typed values get a message naming them.

    The API schema clients see stays the ordinary list-of-files one (computed before the data model is relaxed).
    """
    files = gr.File(file_count="multiple", type="filepath", **kwargs)
    files.api_info()  # cache the list-of-files schema for /info and gradio_client
    as_files = files.preprocess

    def preprocess(payload: Any) -> list[str] | None:
        items = payload.root if isinstance(payload, GradioRootModel) else payload
        if items is None:
            return None
        if not isinstance(items, list):
            raise gr.Error(f"files must be a list of files, got {_shown(items)}", print_exception=False)
        for index, item in enumerate(items):
            if not _is_file(item):
                raise gr.Error(
                    f"files[{index}] must be a file sent with gradio_client.handle_file(path), got {_shown(item)}",
                    print_exception=False,
                )
        return as_files(ListFiles.model_validate(items, context={"validate_meta": True}))

    files.data_model = _AnyValue
    files.preprocess = preprocess  # type: ignore[method-assign]
    return files


def api_number(**kwargs: Any) -> gr.Number:
    """``gr.Number`` that refuses a value which is not a number, naming the parameter (its label)."""
    number = gr.Number(**kwargs)
    as_number = number.preprocess

    def preprocess(payload: Any) -> float | int | None:
        if payload is not None and (isinstance(payload, bool) or not isinstance(payload, int | float)):
            raise gr.Error(f"{number.label} must be a number, got {_shown(payload)}", print_exception=False)
        return as_number(payload)

    number.preprocess = preprocess  # type: ignore[method-assign]
    return number
