"""The audit trail: every administrative action is one row, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditEvent, StaffUser

MAX_TARGET_CHARS = 200


def record(
    session: Session, actor: StaffUser | None, action: str, target: str = "", **details: Any
) -> AuditEvent:
    """Add (not commit) one audit row: the caller commits it together with the change it describes."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor=actor.username if actor is not None else "cli",
        action=action,
        target=target[:MAX_TARGET_CHARS],
        details=details,
    )
    session.add(event)
    return event


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON shape of one audit row."""
    when: datetime = event.created_at
    return {
        "id": event.id,
        "at": when.isoformat(timespec="seconds"),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "details": event.details or {},
    }


def recent_events(session: Session, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
    """The newest audit rows first, optionally of one action."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return [event_dict(e) for e in session.scalars(query)]
