"""A message over the rate limit is still the customer's message: stored, marked, never answered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.chat.conversations import store_customer_message
from app.chat.metrics import AppMetrics
from app.limits.chat_limits import RateLimited

RATE_LIMITED = "rate_limited"  # a customer row's status: kept, shown, never sent to the model
Emit = Callable[[dict[str, Any]], Awaitable[None]]


def over_limit_notice(exc: RateLimited) -> str:
    """What the customer reads: their message is kept, and when they can send again."""
    wait = max(1, round(exc.retry_after))
    return (
        "You are sending messages faster than we can answer. Your message is saved but will not get "
        f"an automatic reply; please wait {wait} s and send it again."
    )


async def store_over_limit(
    sessions: sessionmaker[Session],
    metrics: AppMetrics,
    conversation_id: str,
    text: str,
    client_id: str | None,
    emit: Emit,
    exc: RateLimited,
) -> int:
    """Store the message as `rate_limited`, tell the page its real state; the row id."""

    def _store() -> tuple[int, bool, str]:
        with sessions() as session:
            row, new = store_customer_message(session, conversation_id, text, client_id, status=RATE_LIMITED)
            return row.id, new, row.status

    message_id, new, status = await asyncio.to_thread(_store)
    metrics.errors.labels("rate_limited").inc()
    frame: dict[str, Any] = {"type": "stored", "message_id": message_id, "client_id": client_id}
    await emit({**frame, "status": status, **({} if new else {"duplicate": True})})
    await emit(
        {
            "type": "error",
            "message_id": message_id,
            "message": over_limit_notice(exc),
            "retry_after": exc.retry_after,
        }
    )
    return message_id
