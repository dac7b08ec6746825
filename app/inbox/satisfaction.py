"""What customers give back to the desk: a CSAT rating after a resolve, an email when nobody was there."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Conversation, CsatRating
from app.inbox.availability import availability
from app.staff.transcript import ConversationNotFound

MAX_COMMENT_CHARS = 2000
# Syntax only (one @, a dotted domain, no spaces): the team replies by hand, so a typo is seen then.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


class RatingNotAsked(ValueError):
    """A rating for a conversation that was not resolved by staff (nobody asked for one)."""


class CsatAnswer(BaseModel):
    """A score 1 (very unhappy) to 5 (very happy) and an optional comment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)

    @field_validator("comment")
    @classmethod
    def _clean(cls, value: str) -> str:
        return value.replace("\x00", "").strip()


class ContactEmail(BaseModel):
    """The address a customer leaves so the team can answer outside the chat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = Field(max_length=254)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if not EMAIL.fullmatch(value):
            raise ValueError("email must look like name@example.com")
        return value


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise ConversationNotFound(f"conversation {conversation_id!r} not found")
    return conv


def rate(session: Session, conversation_id: str, answer: CsatAnswer) -> CsatRating:
    """Store (or replace: the latest answer counts) the rating of a resolved conversation."""
    conv = _conversation(session, conversation_id)
    if conv.resolved_at is None:
        raise RatingNotAsked(
            "this conversation has not been resolved by our team, so there is nothing to rate"
        )
    row = session.query(CsatRating).filter_by(conversation_id=conversation_id).one_or_none()
    if row is None:
        row = CsatRating(conversation_id=conversation_id, resolved_by_id=conv.resolved_by_id)
        session.add(row)
    row.score, row.comment, row.resolved_by_id = answer.score, answer.comment, conv.resolved_by_id
    try:
        session.commit()
    except IntegrityError:  # the same customer's second tab answered at the same moment: keep that one
        session.rollback()
        return session.query(CsatRating).filter_by(conversation_id=conversation_id).one()
    return row


def leave_email(session: Session, conversation_id: str, contact: ContactEmail) -> str:
    """Store the customer's email on the conversation (it also becomes its label in the inbox)."""
    conv = _conversation(session, conversation_id)
    conv.contact_email = contact.email
    session.commit()
    return conv.contact_email


def open_asks(session: Session, conversation_id: str) -> dict[str, bool]:
    """What the chat page should (again) ask after a reload or reconnect: a rating, an email."""
    conv = _conversation(session, conversation_id)
    rated = session.query(CsatRating.id).filter_by(conversation_id=conversation_id).first() is not None
    csat = conv.status == "closed" and conv.resolved_at is not None and not rated
    ask_email = conv.status == "pending" and not conv.contact_email and not availability(session).live
    return {"csat": csat, "ask_email": ask_email}
