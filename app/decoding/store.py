"""Per-intent decoding policies versioned in the database: live on the next message, never rewritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.intents import check_intent
from app.db.models import DecodingSetting, StaffUser
from app.decoding.policy import DEFAULT_POLICIES, DecodingPolicy


def _latest(session: Session, intent: str) -> DecodingSetting | None:
    stmt = (
        select(DecodingSetting)
        .where(DecodingSetting.intent == intent)
        .order_by(DecodingSetting.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def live_policy(session: Session, intent: str) -> tuple[DecodingPolicy, int]:
    """The intent's current policy and version (0 = built-in default); read fresh on every call.

    Not cached: one indexed single-row query per message is cheap, and it means an operator's
    save applies to the very next message in every process without invalidation.
    """
    check_intent(intent)
    row = _latest(session, intent)
    if row is None:
        return DEFAULT_POLICIES[intent], 0
    return DecodingPolicy.model_validate(row.settings), row.version


def save_policy(
    session: Session, intent: str, policy: DecodingPolicy, user: StaffUser | None, comment: str = ""
) -> DecodingSetting:
    """Store ``policy`` as the intent's next version and commit it."""
    check_intent(intent)
    if len(comment) > 255:
        raise ValueError("comment must be at most 255 characters")
    for _attempt in range(5):
        current = session.scalar(
            select(func.max(DecodingSetting.version)).where(DecodingSetting.intent == intent)
        )
        row = DecodingSetting(
            intent=intent,
            version=(current or 0) + 1,
            settings=policy.model_dump(mode="json"),
            comment=comment,
            created_by_id=user.id if user is not None else None,
        )
        session.add(row)
        try:
            session.commit()
            return row
        except IntegrityError:  # two operators saved at once; take the next number
            session.rollback()
    raise RuntimeError(f"could not save a new version for {intent}: too many concurrent saves")


def rollback(session: Session, intent: str, version: int, user: StaffUser | None) -> DecodingSetting:
    """Make ``version`` live again by adding a new version equal to it (history is never rewritten)."""
    check_intent(intent)
    if version == 0:
        policy = DEFAULT_POLICIES[intent]
    else:
        stmt = select(DecodingSetting).where(
            DecodingSetting.intent == intent, DecodingSetting.version == version
        )
        old = session.scalars(stmt).first()
        if old is None:
            raise LookupError(f"{intent} has no version {version}")
        policy = DecodingPolicy.model_validate(old.settings)
    return save_policy(session, intent, policy, user, comment=f"rollback to v{version}")


@dataclass(frozen=True)
class PolicyVersion:
    """One row of an intent's history, as the operator console lists it."""

    version: int
    policy: DecodingPolicy
    comment: str
    created_by: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": self.version,
            "policy": self.policy.model_dump(mode="json"),
            "comment": self.comment,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


def history(session: Session, intent: str, limit: int = 50) -> list[PolicyVersion]:
    """The intent's versions, newest first."""
    check_intent(intent)
    stmt = (
        select(DecodingSetting, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == DecodingSetting.created_by_id)
        .where(DecodingSetting.intent == intent)
        .order_by(DecodingSetting.version.desc())
        .limit(max(1, min(limit, 500)))
    )
    return [
        PolicyVersion(
            version=row.version,
            policy=DecodingPolicy.model_validate(row.settings),
            comment=row.comment,
            created_by=username,
            created_at=row.created_at,
        )
        for row, username in session.execute(stmt)
    ]
