"""Shared by the browser tests: the Chromium they drive, staff calls on a live server, the axe check."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

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


def assert_accessible(page: Any, what: str) -> None:
    """axe-core over the page as it is now: no violation of serious or critical impact."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:4]]}" for v in bad
    ]
    assert not bad, f"{what}: " + "; ".join(lines)


def signed_in_page(browser: Any, base_url: str, settings: Settings, user: StaffUser) -> Any:
    """A new page whose browser context holds ``user``'s session cookie (no login form)."""
    session = new_session(user.id, datetime.now().timestamp())
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": COOKIE_NAME, "value": encode_session(session, settings), "url": base_url}])
    return context.new_page()
