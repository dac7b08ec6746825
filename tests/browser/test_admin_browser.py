"""In a real browser: an operator on /admin creates a user and disables them (their open session
stops working), issues and revokes an API key, sets up a widget site, erases one customer's data,
and every action shows in the audit table."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.api_keys import verify_api_key
from app.db.models import Conversation, StaffUser
from app.widget.sites import get_site
from tests.app.chat_support import KeywordRouter, live_server, settings_for
from tests.app.console_support import PASSWORD, add_conversation, add_user
from tests.browser.browser_support import ARGS, CHROMIUM, staff_client

TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def served(pg_url: str, db: Session) -> Iterator[tuple[str, Any]]:
    from app.main import create_app

    # No engine: the admin page does no generation (the lifespan would build one from settings).
    app = create_app(settings_for(pg_url), backend=_NoBackend(), router=KeywordRouter())
    with live_server(app) as url:
        yield url, app


class _NoBackend:
    """A backend that is never asked for a reply (the admin page makes none)."""

    jobs_outlive_node = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture()
def admin_page(served: tuple[str, Any], db: Session) -> Iterator[Any]:
    base, _ = served
    add_user(db, "olga", "operator")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # bypass_csp: the test's waits evaluate JS; the page's own scripts are same-origin anyway.
        page = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before each destructive step
        page.goto(base + "/admin")
        page.fill("input[name=username]", "olga")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(re.escape(base) + "/admin$"))
        yield page
        browser.close()


def _audited(page: Any, action: str) -> None:
    page.locator(f'#audit tr[data-action="{action}"]').first.wait_for()


def test_an_operator_administers_in_the_browser(
    admin_page: Any, served: tuple[str, Any], db: Session, tmp_path: Path
) -> None:
    page, (base, app) = admin_page, served
    page.locator('#users tr[data-user="olga"]').wait_for()

    form = page.locator("#user-form")
    form.locator("input[name=username]").fill("sam")
    form.locator("input[name=password]").fill("sams-password")
    form.locator("button[type=submit]").click()
    sam_row = page.locator('#users tr[data-user="sam"]')
    sam_row.wait_for()
    sam = db.scalars(select(StaffUser).where(StaffUser.username == "sam")).one()
    sam_session = staff_client(base, app.state.settings, sam)
    assert sam_session.get("/api/staff/conversations").status_code == 200
    sam_row.get_by_role("button", name="Disable").click()
    sam_row.locator("td", has_text="disabled").wait_for()
    assert sam_session.get("/api/staff/conversations").status_code == 401  # the open session ended

    page.locator("#key-form input[name=name]").fill("crm")
    page.locator("#key-form button[type=submit]").click()
    shown = page.locator("#shown-key")
    shown.wait_for()
    clear = shown.inner_text().rsplit(" ", 1)[-1]
    assert verify_api_key(db, clear) is not None
    key_row = page.locator('#keys tr[data-key="crm"]')
    key_row.get_by_role("button", name="Revoke").click()
    key_row.locator("td", has_text="revoked").wait_for()
    db.expire_all()
    assert verify_api_key(db, clear) is None

    site = page.locator("#site-form")
    site.locator("input[name=key]").fill("acme")
    site.locator("input[name=business_name]").fill("Acme Audio")
    site.locator("input[name=greeting]").fill("Hi from Acme!")
    site.locator("textarea[name=allowed_origins]").fill("https://acme.example/\nhttp://bad/path")
    site.locator("button[type=submit]").click()
    site.locator('[data-error-for="allowed_origins"]', has_text="is not an origin").wait_for()
    site.locator("textarea[name=allowed_origins]").fill("https://acme.example/")
    site.locator("button[type=submit]").click()
    page.locator('#sites tr[data-site="acme"]', has_text="https://acme.example").wait_for()
    stored = get_site(db, "acme")
    assert stored is not None and stored.greeting == "Hi from Acme!"

    mine = add_conversation(db, [("customer", "I am zed@example.com, delete me")])
    other = add_conversation(db, [("customer", "keep me")])
    page.locator("#customer-form input[name=contains]").fill("zed@example.com")
    page.click("#customer-erase")
    page.locator("#customer-result", has_text="Erased 1 conversation").wait_for()
    assert set(db.scalars(select(Conversation.id))) == {other.id} and mine.id != other.id

    for action in (
        "user.create",
        "user.disable",
        "api_key.create",
        "api_key.revoke",
        "site.create",
        "customer.erase",
    ):
        _audited(page, action)
    assert page.locator('#audit tr[data-action="user.disable"] td').nth(1).inner_text() == "olga"
    assert "zed@example.com" not in page.locator("#audit").inner_text()
    shots = Path(os.environ.get("SWITCHBOARD_SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(shots / "admin.png"), full_page=True)
