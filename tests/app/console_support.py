"""Shared pieces for the console tests: the real app, users, signed-in clients, seeded conversations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.clock import get_clock
from app.auth.csrf import HEADER_NAME, csrf_token
from app.auth.passwords import hash_password
from app.auth.sessions import COOKIE_NAME, encode_session, new_session
from app.config import Settings
from app.db.models import Conversation, Feedback, Message, StaffUser, utcnow
from app.main import create_app
from tests.app.chat_support import KeywordRouter, settings_for

PASSWORD = "correct-password"
_HASH = hash_password(PASSWORD)  # once per run: argon2 is slow on purpose


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def console_app(pg_url: str, clock: FakeClock | None = None, engine: Any = None, **overrides: Any) -> Any:
    """The real app on the test database; pass a tiny ``engine`` when the lifespan will run."""
    app = create_app(settings_for(pg_url, **overrides), engine=engine, router=KeywordRouter())
    if clock is not None:
        app.dependency_overrides[get_clock] = lambda: clock
    return app


def add_user(db: Session, username: str, role: str = "staff", active: bool = True) -> StaffUser:
    """A committed account whose password is PASSWORD."""
    user = StaffUser(username=username, role=role, password_hash=_HASH, is_active=active)
    db.add(user)
    db.commit()
    return user


def sign_in(client: TestClient, user: StaffUser, issued_at: float | None = None) -> dict[str, str]:
    """Put a signed session cookie for ``user`` on the client; returns the CSRF header to send."""
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    clock = client.app.dependency_overrides.get(get_clock)  # type: ignore[attr-defined]
    now = issued_at if issued_at is not None else (clock()() if clock else datetime.now().timestamp())
    session = new_session(user.id, now)
    client.cookies.set(COOKIE_NAME, encode_session(session, settings))
    return {HEADER_NAME: csrf_token(session.sid, settings)}


def add_conversation(
    db: Session,
    texts: list[tuple[str, str]],
    status: str = "active",
    intent: str | None = "general",
    adapter: str | None = None,
    rating: int | None = None,
    created_at: datetime | None = None,
) -> Conversation:
    """A conversation with (role, text) messages; assistant rows carry routing and decoding data."""
    when = created_at or utcnow()
    conv = Conversation(status=status, current_intent=intent, created_at=when)
    db.add(conv)
    db.flush()
    for i, (role, text) in enumerate(texts):
        bot = role == "assistant"
        msg = Message(
            conversation_id=conv.id,
            role=role,
            text=text,
            created_at=when + timedelta(seconds=i),
            intent=intent if bot else None,
            router_confidence=0.87 if bot else None,
            adapter=(adapter or intent) if bot else None,
            decoding={"strategy": "top_k", "temperature": 0.8, "top_k": 40} if bot else None,
            decoding_version=3 if bot else None,
            prompt_tokens=42 if bot else None,
            completion_tokens=20 if bot else None,
            latency_ms=500.0 if bot else None,
        )
        db.add(msg)
        db.flush()
        if bot and rating is not None:
            db.add(Feedback(message_id=msg.id, rating=rating))
    db.commit()
    return conv


def staff_on_duty(db: Session, username: str = "duty") -> StaffUser:
    """A staff member seen online just now at a desk that is always open: a hand-off finds someone.

    Call it right before the hand-off: presence lapses after app.inbox.presence.ONLINE_WINDOW_S.
    """
    from sqlalchemy import select

    from app.inbox.hours import DeskHours, save_hours

    user = db.scalar(select(StaffUser).where(StaffUser.username == username)) or add_user(db, username)
    user.last_seen_at = utcnow()
    db.commit()
    save_hours(db, DeskHours(always_open=True), user)
    return user
