"""Size limits on an OpenAI request, checked before any tokenizing: every message, and max_tokens.

Checking only the newest message let one request carry megabytes of earlier turns that the
worker then tokenized and truncated while other customers' streams waited; a max_tokens beyond
the context could never be served and surfaced as a 500.
"""

from __future__ import annotations

from typing import Any


class RequestTooLarge(ValueError):
    """The request cannot be served as sent; ``param`` names the offending field."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def context_tokens(state: Any) -> int:
    """The model's context: the in-process engine's, else the configured one (API nodes have no engine)."""
    engine = getattr(state, "engine", None)
    if engine is not None:
        return int(engine.max_positions)
    return int(state.settings.context_tokens)


def check_request_size(
    contents: list[str], max_tokens: int | None, max_message_chars: int, context: int
) -> None:
    """Raise RequestTooLarge for an over-long message or a max_tokens that leaves no room for a prompt."""
    for i, content in enumerate(contents):
        if len(content) > max_message_chars:
            raise RequestTooLarge(
                f"messages[{i}].content is too long ({len(content)} characters, limit {max_message_chars})",
                "messages",
            )
    if max_tokens is not None and max_tokens >= context:
        raise RequestTooLarge(
            f"max_tokens must be below the model's {context}-token context (got {max_tokens})", "max_tokens"
        )
