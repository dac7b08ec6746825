"""In a real browser: a customer's reply streams in, and a dropped socket resumes without loss."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from tests.app.chat_support import (
    KeywordRouter,
    live_server,
    make_adapters,
    make_engine,
    settings_for,
    wait_for,
)

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
# A test run leaves the tree clean; refresh the README picture with
# SWITCHBOARD_SCREENSHOT_DIR=docs/screenshots pytest tests/browser/test_chat_browser.py
SHOTS = Path(os.environ.get("SWITCHBOARD_SCREENSHOT_DIR", tempfile.gettempdir()))
TIMEOUT_MS = 180_000  # the 400-token reply needs ~150 s with 8 test runs on 2 cores (load 12)

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def server(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Iterator[str]:
    from app.main import create_app

    engine = make_engine(tokenizer, make_adapters(tmp_path / "adapters"))
    app = create_app(settings_for(pg_url, messages_per_minute=1000), engine=engine, router=KeywordRouter())
    with live_server(app) as url:
        yield url


@pytest.fixture()
def page(server: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # bypass_csp: the test's own waits evaluate JS; markup must stay inert even without the CSP.
        context = browser.new_context(viewport={"width": 420, "height": 820}, bypass_csp=True)  # phone
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(server + "/")
        tab.wait_for_selector("#connection:text('Connected')")
        yield tab
        browser.close()


def _replies(db: Session) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.role == "assistant").order_by(Message.id)))


def test_reply_streams_and_resumes_after_a_dropped_socket(page: Any, db: Session) -> None:
    page.fill("#input", "Hi! Do you sell the **Plus** plan?")
    page.keyboard.press("Enter")  # Enter sends
    page.wait_for_selector("li.msg.assistant .meta button[aria-label='Helpful']")
    first = _replies(db)[0]
    assert first.status == "done" and first.intent == "sales"
    shown_first = page.evaluate(
        f"Object.values(window.switchboardChat.jobs).find(j => j.messageId === {first.id}).text"
    )
    assert shown_first == first.text
    assert page.locator("li.msg.customer .body").first.inner_text() == "Hi! Do you sell the **Plus** plan?"
    assert page.evaluate("document.activeElement.id") == "input"  # focus stays in the composer

    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=400), None)
    page.fill("#input", "tell me more")
    page.click("#send")
    page.wait_for_selector("#stop:visible")
    page.wait_for_function("Object.values(window.switchboardChat.jobs).some(j => !j.done && j.seq >= 5)")
    page.evaluate("window.switchboardChat.socket().close()")  # the network drops mid-answer
    page.wait_for_selector("#connection:text('Reconnecting')")
    page.wait_for_selector("#connection:text('Connected')")
    page.wait_for_selector("li.msg.assistant >> nth=1 >> .meta button[aria-label='Helpful']")
    second = wait_for(lambda: next((r for r in _replies(db)[1:] if r.status == "done"), None))
    assert second.completion_tokens == 400
    shown = page.evaluate(
        f"Object.values(window.switchboardChat.jobs).find(j => j.messageId === {second.id}).text"
    )
    assert shown == second.text  # every token once: nothing lost, nothing twice
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=False)
    page.reload()  # the token in localStorage reopens the same conversation
    page.wait_for_selector("#connection:text('Connected')")
    page.wait_for_selector("li.msg.assistant >> nth=1")
    assert page.locator("li.msg").count() == 4


def test_stop_button_and_markup_stays_inert(page: Any, db: Session) -> None:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=1500), None)
    page.fill("#input", '<img src=x onerror="window.__pwned=1"> hello')
    page.keyboard.press("Enter")
    page.wait_for_selector("#stop:visible")
    page.wait_for_function("Object.values(window.switchboardChat.jobs).some(j => j.text.length > 0)")
    # The log scrolls as tokens stream in, so the button is never "stable" for a pointer click;
    # dispatching the click fires the same handler at once, before the reply can finish.
    page.locator("#stop").dispatch_event("click")
    page.wait_for_selector("li.msg.assistant.interrupted")
    reply = wait_for(lambda: next((r for r in _replies(db) if r.status == "interrupted"), None))
    assert reply.text and reply.completion_tokens < 1500
    assert page.evaluate("window.__pwned") is None and page.locator("li.msg img").count() == 0
