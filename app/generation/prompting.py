"""Chat messages (or a plain text prompt) -> prompt token ids, truncated to fit the model's prompt budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.special_tokens import neutralise, reserved_strings, safe_messages

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
    dropped = _surely_too_old(tokenizer, system, turns, max_prompt_tokens)
    turns = turns[dropped:]
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


def build_text_prompt_ids(tokenizer: Any, text: str, max_prompt_tokens: int) -> Prompt:
    """A text completion's prompt as the model continues it: no template, no system turn.

    Reserved strings are broken as in chat content (a caller's ``<|im_start|>`` stays text). A
    prompt over the budget keeps its end, the part a continuation follows on from; the tokens
    dropped show as a smaller ``usage.prompt_tokens``.
    """
    if max_prompt_tokens < 1:
        raise PromptError("max_prompt_tokens must be >= 1")
    if not text:
        raise PromptError("the prompt must not be empty")
    ids = list(
        tokenizer(neutralise(text, reserved_strings(tokenizer)), add_special_tokens=False)["input_ids"]
    )
    if len(ids) <= max_prompt_tokens:
        return Prompt(ids)
    return Prompt(ids[-max_prompt_tokens:], truncated_last_message=True)


TURN_OVERHEAD = 5  # <|im_start|>, role, newline ... <|im_end|>, newline
ESTIMATE_SLACK = 64  # tokens, plus 2 per turn: separate encoding differs slightly at boundaries


def _surely_too_old(
    tokenizer: Any, system: list[dict[str, str]], turns: list[dict[str, str]], budget: int
) -> int:
    """How many leading turns cannot fit whatever happens, from one pass of per-turn counts.

    Re-templating the whole chat once per dropped turn is quadratic in its length (a long chat
    stalled a worker for seconds); this pass encodes each turn once and skips, in one step, the
    turns that are over the budget by more than the estimate's slack. The exact loop that
    follows then needs only a few encodes, and still drops exactly what it dropped before.
    """
    if len(turns) <= 2:
        return 0
    sizes = [
        len(tokenizer(m["content"], add_special_tokens=False)["input_ids"]) + TURN_OVERHEAD for m in turns
    ]
    fixed = sum(len(tokenizer(m["content"], add_special_tokens=False)["input_ids"]) for m in system) + 16
    allowed = budget + ESTIMATE_SLACK + 2 * len(turns)
    total, skip = fixed + sum(sizes), 0
    while skip < len(turns) - 1 and total > allowed:
        total -= sizes[skip]
        skip += 1
    while skip > 0 and turns[skip]["role"] == "assistant" and skip < len(turns) - 1:
        skip += 1  # the exact loop never starts on an answer without its question
    return skip


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
