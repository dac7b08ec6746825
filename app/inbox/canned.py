"""Canned replies: texts operators keep ready under a shortcut; staff insert them when replying."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import CannedReply, StaffUser
from app.staff.handoff import MAX_REPLY_CHARS

SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


class CannedReplyNotFound(LookupError):
    """No canned reply has this id."""


class CannedReplyDraft(BaseModel):
    """A canned reply as operators submit it: a shortcut (e.g. ``refund``) and the text staff insert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shortcut: str = Field(max_length=32)
    text: str = Field(max_length=MAX_REPLY_CHARS)

    @field_validator("shortcut")
    @classmethod
    def _shortcut(cls, value: str) -> str:
        value = value.strip().lower()
        if not SHORTCUT.fullmatch(value):
            raise ValueError("shortcut must be 1-32 characters: letters, digits, _ or -")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        value = value.replace("\x00", "").strip()
        if not value:
            raise ValueError("text must not be empty")
        return value


def as_dict(row: CannedReply) -> dict[str, Any]:
    """JSON-ready form."""
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "text": row.text,
        "updated_at": row.updated_at.isoformat(),
    }


def list_canned(session: Session) -> list[dict[str, Any]]:
    """Every canned reply by shortcut."""
    return [as_dict(r) for r in session.scalars(select(CannedReply).order_by(CannedReply.shortcut))]


def _commit_unique(session: Session, shortcut: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValueError(f"shortcut {shortcut!r} is already taken") from None


def save_canned(
    session: Session, draft: CannedReplyDraft, user: StaffUser, reply_id: int | None = None
) -> dict[str, Any]:
    """Create (no id) or replace a canned reply; ValueError when the shortcut is taken."""
    if reply_id is None:
        row = CannedReply(shortcut=draft.shortcut, text=draft.text, updated_by_id=user.id)
        session.add(row)
    else:
        found = session.get(CannedReply, reply_id)
        if found is None:
            raise CannedReplyNotFound(f"canned reply {reply_id} not found")
        row = found
        row.shortcut, row.text, row.updated_by_id = draft.shortcut, draft.text, user.id
    _commit_unique(session, draft.shortcut)
    return as_dict(row)


def delete_canned(session: Session, reply_id: int) -> None:
    """Remove a canned reply; CannedReplyNotFound when there is none."""
    row = session.get(CannedReply, reply_id)
    if row is None:
        raise CannedReplyNotFound(f"canned reply {reply_id} not found")
    session.delete(row)
    session.commit()
