"""In a real browser: an operator edits a knowledge entry, sees the new version and rolls it back;
the customer's chat shows a reply's sources, "cut short" with a Continue button that gets the rest
for a reply cut at the limit, and "Talk to a person" under a reply to an order it cannot know."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.sessions import COOKIE_NAME, encode_session, new_session
from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.knowledge.store import get_entry
from tests.app.chat_support import KeywordRouter, live_server, make_adapters, make_engine, settings_for
from tests.app.console_support import add_user, staff_on_duty
from tests.browser.browser_support import assert_accessible

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
# SWITCHBOARD_SCREENSHOT_DIR=docs/screenshots refreshes the README pictures; else a temp folder.
SHOTS = Path(os.environ.get("SWITCHBOARD_SCREENSHOT_DIR", tempfile.gettempdir()))
TIMEOUT_MS = 60_000
ECHO = "product.echomax-anc"

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def app(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Any:
    from app.main import create_app

    engine = make_engine(tokenizer, make_adapters(tmp_path / "adapters"))
    return create_app(settings_for(pg_url, messages_per_minute=1000), engine=engine, router=KeywordRouter())


@pytest.fixture()
def server(app: Any) -> Iterator[str]:
    with live_server(app) as url:  # the lifespan seeds the knowledge base from app/knowledge/seed
        yield url


@pytest.fixture()
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _operator_page(browser: Any, app: Any, server: str, db: Session) -> Any:
    """A tab signed in as an operator (the session cookie the login form would set)."""
    user = add_user(db, "olga", "operator")
    cookie = encode_session(new_session(user.id, time.time()), app.state.settings)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": server}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _ask(page: Any, text: str) -> None:
    """Send ``text`` in the chat and wait until its reply is done."""
    done = page.locator("li.msg.assistant .meta").count()
    page.fill("#input", text)
    page.keyboard.press("Enter")
    page.locator("li.msg.assistant .meta").nth(done).wait_for()


def test_operator_edits_an_entry_and_rolls_it_back(browser: Any, app: Any, server: str, db: Session) -> None:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=4), None)
    customer = browser.new_context().new_page()
    customer.set_default_timeout(TIMEOUT_MS)
    customer.goto(server + "/")
    customer.wait_for_selector("#connection:text('Connected')")
    _ask(customer, "Do you sell zorbleflux fridges?")  # nothing in the knowledge base
    _ask(customer, "What is the price of the EchoMax ANC headphones?")
    customer.locator("li.msg.assistant").nth(1).get_by_role("button", name="Not helpful").click()
    customer.wait_for_function("() => document.querySelectorAll('[aria-pressed=true]').length === 1")

    page = _operator_page(browser, app, server, db)
    page.goto(server + "/operator/knowledge")
    page.fill("#kb-search input[name=q]", "echomax")
    page.click("#kb-search button[type=submit]")
    page.locator(f'#kb-rows tr[data-key="{ECHO}"]').click()
    page.locator("#kb-editor-title").filter(has_text=f"{ECHO} · live v1").wait_for()
    original = page.input_value("textarea[name=text]")
    assert "$299" in original
    page.fill("input[name=title]", "")  # a bad edit is refused with the field named
    page.click("#kb-save")
    page.locator('[data-error-for="title"]').filter(has_text="title must be").wait_for()
    page.fill("input[name=title]", "EchoMax ANC headphones")
    page.fill("textarea[name=text]", original.replace("$299", "$249"))
    page.fill("input[name=note]", "winter sale")
    page.click("#kb-save")
    page.locator("#kb-status").filter(has_text="saved: v2 is live for the next reply").wait_for()
    assert page.locator("#kb-history tr").count() == 2
    assert "winter sale" in page.locator("#kb-history tr").first.text_content()
    db.expire_all()
    assert "$249" in get_entry(db, ECHO).text  # live for the next retrieval
    # The gap report, from what the chat path recorded for the two customer questions above.
    page.locator("#gap-unanswered a").filter(has_text="zorbleflux").wait_for()
    assert page.locator(f'#gap-used a[title="{ECHO}"]').count() == 1
    assert page.locator(f'#gap-down a[title="{ECHO}"]').count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "knowledge.png"), full_page=True)
    assert_accessible(page, "knowledge console")
    page.locator("#kb-history tr").nth(1).get_by_role("button", name="roll back").click()
    page.locator("#kb-status").filter(has_text="rolled back to v1: v3 is live").wait_for()
    assert "$299" in page.input_value("textarea[name=text]")
    db.expire_all()
    assert get_entry(db, ECHO).version == 3 and "$299" in get_entry(db, ECHO).text


def _reply_rows(db: Session) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).where(Message.role == "assistant").order_by(Message.id)))


def test_chat_shows_sources_cut_short_continue_and_the_offer(browser: Any, server: str, db: Session) -> None:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=8), None)
    page = browser.new_context(viewport={"width": 420, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server + "/")
    page.wait_for_selector("#connection:text('Connected')")
    page.fill("#input", "What is the price of the EchoMax ANC headphones?")
    page.keyboard.press("Enter")
    first_li = page.locator("li.msg.assistant").nth(0)
    first_li.locator(".cut-short").filter(has_text="The reply was cut short.").wait_for()
    sources = first_li.locator(".sources")  # from the live `done` frame
    assert sources.text_content().startswith("Sources: ")
    assert sources.locator("a").first.get_attribute("href") == f"/kb/{ECHO}"
    first = _reply_rows(db)[0]
    assert first.finish_reason == "length" and first.completion_tokens == 8
    first_li.get_by_role("button", name="Continue").click()
    page.locator("li.msg.customer").filter(has_text="Please continue.").wait_for()
    page.locator("li.msg.assistant").nth(1).locator("button.continue").wait_for()
    assert len(_reply_rows(db)) == 2
    assert page.locator("button.continue").count() == 1  # only the newest reply can be continued

    page.reload()  # the history brings back the same notes
    first_li.locator(".sources a").first.wait_for()
    assert first_li.locator(".cut-short").count() == 1 and first_li.locator("button.continue").count() == 0
    assert page.locator("li.msg.assistant").nth(1).locator("button.continue").count() == 1

    page.fill("#input", "Where is my order #4411?")
    page.keyboard.press("Enter")
    offer = page.locator("li.msg.assistant").nth(2).get_by_role("button", name="Talk to a person")
    offer.wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat-sources.png"), full_page=False)
    assert_accessible(page, "chat page with sources, cut-short note and the offer")
    staff_on_duty(db)  # someone can answer the hand-off (tests/browser/test_inbox_browser.py: nobody)
    offer.click()
    page.locator("li.notice").filter(has_text="A member of our team will join").wait_for()
    page.wait_for_selector("#connection:text('waiting for our team')")

    with page.context.expect_page() as opened:
        first_li.locator(".sources a").first.click()
    article = opened.value
    article.wait_for_load_state()
    assert "EchoMax" in article.locator("h1").text_content()
    assert "$" in article.locator(".kb-text").text_content()
    assert_accessible(article, "knowledge entry page")
