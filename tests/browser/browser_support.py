"""Shared by the browser tests: the Chromium they drive and staff calls on a live server."""

from __future__ import annotations

import os
from datetime import datetime

import httpx

from app.auth.csrf import HEADER_NAME, csrf_token
from app.auth.sessions import COOKIE_NAME, encode_session, new_session
from app.config import Settings
from app.db.models import StaffUser

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def staff_client(base_url: str, settings: Settings, user: StaffUser) -> httpx.Client:
    """An HTTP client signed in as ``user`` on the live server (session cookie and CSRF header set)."""
    session = new_session(user.id, datetime.now().timestamp())
    return httpx.Client(
        base_url=base_url,
        cookies={COOKIE_NAME: encode_session(session, settings)},
        headers={HEADER_NAME: csrf_token(session.sid, settings)},
        timeout=30,
    )
