"""In a real browser: staff log in, search, take over and reply (the customer sees it), hand back;
an operator changes the sales strategy and the next sales reply records it; markup stays inert."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Message
from tests.app.chat_support import KeywordRouter, make_adapters, make_engine, settings_for
from tests.app.console_support import PASSWORD, add_conversation, add_user
from tests.browser.browser_support import assert_accessible

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
# Screenshots go to a temp folder unless asked for (so a test run leaves the tree clean):
# SWITCHBOARD_SCREENSHOT_DIR=docs/screenshots pytest tests/browser/test_staff_browser.py
SHOTS_ENV = "SWITCHBOARD_SCREENSHOT_DIR"
EVIL = 'hostile <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
TIMEOUT_MS = 90_000  # a 160-token tiny-model reply took 60 s with 8 test runs on 2 cores

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def server(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Iterator[str]:
    import uvicorn

    from app.main import create_app

    engine = make_engine(tokenizer, make_adapters(tmp_path / "adapters"))
    app = create_app(settings_for(pg_url, messages_per_minute=1000), engine=engine, router=KeywordRouter())
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture()
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


POLLED = """() => {
  const at = "2026-12-02T02:35:10.123456+00:00";
  const reply = renderMessage({id: 1, role: "assistant", status: "done", text: "x", created_at: at,
    ttft_ms: 87.4, latency_ms: 500, decoding: {}});
  const customer = renderMessage({id: 2, role: "customer", status: "received", text: "y", created_at: at});
  return {reply: reply.textContent, customer_badges: customer.querySelectorAll(".badge").length};
}"""


def _login(browser: Any, base: str, username: str, target: str) -> Any:
    # bypass_csp: the test's own waits evaluate JS, and markup must stay inert even without the CSP.
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base + target)
    assert "/login" in page.url  # sent to the login form first
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + target.split("?")[0])))
    return page


def _customer_says(page: Any, text: str) -> None:
    done_before = page.locator("#log li.msg.assistant:not(.streaming)").count()
    page.fill("#input", text)
    page.click("#send")
    page.wait_for_function(
        "n => document.querySelectorAll('#log li.msg.assistant:not(.streaming)').length > n", arg=done_before
    )


def _assert_inert(page: Any) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0


def test_staff_take_over_and_operator_change_in_the_browser(
    server: str, browser: Any, db: Session, tmp_path: Path
) -> None:
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    add_user(db, "sam", "staff")
    add_user(db, "olga", "operator")
    hostile = add_conversation(db, [("customer", EVIL), ("assistant", EVIL)], intent="general")

    customer = browser.new_context().new_page()
    customer.set_default_timeout(TIMEOUT_MS)
    customer.goto(server + "/")
    _customer_says(customer, "My laptop shows a zorbleflux error")
    customer.click("#handoff")

    staff = _login(browser, server, "sam", "/staff")
    assert_accessible(staff, "staff conversation list")
    staff.goto(server + "/staff/inbox")
    staff.locator("#transcript, main").first.wait_for()
    assert_accessible(staff, "staff inbox")
    staff.goto(server + "/staff")
    staff.fill("input[name=q]", "zorbleflux")
    staff.click("#filters button[type=submit]")
    rows = staff.locator("#rows tr[data-id]")
    rows.first.wait_for()
    assert rows.count() == 1
    staff.locator("#rows tr[data-id] a").first.click()
    staff.wait_for_selector("#transcript")
    assert staff.locator("#status").text_content() == "pending"
    assert "tech_support" in staff.locator(".role-assistant .meta").first.text_content()
    assert_accessible(staff, "staff transcript")
    staff.click("#take-over")
    staff.wait_for_function("document.getElementById('status').textContent === 'human'")
    staff.locator("#messages li.event").filter(has_text="sam took the conversation over").wait_for()
    assert staff.locator("#messages li.event").first.text_content().startswith("20")  # its time first
    staff.fill("#reply-text", "Hi, this is Sam from the team. Let me help.")
    staff.click("#reply-form button[type=submit]")
    staff.locator(".role-staff .text").filter(has_text="this is Sam").wait_for()
    customer.locator("#log li.msg.staff").filter(has_text="this is Sam").wait_for()
    shots.mkdir(parents=True, exist_ok=True)
    staff.screenshot(path=str(shots / "staff.png"), full_page=True)
    staff.click("#hand-back")
    staff.wait_for_function("document.getElementById('status').textContent === 'active'")
    staff.locator("#messages li.event").filter(has_text="handed the conversation back").wait_for()
    # A polled message reads like a server-rendered one: first-token time, UTC time, no "received".
    polled = staff.evaluate(POLLED)
    assert "first token 87 ms" in polled["reply"] and "2026-12-02 02:35:10 UTC" in polled["reply"]
    assert polled["customer_badges"] == 0

    # Hostile markup in stored messages is shown as text, on the list and on the transcript.
    staff.goto(server + "/staff?q=hostile")
    staff.locator("#rows tr[data-id]").first.wait_for()
    assert "<script>" in staff.locator("#rows .preview").first.text_content()
    staff.wait_for_timeout(3500)  # one live refresh re-renders the rows from JSON
    _assert_inert(staff)
    assert staff.locator("#rows .thumb svg").count() == 2 * staff.locator("#rows tr[data-id]").count()
    staff.goto(f"{server}/staff/conversations/{hostile.id}")
    assert "<img src=x" in staff.locator(".msg .text").first.text_content()
    staff.wait_for_timeout(3500)
    _assert_inert(staff)

    operator = _login(browser, server, "olga", "/operator")
    operator.click("#intent-tabs button[data-intent=sales]")
    operator.select_option("select[name=strategy]", "beam")
    operator.fill("input[name=num_beams]", "1")
    operator.click("#save")
    error = operator.locator('[data-error-for="num_beams"]')
    operator.wait_for_function("el => el.textContent.includes('num_beams >= 2')", arg=error.element_handle())
    operator.fill("input[name=num_beams]", "3")
    operator.fill("input[name=max_new_tokens]", "10")
    operator.fill("input[name=comment]", "beam search for sales")
    operator.click("#try")
    operator.wait_for_function("document.querySelector('#try-result .meta').textContent.includes('beam')")
    operator.click("#save")
    operator.locator("#save-status").filter(has_text="v1 is live").wait_for()
    assert operator.locator("#history tr").count() == 1
    operator.locator("#stats tr").first.wait_for()
    operator.screenshot(path=str(shots / "operator.png"), full_page=True)

    _customer_says(customer, "What is the price of the Premium plan?")
    db.expire_all()
    reply = db.scalars(
        select(Message)
        .where(Message.role == "assistant", Message.intent == "sales")
        .order_by(Message.id.desc())
    ).first()
    assert reply is not None and reply.decoding is not None
    assert reply.decoding["strategy"] == "beam" and reply.decoding["num_beams"] == 3
    assert reply.decoding_version == 1
