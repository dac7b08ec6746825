"""Chat messages -> prompt token ids, truncated to fit the model's prompt budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.special_tokens import safe_messages

ROLES = ("system", "user", "assistant")
TRUNCATION_NOTE = " [...message truncated]"


class PromptError(ValueError):
    """The messages cannot become a prompt (bad shape, or the system prompt alone is too long)."""


@dataclass(frozen=True)
class Prompt:
    """Token ids of the templated chat, plus what truncation had to do to fit."""

    ids: list[int]
    dropped_turns: int = 0
    truncated_last_message: bool = False


def _check(messages: list[dict[str, str]]) -> None:
    if not messages:
        raise PromptError("messages must not be empty")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise PromptError(f"messages[{i}] must be {{'role': one of {ROLES}, 'content': str}}")
    if messages[-1]["role"] != "user":
        raise PromptError("the last message must be the user's (the model answers it)")


def _encode(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    # Special tokens are parsed below for the template's own markers, so the content must hold none.
    text = tokenizer.apply_chat_template(
        safe_messages(tokenizer, messages), tokenize=False, add_generation_prompt=True
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def build_prompt_ids(tokenizer: Any, messages: list[dict[str, str]], max_prompt_tokens: int) -> Prompt:
    """Apply the chat template and fit the result into ``max_prompt_tokens``.

    Truncation policy: a leading system message is always kept, and so is the newest (user)
    message. Older turns are dropped oldest first, whole, until the prompt fits. If the system
    prompt plus the newest message alone still do not fit, the newest message keeps its
    beginning, is cut to fit and ends with "[...message truncated]"; ``truncated_last_message``
    tells the caller to say so to the customer. A system prompt that alone leaves no room for
    the message is a PromptError.
    """
    if max_prompt_tokens < 1:
        raise PromptError("max_prompt_tokens must be >= 1")
    _check(messages)
    system = messages[:1] if messages[0]["role"] == "system" else []
    turns = messages[len(system) :]
    dropped = 0
    while True:
        ids = _encode(tokenizer, system + turns)
        if len(ids) <= max_prompt_tokens:
            return Prompt(ids, dropped_turns=dropped)
        if len(turns) == 1:
            break
        turns = turns[1:]
        dropped += 1
        while len(turns) > 1 and turns[0]["role"] == "assistant":  # no answer without its question
            turns = turns[1:]
            dropped += 1
    return _truncate_last(tokenizer, system, turns[0], max_prompt_tokens, dropped)


def _truncate_last(
    tokenizer: Any, system: list[dict[str, str]], last: dict[str, str], budget: int, dropped: int
) -> Prompt:
    overhead = len(_encode(tokenizer, [*system, {"role": "user", "content": TRUNCATION_NOTE}]))
    room = budget - overhead
    if room < 1:
        raise PromptError(f"the system prompt leaves no room for the message within {budget} tokens")
    # Cut the neutralised text: raw content would count an injected marker as one id, not several.
    content = safe_messages(tokenizer, [last])[0]["content"]
    content_ids = tokenizer(content, add_special_tokens=False)["input_ids"]
    keep = room
    # Token boundaries can shift when decoded text is re-encoded; shrink until it really fits.
    while keep > 0:
        text = tokenizer.decode(content_ids[:keep]) + TRUNCATION_NOTE
        ids = _encode(tokenizer, [*system, {"role": "user", "content": text}])
        if len(ids) <= budget:
            return Prompt(ids, dropped_turns=dropped, truncated_last_message=True)
        keep -= max(1, len(ids) - budget)
    raise PromptError(f"the message cannot be fitted into {budget} tokens")
