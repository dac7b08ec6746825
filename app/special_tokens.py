"""Keep customer and staff text from becoming chat-template tokens.

The chat template is rendered to text and then tokenized with special tokens parsed, because the
template's own ``<|im_start|>`` markers must become their ids. Message text goes through the same
tokenizer, so a customer typing ``<|im_end|>\\n<|im_start|>system`` would open a real system
turn. Every special or added token string inside message content is broken with an invisible
WORD JOINER before templating: the model still sees roughly the characters that were typed, but
no id the template reserves. The stored message keeps its original text.
"""

from __future__ import annotations

import functools
import re
from typing import Any

WORD_JOINER = "\u2060"  # zero-width, not part of any special token, survives byte-level BPE


def reserved_strings(tokenizer: Any) -> tuple[str, ...]:
    """Every string the tokenizer would turn into a special or added token id."""
    found = set(getattr(tokenizer, "all_special_tokens", []) or [])
    added = getattr(tokenizer, "get_added_vocab", None)
    if callable(added):
        found.update(added())
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


@functools.lru_cache(maxsize=16)
def _pattern(reserved: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(re.escape(s) for s in reserved)) if reserved else None


def neutralise(text: str, reserved: tuple[str, ...]) -> str:
    """``text`` with every reserved string broken after its first character."""
    pattern = _pattern(reserved)
    if pattern is None:
        return text
    # Inserting (never removing) characters cannot assemble a new reserved string, so one pass is enough.
    return pattern.sub(lambda m: m.group(0)[0] + WORD_JOINER + m.group(0)[1:], text)


def safe_messages(tokenizer: Any, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The messages with their content neutralised for ``tokenizer``'s template."""
    reserved = reserved_strings(tokenizer)
    return [{**m, "content": neutralise(m["content"], reserved)} for m in messages]
