"""In a real browser: after Talk to a human → take-over → hand back, the chat page is whole again."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation
from tests.app.chat_support import KeywordRouter, live_server, make_adapters, make_engine, settings_for
from tests.app.console_support import add_user
from tests.browser.browser_support import ARGS, CHROMIUM, assert_accessible, staff_client

TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def served(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    from app.main import create_app

    engine = make_engine(tokenizer, make_adapters(tmp_path / "adapters"))
    app = create_app(settings_for(pg_url, messages_per_minute=1000), engine=engine, router=KeywordRouter())
    with live_server(app) as url:
        yield url, app


@pytest.fixture()
def page(served: tuple[str, Any]) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 420, "height": 820}, bypass_csp=True)
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(served[0] + "/")
        tab.wait_for_selector("#connection:text('Connected')")
        yield tab
        browser.close()


DONE = "#log li.msg.assistant:not(.streaming)"
MORE_DONE = f"n => document.querySelectorAll('{DONE}').length > n"
IDLE = "document.getElementById('typing').hidden && document.getElementById('stop').hidden"


def _replies_done(page: Any) -> int:
    return int(page.locator(DONE).count())


def _say(page: Any, text: str) -> None:
    page.fill("#input", text)
    page.keyboard.press("Enter")


def _idle(page: Any) -> bool:
    return bool(page.evaluate(IDLE))


def test_after_a_human_episode_the_page_is_idle_and_connected(
    page: Any, served: tuple[str, Any], db: Session
) -> None:
    base, app = served
    _say(page, "hello there")
    page.wait_for_function(MORE_DONE, arg=0)
    page.click("#handoff")
    page.wait_for_selector("#connection:text('waiting for our team')")
    conv = db.scalars(select(Conversation).order_by(Conversation.created_at.desc())).first()
    assert conv is not None
    staff = staff_client(base, app.state.settings, add_user(db, "sam", "staff"))
    api = f"/api/staff/conversations/{conv.id}"
    assert staff.post(api + "/take-over").status_code == 200
    page.locator("#log li.notice").filter(has_text="sam from our team").wait_for()
    _say(page, "are you there?")  # a person has the chat: stored, the bot stays silent
    page.wait_for_selector("#log li.msg.customer:not(.sending) >> text=are you there?")
    assert staff.post(api + "/reply", json={"text": "Yes, Sam here."}).status_code == 200
    page.locator("#log li.msg.staff").filter(has_text="Sam here").wait_for()
    assert _idle(page)  # nobody is typing on the bot's side
    assert staff.post(api + "/hand-back").status_code == 200
    page.locator("#log li.notice").filter(has_text="assistant again").wait_for()
    page.wait_for_function("document.getElementById('connection').textContent === 'Connected'")

    before = _replies_done(page)
    _say(page, "one more question")
    page.wait_for_function(MORE_DONE, arg=before)
    page.wait_for_function("document.getElementById('typing').hidden")
    assert _idle(page)  # no job left waiting forever for a `done`
    page.reload()  # and the same after a reload (the welcome's history)
    page.wait_for_selector("#connection:text('Connected')")
    page.wait_for_selector("#log li.msg.staff")
    assert page.locator("#connection").text_content() == "Connected"
    assert _idle(page)
    assert_accessible(page, "chat page with bot, staff and notice lines")
    staff.close()
