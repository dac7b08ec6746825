"""Helpers of the OpenAI API tests: the live server's handle and the API's stored rows."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message


@dataclass(frozen=True)
class Live:
    """The running app (tests swap its limits) and its /v1 base URL."""

    app: FastAPI
    url: str


def api_rows(db: Session) -> list[Message]:
    """Every message of the API's conversations, oldest first."""
    db.expire_all()
    stmt = select(Message).join(Conversation).where(Conversation.channel == "api").order_by(Message.id)
    return list(db.scalars(stmt))
