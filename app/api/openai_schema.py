"""What a /v1 request may ask for: the fields we honour, and a clear 400 for those we cannot.

OpenAI's own API refuses a parameter it does not know; quietly ignoring ``tools`` or
``response_format`` instead would hand the caller a plain-text answer it never asked for. So
every field is one of: honoured (the models below), accepted as bookkeeping that changes no
output (``IGNORED``), unsupported unless left at its neutral value (``NEUTRAL``), or unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.openai_errors import ApiError

MAX_USER_CHARS = 128
ROLE_MAP = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _falsy(v: Any) -> bool:
    return not v


NEUTRAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "tools": (_falsy, "tool calling is not supported"),
    "functions": (_falsy, "function calling is not supported"),
    "tool_choice": (lambda v: v in (None, "none"), "tool calling is not supported"),
    "function_call": (lambda v: v in (None, "none"), "function calling is not supported"),
    "response_format": (
        lambda v: v is None or v == {"type": "text"},
        "only response_format {'type': 'text'} is supported (no JSON mode or schemas)",
    ),
    "logprobs": (lambda v: v in (None, False, 0), "logprobs are not supported"),
    "top_logprobs": (lambda v: v in (None, 0), "logprobs are not supported"),
    "n": (lambda v: v in (None, 1), "only n=1 is supported"),
    "best_of": (lambda v: v in (None, 1), "only best_of=1 is supported"),
    "echo": (_falsy, "echo is not supported"),
    "suffix": (_falsy, "suffix (insertion) is not supported"),
    "frequency_penalty": (
        lambda v: v in (None, 0),
        "frequency_penalty is not supported (operators tune repetition per intent)",
    ),
    "presence_penalty": (lambda v: v in (None, 0), "presence_penalty is not supported"),
    "logit_bias": (_falsy, "logit_bias is not supported"),
    "modalities": (lambda v: v in (None, ["text"]), "only the text modality is supported"),
    "audio": (lambda v: v is None, "audio output is not supported"),
    "prediction": (lambda v: v is None, "predicted outputs are not supported"),
    "reasoning_effort": (lambda v: v is None, "reasoning_effort is not supported"),
    "web_search_options": (lambda v: v is None, "web search is not supported"),
}
# Bookkeeping that changes nothing in the output; every request is stored anyway.
IGNORED = {
    "metadata",
    "store",
    "service_tier",
    "parallel_tool_calls",
    "safety_identifier",
    "prompt_cache_key",
}


class StreamOptions(BaseModel):
    """``stream_options``: include_usage adds a final chunk carrying the token counts."""

    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False
    include_obfuscation: bool = False  # accepted: there is nothing to obfuscate on this server


class SamplingFields(BaseModel):
    """The fields both completion endpoints honour."""

    model_config = ConfigDict(extra="forbid")
    model: str
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=MAX_USER_CHARS)


class ChatCompletionIn(SamplingFields):
    """A /v1/chat/completions request; ``messages`` normalised to plain role/content strings."""

    messages: list[dict[str, str]] = Field(min_length=1, max_length=100)
    max_completion_tokens: int | None = None


class CompletionIn(SamplingFields):
    """A /v1/completions request: one prompt (a string, or a list holding one)."""

    prompt: str | list[str]
    max_tokens: int | None = 16  # OpenAI's default for legacy completions


def check_fields(body: dict[str, Any], honoured: type[BaseModel]) -> None:
    """Raise ApiError(400) for a field that is unknown, or unsupported and not at its neutral value."""
    for name, value in body.items():
        if name in honoured.model_fields or name in IGNORED:
            continue
        if name in NEUTRAL:
            neutral, why = NEUTRAL[name]
            if not neutral(value):
                raise ApiError(400, f"{name}: {why}", param=name, code="unsupported_parameter")
            continue
        raise ApiError(
            400, f"Unrecognized request argument supplied: {name}", param=name, code="unknown_parameter"
        )


def _text_of(i: int, content: Any) -> str:
    """A message's content as one string: a string, or an array of text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise ApiError(
            400,
            f"messages[{i}].content must be a string or a non-empty array of text parts",
            param=f"messages[{i}].content",
        )
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise ApiError(
                400,
                f"messages[{i}].content[{j}]: only text parts are supported (got type {kind!r})",
                param=f"messages[{i}].content[{j}].type",
                code="unsupported_content",
            )
        texts.append(part["text"])
    return "\n".join(texts)


def normalise_messages(raw: Any) -> list[dict[str, str]]:
    """OpenAI messages -> role/content strings; `developer` is the system's, leading ones are merged."""
    if not isinstance(raw, list):
        raise ApiError(400, "messages must be an array", param="messages")
    out: list[dict[str, str]] = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise ApiError(400, f"messages[{i}] must be an object", param=f"messages[{i}]")
        role = m.get("role")
        if role not in ROLE_MAP:
            raise ApiError(
                400,
                f"messages[{i}].role {role!r} is not supported (system, developer, user, assistant)",
                param=f"messages[{i}].role",
            )
        for extra in sorted(set(m) - {"role", "content", "name"}):
            # A reply passed back as received may carry empty fields (`tool_calls: null`, `refusal: null`).
            if m[extra]:
                raise ApiError(400, f"messages[{i}].{extra} is not supported", param=f"messages[{i}].{extra}")
        out.append({"role": ROLE_MAP[role], "content": _text_of(i, m.get("content"))})
    lead = 0
    while lead < len(out) and out[lead]["role"] == "system":
        lead += 1
    if lead > 1:  # one system turn: the service grounds it and the prompt builder always keeps it
        merged = "\n\n".join(m["content"] for m in out[:lead])
        out = [{"role": "system", "content": merged}, *out[lead:]]
    return out


def parse_body(body: Any, model: type[SamplingFields]) -> Any:
    """Validate ``body`` into ``model`` with OpenAI-shaped 400s naming the field."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    check_fields(body, model)
    values = dict(body)
    for name in IGNORED | set(NEUTRAL):
        values.pop(name, None)
    if model is ChatCompletionIn and "messages" in values:
        values["messages"] = normalise_messages(values["messages"])
    try:
        req = model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise ApiError(400, f"{param}: {first['msg']}", param=param) from None
    if req.stream_options is not None and not req.stream:
        raise ApiError(400, "stream_options is only allowed with stream=true", param="stream_options")
    return req
