"""What a chaos run must leave in the database, checked from the rows alone.

Every customer message the customers sent is stored exactly once (by its client id); every reply
row is `done`, `interrupted` or `error` with its text (a `done` row holds the text, the others
say why in `error`); no row is left `streaming`; no message has two replies, and a reply the
customer saw end with `done` is stored with exactly the text that was streamed.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from app.db.models import Message
from app.db.session import session_factory
from app.loadtest.chaos_customer import FINAL, ChaosCustomer

MAX_LISTED = 20  # problems listed by name; the counts are complete


def streaming_rows(database_url: str) -> int:
    """Reply rows still `streaming`."""
    with session_factory(database_url)() as session:
        return int(session.scalar(select(func.count()).where(Message.status == "streaming")) or 0)


def settle(database_url: str, timeout_s: float, poll_s: float = 1.0) -> dict[str, Any]:
    """Wait (bounded) for the nodes' orphan sweeps to finalise every `streaming` row."""
    started = time.monotonic()
    at_end = left = streaming_rows(database_url)
    while left and time.monotonic() - started < timeout_s:
        time.sleep(poll_s)
        left = streaming_rows(database_url)
    return {
        "streaming_when_customers_done": at_end,
        "streaming_left": left,
        "waited_s": round(time.monotonic() - started, 1),
    }


def verify(database_url: str, customers: list[ChaosCustomer]) -> dict[str, Any]:
    """Count every invariant's violations over the whole (fresh) database."""
    with session_factory(database_url)() as session:
        rows = list(session.scalars(select(Message).order_by(Message.id)))
    by_client = Counter(r.client_message_id for r in rows if r.role == "customer" and r.client_message_id)
    replies_to = Counter(r.reply_to_id for r in rows if r.role == "assistant")
    by_job = {r.job_id: r for r in rows if r.role == "assistant" and r.job_id}
    problems: dict[str, list[str]] = {
        "lost": [], "duplicated": [], "streaming": [], "bad_final": [], "two_replies": [],
        "unanswered": [], "done_differs": [],
    }  # fmt: skip
    sent = 0
    # A customer who left mid-exchange may leave its message without a reply row (its node died
    # before creating it, and nobody came back to ask again): counted, not a violation.
    left = {ex.client_id for c in customers for ex in c.exchanges if ex.outcome == "left"}
    unanswered_after_leaving = 0
    for customer in customers:
        for ex in customer.exchanges:
            sent += 1
            stored = by_client.get(ex.client_id, 0)
            if stored > 1:
                problems["duplicated"].append(f"{ex.client_id}: stored {stored} times")
            elif stored == 0 and (ex.job_id is not None or ex.outcome in FINAL):
                problems["lost"].append(f"{ex.client_id}: acknowledged, not stored")
            if ex.seen_via == "stream" and ex.outcome == "done":
                row = by_job.get(ex.job_id or "")
                if row is None or row.status != "done" or (row.text or "") != ex.reply:
                    what = "none" if row is None else f"{row.status}, {len(row.text or '')} ch, {row.error}"
                    problems["done_differs"].append(
                        f"{ex.client_id}: `done` seen ({len(ex.reply)} chars), row: {what}"
                    )
    for row in rows:
        if row.role == "assistant":
            if row.status == "streaming":
                problems["streaming"].append(f"message {row.id} (job {row.job_id})")
            elif row.status not in FINAL or (row.status != "done" and not row.error):
                problems["bad_final"].append(f"message {row.id}: {row.status} without its reason")
        elif row.role == "customer" and row.status == "received":
            n = replies_to.get(row.id, 0)
            if n > 1:
                problems["two_replies"].append(f"message {row.id}: {n} replies")
            elif n == 0 and row.client_message_id in left:
                unanswered_after_leaving += 1
            elif n == 0:
                problems["unanswered"].append(f"message {row.id} ({row.client_message_id}): no reply row")
    statuses = Counter(f"{r.role}:{r.status}" for r in rows)
    return {
        "messages_sent": sent,
        "customer_rows": sum(1 for r in rows if r.role == "customer"),
        "rows_by_role_status": dict(sorted(statuses.items())),
        "reply_errors_by_reason": dict(
            Counter((r.error or "")[:80] for r in rows if r.role == "assistant" and r.status != "done")
        ),
        "unanswered_after_leaving": unanswered_after_leaving,
        "violations": {name: len(found) for name, found in problems.items()},
        "problems": {name: found[:MAX_LISTED] for name, found in problems.items() if found},
    }


def held(check: dict[str, Any]) -> bool:
    """Whether every invariant held."""
    return not any(check["violations"].values())
