"""Per-intent live figures from the message rows of a recent window: load, latency, speed, feedback."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.intents import INTENTS
from app.db.models import Feedback, Message

MAX_ROWS = 50_000  # a window with more replies than this is summarised from its newest rows


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Acc:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    votes: int = 0
    up: int = 0

    def add(self, status: str, latency_ms: float | None, tokens: int | None, rating: int | None) -> None:
        self.requests += 1
        if status == "error":
            self.errors += 1
        if status == "done" and latency_ms:
            self.latencies.append(latency_ms)
            if tokens:
                self.tokens += tokens
                self.seconds += latency_ms / 1000.0
        if rating:
            self.votes += 1
            self.up += rating > 0

    def summary(self) -> dict[str, Any]:
        p50, p95 = percentile(self.latencies, 50), percentile(self.latencies, 95)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "p50_latency_ms": round(p50, 1) if p50 is not None else None,
            "p95_latency_ms": round(p95, 1) if p95 is not None else None,
            "tokens_per_s": round(self.tokens / self.seconds, 2) if self.seconds else None,
            "feedback_rate": round(self.votes / self.requests, 4) if self.requests else None,
            "thumbs_up_share": round(self.up / self.votes, 4) if self.votes else None,
        }


def _check(window_s: int, buckets: int) -> None:
    if not 60 <= window_s <= 7 * 86400:
        raise ValueError("window_s must be between 60 and 604800 seconds")
    if not 1 <= buckets <= 120:
        raise ValueError("buckets must be between 1 and 120")


def intent_figures(
    session: Session, now: datetime, window_s: int = 3600, buckets: int = 12
) -> dict[str, Any]:
    """Totals and a time series per intent for bot replies created in (now - window_s, now]."""
    _check(window_s, buckets)
    since = now - timedelta(seconds=window_s)
    stmt = (
        select(
            Message.intent,
            Message.created_at,
            Message.status,
            Message.latency_ms,
            Message.completion_tokens,
            Feedback.rating,
        )
        .outerjoin(Feedback, Feedback.message_id == Message.id)
        .where(Message.role == "assistant", Message.created_at > since, Message.created_at <= now)
        .order_by(Message.id.desc())
        .limit(MAX_ROWS)
    )
    width = window_s / buckets
    totals: dict[str, _Acc] = defaultdict(_Acc)
    series: dict[str, list[_Acc]] = defaultdict(lambda: [_Acc() for _ in range(buckets)])
    for intent, created_at, status, latency_ms, tokens, rating in session.execute(stmt):
        key = intent or "unrouted"
        totals[key].add(status, latency_ms, tokens, rating)
        if created_at.tzinfo is None:  # SQLite hands back naive datetimes (stored as UTC)
            created_at = created_at.replace(tzinfo=now.tzinfo)
        index = min(buckets - 1, int((created_at - since).total_seconds() // width))
        series[key][index].add(status, latency_ms, tokens, rating)
    names = list(INTENTS) + sorted(k for k in totals if k not in INTENTS)
    return {
        "window_s": window_s,
        "bucket_s": width,
        "since": since.isoformat(),
        "now": now.isoformat(),
        "intents": {
            name: {
                **(totals[name].summary() if name in totals else _Acc().summary()),
                "series": [acc.summary() for acc in series[name]],
            }
            for name in names
        },
    }
