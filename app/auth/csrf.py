"""CSRF tokens bound to the staff session (HMAC of its random id), checked on state changes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from app.config import Settings

HEADER_NAME = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
LOGIN_COOKIE = "sb_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(Exception):
    """The request changes state but its CSRF token is missing or wrong."""


def csrf_token(sid: str, settings: Settings) -> str:
    """The token pages embed for the session whose random id is ``sid``."""
    return hmac.new(settings.secret_key.encode(), f"csrf|{sid}".encode(), hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison that treats a missing token as a mismatch."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


async def submitted_token(request: Request) -> str | None:
    """The token from the header (fetch calls) or the form field (HTML forms)."""
    header = request.headers.get(HEADER_NAME)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette caches it, so the route can read the form again
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def new_login_token() -> str:
    """A random token for the login form, double-submitted as a cookie (there is no session yet)."""
    return secrets.token_urlsafe(24)
