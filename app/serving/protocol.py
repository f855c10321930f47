"""Pydantic models of the OpenAI chat-completions wire format, as far as ``serve`` speaks it.

Requests are validated strictly (``"stream": "false"`` is an error, not a stream; unknown fields are refused as
OpenAI itself refuses them), so every client mistake becomes a 400 naming the field. Fields of the OpenAI schema
that this server cannot honour (``n > 1``, ``logprobs``, ``response_format`` other than text, penalties, …) are
declared here so they can be refused with a clear message in :mod:`app.serving.convert` instead of being ignored.

The engine extras we accept follow lmdeploy/vLLM: ``top_k`` (−1 or 0 = disabled), ``min_p``, ``enable_thinking``
(top level, lmdeploy) or ``chat_template_kwargs.enable_thinking`` (vLLM, SGLang), and lmdeploy's
``skip_special_tokens`` / ``spaces_between_special_tokens`` (accepted for compatibility; tool calls are always parsed
here, so they change nothing).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer


__all__ = [
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "Choice",
    "ChunkChoice",
    "ChunkDelta",
    "ErrorBody",
    "ErrorDetail",
    "FunctionCall",
    "ImagePart",
    "Message",
    "ModelCard",
    "ModelList",
    "ResponseMessage",
    "SystemMessage",
    "TextPart",
    "ToolCall",
    "ToolMessage",
    "Usage",
    "UserMessage",
    "VideoPart",
]


class _Strict(BaseModel):
    """Client input: no type coercion, no NaN/Infinity, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


# -- content parts -------------------------------------------------------------------------------------------------


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class _MediaURL(_Strict):
    url: str
    detail: Literal["auto", "low", "high"] | None = None  # accepted; tiling is decided by the processor


class ImagePart(_Strict):
    type: Literal["image_url"]
    image_url: _MediaURL


class VideoPart(_Strict):
    """vLLM's and SGLang's video part (not in OpenAI's schema), as the remote backend sends it."""

    type: Literal["video_url"]
    video_url: _MediaURL


UserPart = Annotated[TextPart | ImagePart | VideoPart, Field(discriminator="type")]


# -- messages ------------------------------------------------------------------------------------------------------


class FunctionCall(_Strict):
    name: str = Field(min_length=1)
    arguments: str  # a JSON object, as a string (OpenAI's convention)


class ToolCall(_Strict):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Strict):
    role: Literal["system", "developer"]  # "developer" is OpenAI's newer name for the system turn
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(_Strict):
    role: Literal["user"]
    content: str | list[UserPart]
    name: str | None = None


class AssistantMessage(_Strict):
    role: Literal["assistant"]
    content: str | list[TextPart] | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_content: str | None = None  # lmdeploy / SGLang spelling of the thinking
    reasoning: str | None = None  # recent vLLM spelling
    name: str | None = None
    refusal: str | None = None


class ToolMessage(_Strict):
    role: Literal["tool", "environment"]  # "environment" is Intern-S1's own name for the tool-result turn
    content: str | list[TextPart]
    tool_call_id: str | None = None  # required by OpenAI; optional here for clients that only name the tool
    name: str | None = None


Message = Annotated[SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")]


# -- tools ---------------------------------------------------------------------------------------------------------


class FunctionSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolSpec(_Strict):
    type: Literal["function"]
    function: FunctionSpec


class NamedToolChoice(_Strict):
    type: Literal["function"]
    function: dict[str, str]


class StreamOptions(_Strict):
    include_usage: bool = False
    include_obfuscation: bool | None = None  # accepted; this server adds no obfuscation padding


class ResponseFormat(_Strict):
    type: str
    json_schema: dict[str, Any] | None = None


class ChatTemplateKwargs(_Strict):
    enable_thinking: bool | None = None


# -- the request ---------------------------------------------------------------------------------------------------


class ChatCompletionRequest(_Strict):
    """``POST /v1/chat/completions``: the OpenAI fields plus the engine extras listed in the module docstring."""

    messages: list[Message] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    # engine extras (lmdeploy / vLLM / SGLang)
    top_k: int | None = Field(default=None, ge=-1)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    enable_thinking: bool | None = None
    chat_template_kwargs: ChatTemplateKwargs | None = None
    skip_special_tokens: bool | None = None
    spaces_between_special_tokens: bool | None = None
    # OpenAI fields without effect on the answer: accepted
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    # OpenAI fields this server cannot honour: typed here, refused in convert.py unless left at their neutral value
    n: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0)
    response_format: ResponseFormat | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    logit_bias: dict[str, float] | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    moderation: Any = None
    functions: list[dict[str, Any]] | None = None
    function_call: Any = None


# -- responses -----------------------------------------------------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None

    @model_serializer(mode="wrap")
    def _without_empty_extras(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {key: value for key, value in data.items() if key == "content" or value is not None}


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    logprobs: None = None
    finish_reason: Literal["stop", "length", "tool_calls"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ChunkToolCall(BaseModel):
    index: int
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChunkDelta(BaseModel):
    """One streamed piece; only the fields it carries are sent (OpenAI and lmdeploy stream them that way)."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ChunkToolCall] | None = None

    @model_serializer(mode="wrap")
    def _only_set_fields(self, handler: Any) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    logprobs: None = None
    finish_reason: Literal["stop", "length", "tool_calls"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str
    root: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorDetail
