"""What the chat page shows under a stored bot reply besides its text: was it cut short at the limit."""

from __future__ import annotations

from typing import Any

from app.db.models import Message


def cut_short(m: Message) -> bool:
    """True when a finished reply used its whole token budget, i.e. it ended at max_new_tokens.

    The row does not store the engine's finish_reason, but it stores the tokens generated and the
    decoding it was made with, and "length" means exactly that the two meet.
    """
    if m.role != "assistant" or m.status != "done" or not m.completion_tokens:
        return False
    limit = (m.decoding or {}).get("max_new_tokens")
    return isinstance(limit, int) and m.completion_tokens >= limit


def reply_notes(m: Message) -> dict[str, Any]:
    """The extra fields a history entry carries for the page (same names as the `done` frame)."""
    return {"finish_reason": "length" if cut_short(m) else None}
