"""API conversations that last across calls: one stored conversation per (API key, thread label).

OpenAI clients resend the whole chat on every call, so storing each call as a new conversation
left staff with hundreds of one-turn transcripts. A caller that names its thread (the request's
``user`` or an ``x-switchboard-conversation`` header) gets one conversation whose id is an HMAC
of the key and the label: unguessable, scoped to the key (another key's same label is another
conversation), and found again without a lookup table. Each call stores only the messages the
conversation does not hold yet.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.chat import conversations as convs
from app.chat.over_limit import RATE_LIMITED
from app.db.models import Conversation, Message

SENT_ROLE = {"user": "customer", "assistant": "assistant", "system": "system"}


def thread_id(secret: str, key_id: int, label: str) -> str:
    """The conversation id of ``label``'s thread for API key ``key_id`` (32 hex, like every id)."""
    digest = hmac.new(secret.encode(), f"api-thread:{key_id}:{label}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def peek_thread(session: Session, conversation_id: str | None) -> Conversation | None:
    """The thread's conversation if it exists already."""
    return session.get(Conversation, conversation_id) if conversation_id else None


def open_thread(session: Session, conversation_id: str | None, channel: str) -> Conversation:
    """The thread's conversation, created (committed) if new; None as id: a fresh one-off conversation."""
    if conversation_id is None:
        return convs.create_conversation(session, channel=channel)
    conv = session.get(Conversation, conversation_id)
    if conv is not None:
        return conv
    session.add(Conversation(id=conversation_id, channel=channel))
    try:
        session.commit()
    except IntegrityError:  # the same thread's first call raced in on another request
        session.rollback()
    return convs.get_conversation(session, conversation_id)


def remember_api_user(sessions: sessionmaker[Session], conversation_id: str, user: str) -> None:
    """Keep the request's `user` on its conversation (the latest one, when a thread's callers differ)."""
    with sessions() as session:
        conv = session.get(Conversation, conversation_id)
        if conv is not None and conv.api_user != user:
            conv.api_user = user
            session.commit()


def unstored_from(stored: list[tuple[str, str]], sent: list[tuple[str, str]]) -> int:
    """Index of the first sent message the conversation does not hold: the longest prefix of
    ``sent`` (the newest message excluded, it is always new) that ends the stored turns."""
    for j in range(min(len(sent) - 1, len(stored)), 0, -1):
        if sent[:j] == stored[-j:]:
            return j
    return 0


def _recent_turns(session: Session, conversation_id: str, limit: int) -> list[Message]:
    rows = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.role.in_(tuple(SENT_ROLE.values())),
            Message.text != "",
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(rows)[::-1]


def store_sent(
    session: Session, conversation_id: str, messages: list[dict[str, str]], status: str = "received"
) -> Message:
    """Store the sent messages the conversation lacks; the newest (the customer's) row, committed.

    A retry of a message refused by the rate limit reuses its `rate_limited` row rather than
    storing it twice. Assistant turns the caller sends that this server did not write are kept too
    (role assistant, no adapter): they are part of what the model was shown.
    """
    rows = _recent_turns(session, conversation_id, len(messages) + 1)
    newest = messages[-1]["content"]
    retry = None
    if rows and rows[-1].role == "customer" and rows[-1].status == RATE_LIMITED and rows[-1].text == newest:
        retry, rows = rows[-1], rows[:-1]
    sent = [(SENT_ROLE[m["role"]], m["content"]) for m in messages]
    start = unstored_from([(r.role, r.text) for r in rows], sent)
    for role, text in sent[start:-1]:
        earlier = "received" if role == "customer" else "done"
        session.add(Message(conversation_id=conversation_id, role=role, text=text, status=earlier))
    last = retry or Message(conversation_id=conversation_id, role="customer", text=newest)
    last.status = status
    session.add(last)
    session.commit()
    return last
