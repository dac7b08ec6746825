"""Signed staff session cookies whose age is checked on the server, not trusted to the browser."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Response
from itsdangerous import BadSignature, URLSafeSerializer

from app.config import Settings

COOKIE_NAME = "sb_staff_session"
_SALT = "switchboard.staff-session"


@dataclass(frozen=True)
class StaffSession:
    """What the cookie carries: who, when it was issued, and a random id that CSRF tokens bind to."""

    user_id: int
    issued_at: float
    sid: str

    def expired(self, now: float, max_age_s: int) -> bool:
        """True once the session is older than ``max_age_s`` (or issued in the future)."""
        return not (self.issued_at - 5 <= now <= self.issued_at + max_age_s)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def new_session(user_id: int, now: float) -> StaffSession:
    """A fresh session for ``user_id`` issued at ``now``."""
    return StaffSession(user_id=user_id, issued_at=now, sid=secrets.token_urlsafe(18))


def encode_session(session: StaffSession, settings: Settings) -> str:
    """The signed cookie value for ``session``."""
    payload = {"uid": session.user_id, "iat": session.issued_at, "sid": session.sid}
    return str(_serializer(settings).dumps(payload))


def decode_session(value: str | None, settings: Settings, now: float) -> StaffSession | None:
    """The session in a cookie value, or None if it is missing, tampered with, malformed or expired."""
    if not value:
        return None
    try:
        data: Any = _serializer(settings).loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    uid, iat, sid = data.get("uid"), data.get("iat"), data.get("sid")
    if not isinstance(uid, int) or not isinstance(iat, int | float) or not isinstance(sid, str):
        return None
    session = StaffSession(user_id=uid, issued_at=float(iat), sid=sid)
    # The signature proves we issued it; only the server-side clock decides whether it is too old.
    return None if session.expired(now, settings.session_max_age_s) else session


def set_session_cookie(response: Response, session: StaffSession, settings: Settings) -> None:
    """Attach the session cookie: HttpOnly, SameSite=Lax, Secure in production, bounded age."""
    response.set_cookie(
        COOKIE_NAME,
        encode_session(session, settings),
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.environment == "production"
    )
