"""In a real browser: the inbox hears a hand-off live (server-sent events, no polling); a hand-off
nobody can take tells the customer when and takes an email; resolving asks the customer for a rating.

SWITCHBOARD_SCREENSHOT_DIR=docs/screenshots pytest tests/browser/test_inbox_browser.py refreshes
inbox.png, handoff.png, transcript-panel.png and csat.png."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import CannedReply, Conversation, ConversationLabel, CsatRating, utcnow
from app.inbox.hours import DeskHours, save_hours
from tests.app.console_support import add_conversation, add_user
from tests.browser import test_staff_browser as staff_browser
from tests.browser.browser_support import assert_accessible
from tests.browser.test_staff_browser import SHOTS_ENV, TIMEOUT_MS, _login

pytestmark = pytest.mark.browser
# The staff browser tests' live server (tiny engine, real PostgreSQL) and Chromium, shared.
server = staff_browser.server
browser = staff_browser.browser


def _shots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _customer(browser: Any, base: str) -> Any:
    page = browser.new_context(viewport={"width": 820, "height": 760}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base + "/")
    page.wait_for_selector("#connection:text('Connected')")
    return page


def _ask_for_a_person(page: Any, text: str) -> None:
    """The customer clicks "Talk to a human" first, then writes (the bot stays silent: no noise)."""
    page.click("#handoff")
    page.wait_for_selector("#connection:text('waiting for our team')")
    page.fill("#input", text)
    page.click("#send")
    page.locator("#log li.msg.customer:not(.sending)").filter(has_text=text).wait_for()


def _seed_queue(db: Session) -> None:
    """A few conversations so the inbox shows its columns: an overdue wait, an API client, labels."""
    texts = [("customer", "My order #1042 has not arrived"), ("assistant", "Let me check.")]
    late = add_conversation(db, texts, status="pending")
    late.pending_since = utcnow() - timedelta(minutes=14)
    api = add_conversation(
        db, [("customer", "Invoice for our 20 Plus seats?")], status="pending", intent="sales"
    )
    api.channel, api.pending_since = "api", utcnow() - timedelta(minutes=3)
    db.add_all([ConversationLabel(conversation_id=late.id, label="shipping"),
                ConversationLabel(conversation_id=api.id, label="billing")])  # fmt: skip
    db.commit()


def test_a_handoff_reaches_the_open_inbox_live(
    server: str, browser: Any, db: Session, tmp_path: Path
) -> None:
    sam = add_user(db, "sam", "staff")
    save_hours(db, DeskHours(always_open=True, unanswered_minutes=10), sam)
    _seed_queue(db)
    staff = _login(browser, server, "sam", "/staff/inbox")
    loads: list[str] = []
    staff.on("request", lambda r: loads.append(r.url) if "/api/inbox/conversations" in r.url else None)
    staff.wait_for_selector("#live-status.on")
    staff.locator("#inbox-rows tr[data-id]").nth(1).wait_for()
    assert "overdue" in staff.locator("#inbox-rows tr.overdue").first.text_content()
    before = len(loads)
    staff.wait_for_timeout(4000)
    assert len(loads) == before  # nothing happened, nothing was fetched: no polling

    customer = _customer(browser, server)
    _ask_for_a_person(customer, "My laptop will not boot after the update")
    # Sam's inbox stream marks him online, so the customer hears a person joins shortly.
    customer.locator("#log .notice").filter(has_text="will join this chat shortly").wait_for()
    toast = staff.locator("#toasts .toast").filter(has_text="asks for a person")
    toast.wait_for(timeout=10_000)
    assert "Web visitor" in toast.text_content()
    staff.locator("#inbox-rows tr[data-id]").nth(2).wait_for()  # the list reloaded once, on the event
    assert len(loads) > before
    staff.click("#views button[data-view=waiting]")
    staff.wait_for_function("document.querySelectorAll('#inbox-rows tr[data-id]').length === 3")
    staff.locator("#inbox-rows tr[data-id]").filter(has_text="will not boot").wait_for()  # its message event
    staff.screenshot(path=str(_shots(tmp_path) / "inbox.png"), full_page=True)
    assert_accessible(staff, "inbox")


def test_nobody_online_the_customer_is_told_when_and_leaves_an_email(
    server: str, browser: Any, db: Session, tmp_path: Path
) -> None:
    add_user(db, "sam", "staff")  # exists, but has no console open
    customer = _customer(browser, server)
    _ask_for_a_person(customer, "Where is my refund for order 1042?")
    customer.locator("#log .notice").filter(has_text="leave your email").first.wait_for()
    customer.locator("#log .notice").filter(has_text="Saved for our team").wait_for()  # under the message
    assert customer.locator(".desk-card.contact").count() == 1  # offered once, not under every message
    customer.fill("#contact-email", "not-an-email")
    customer.click(".contact-form button[type=submit]")
    assert (
        customer.evaluate("document.getElementById('contact-email').validity.valid") is False
    )  # browser check
    customer.fill("#contact-email", "ana@example.com")
    customer.screenshot(path=str(_shots(tmp_path) / "handoff.png"), full_page=True)
    assert_accessible(customer, "chat with the email offer")
    customer.click(".contact-form button[type=submit]")
    customer.locator(".desk-card.contact").filter(has_text="will write to ana@example.com").wait_for()
    db.expire_all()
    assert (
        db.scalar(select(Conversation.contact_email).where(Conversation.status == "pending"))
        == "ana@example.com"
    )


def test_resolving_asks_the_customer_for_a_rating(
    server: str, browser: Any, db: Session, tmp_path: Path
) -> None:
    sam = add_user(db, "sam", "staff")
    save_hours(db, DeskHours(always_open=True), sam)
    db.add(CannedReply(shortcut="refund", text="Refunds reach your card within 5 business days."))
    db.commit()
    staff = _login(browser, server, "sam", "/staff/inbox")
    staff.wait_for_selector("#live-status.on")  # sam is online: the customer hears someone joins
    customer = _customer(browser, server)
    _ask_for_a_person(customer, "I returned my headphones, where is the money?")
    staff.locator("#inbox-rows tr[data-id]").first.wait_for()
    staff.locator("#inbox-rows tr[data-id] td.customer a").first.click()
    staff.wait_for_selector("#inbox-panel #customer-label:not(:text('…'))")
    staff.click("#assign")  # to me (the default)
    staff.wait_for_function("document.getElementById('status').textContent === 'human'")
    customer.locator("#log .notice").filter(has_text="sam from our team will answer you here").wait_for()
    staff.select_option("#canned", label="/refund — Refunds reach your card within 5 business days.")
    assert "5 business days" in staff.input_value("#reply-text")
    staff.click("#reply-form button[type=submit]")
    customer.locator("#log li.msg.staff").filter(has_text="5 business days").wait_for()
    staff.fill("#label-input", "refund")
    staff.click("#label-form button[type=submit]")
    staff.locator("#labels .chip").filter(has_text="refund").wait_for()
    staff.fill("#note-text", "Return parcel scanned on Monday; refund issued.")
    staff.click("#note-form button[type=submit]")
    staff.locator("#notes li").filter(has_text="refund issued").wait_for()
    staff.screenshot(path=str(_shots(tmp_path) / "transcript-panel.png"), full_page=True)
    assert_accessible(staff, "transcript with the inbox panel")
    assert customer.locator("#log").filter(has_text="refund issued").count() == 0  # the note stays internal

    staff.click("#resolve")
    card = customer.locator(".desk-card.csat")
    card.wait_for()
    customer.reload()  # a reload (or a dropped socket) asks again until the customer answers
    card.wait_for()
    card.locator("button[aria-label^='4']").click()
    card.locator("textarea").fill("Quick and friendly, thanks Sam")
    customer.screenshot(path=str(_shots(tmp_path) / "csat.png"), full_page=True)
    assert_accessible(customer, "chat with the CSAT prompt")
    card.locator("button[type=submit]").click()
    card.filter(has_text="you rated us 4 out of 5").wait_for()
    assert customer.locator("#connection").text_content() == "Connected · resolved"
    db.expire_all()
    rating = db.scalar(select(CsatRating))
    assert rating is not None and (rating.score, rating.comment, rating.resolved_by_id) == (
        4, "Quick and friendly, thanks Sam", sam.id)  # fmt: skip


def test_operators_set_hours_and_canned_replies_in_the_browser(
    server: str, browser: Any, db: Session
) -> None:
    add_user(db, "olga", "operator")
    page = _login(browser, server, "olga", "/operator/desk")
    page.fill("input[name=timezone]", "Mars/Olympus")
    page.click("#hours-form button[type=submit]")
    page.locator("#hours-error").filter(has_text="unknown time zone").wait_for()
    page.fill("input[name=timezone]", "Europe/Berlin")
    page.check("input[name=days][value='5']")
    page.click("#hours-form button[type=submit]")
    page.locator("#hours-status").filter(has_text="Mon–Sat 09:00–17:00 (Europe/Berlin)").wait_for()
    page.fill("#canned-form input[name=shortcut]", "refund")
    page.fill("#canned-form textarea[name=text]", "Refunds reach your card within 5 business days.")
    page.click("#canned-save")
    page.locator("#canned-rows tr").filter(has_text="/refund").wait_for()
    assert_accessible(page, "operator desk settings")
    db.expire_all()
    assert db.scalar(select(CannedReply.shortcut)) == "refund"
