"""In a real browser: a shop's page on ANOTHER origin (a second local port) carries the one-line
widget; the launcher opens the chat in an iframe in the site's name, greeting and colours, a message
gets a reply; a page on a disallowed origin gets no launcher, cannot frame the chat (CSP
frame-ancestors) and its websocket is closed with the reason."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation, Message
from app.widget.sites import SiteSettings, save_site
from tests.app.chat_support import KeywordRouter, live_server, make_adapters, make_engine, settings_for
from tests.browser.browser_support import ARGS, CHROMIUM

TIMEOUT_MS = 60_000
SHOTS_ENV = "SWITCHBOARD_SCREENSHOT_DIR"  # =docs/screenshots refreshes the README's; else a temp folder
GREETING = "Hi, Acme Audio here! Ask us anything."

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def chat_host(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Iterator[str]:
    from app.main import create_app

    engine = make_engine(tokenizer, make_adapters(tmp_path / "adapters"))
    app = create_app(settings_for(pg_url, messages_per_minute=1000), engine=engine, router=KeywordRouter())
    with live_server(app) as url:
        yield url


@pytest.fixture()
def shop_port(chat_host: str) -> Iterator[int]:
    """The shop's own web server: a page whose only Switchboard part is the one script line."""
    page = (
        "<!doctype html><html><head><title>Acme shop</title></head><body><h1>Acme shop</h1>"
        f'<script src="{chat_host}/widget.js" data-site="acme" async></script></body></html>'
    ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture()
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _allow(db: Session, origin: str) -> None:
    site = {"key": "acme", "business_name": "Acme Audio", "greeting": GREETING, "color": "#aa2200",
            "text_color": "#ffffff", "position": "left", "allowed_origins": [origin]}  # fmt: skip
    save_site(db, SiteSettings.model_validate(site), None)


def _tab(browser: Any) -> Any:
    # No bypass_csp: the chat host's CSP (frame-ancestors) must be enforced as for real visitors.
    tab = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    return tab


def test_the_widget_on_another_origin_chats(
    browser: Any, chat_host: str, shop_port: int, db: Session, tmp_path: Path
) -> None:
    shop = f"http://127.0.0.1:{shop_port}"
    assert shop != chat_host
    _allow(db, shop)
    page = _tab(browser)
    page.goto(shop + "/")
    launcher = page.locator("#switchboard-widget button.launcher")  # CSS reaches into the open shadow root
    launcher.wait_for()
    assert launcher.inner_text() == "Chat with Acme Audio"
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(170, 34, 0)"
    assert launcher.evaluate("b => b.getBoundingClientRect().left") < 100  # position: left
    assert page.locator("#switchboard-widget iframe").count() == 0  # no socket before the visitor asks
    launcher.click()
    chat = page.frame_locator("#switchboard-widget iframe")
    chat.locator("#connection", has_text="Connected").wait_for()
    assert chat.locator(".topbar .brand").inner_text().startswith("Acme Audio")
    assert chat.locator("#log li.msg.greeting .body").inner_text() == GREETING
    chat.locator("#input").fill("Do you sell the Plus plan?")
    chat.locator("#input").press("Enter")
    chat.locator("#log li.msg.assistant:not(.streaming)").first.wait_for()
    conversation = db.scalars(select(Conversation).where(Conversation.site_key == "acme")).one()
    rows = list(
        db.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id))
    )
    assert [(m.role, m.status) for m in rows] == [("customer", "received"), ("assistant", "done")]
    assert rows[1].text and chat.locator("#log li.msg.assistant .body").inner_text().strip()
    page.screenshot(path=str(Path(os.environ.get(SHOTS_ENV) or tmp_path) / "widget.png"))
    chat.locator("#widget-close").click()  # the frame asks the page, by postMessage, to fold it away
    page.wait_for_function(
        "() => document.querySelector('#switchboard-widget').shadowRoot.querySelector('iframe').hidden"
    )
    assert launcher.get_attribute("aria-expanded") == "false"


def test_a_disallowed_origin_is_refused(browser: Any, chat_host: str, shop_port: int, db: Session) -> None:
    _allow(db, f"http://127.0.0.1:{shop_port}")
    page = _tab(browser)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # localhost is the same machine but another origin than the allowed 127.0.0.1.
    with page.expect_console_message(lambda m: "Switchboard widget" in m.text):
        page.goto(f"http://localhost:{shop_port}/")
    assert page.locator("#switchboard-widget").count() == 0
    assert any("for site acme not shown" in e for e in errors)
    closed = page.evaluate(
        """url => new Promise(done => {
             const ws = new WebSocket(url);
             ws.onclose = e => done({code: e.code, reason: e.reason});
           })""",
        chat_host.replace("http", "ws") + "/ws/chat?site=acme",
    )
    assert closed == {
        "code": 1008,
        "reason": f"origin http://localhost:{shop_port} is not allowed for site 'acme'",
    }
    loaded = page.evaluate(
        """url => new Promise(done => {
             const frame = document.createElement('iframe');
             frame.onload = () => done(true);
             frame.src = url;
             document.body.appendChild(frame);
           })""",
        chat_host + "/embed/acme",
    )
    assert loaded and len(page.frames) == 2
    framed = page.frames[1]
    assert framed.locator("#log").count() == 0, framed.url  # the browser showed no chat in the frame
    assert any("frame-ancestors" in e for e in errors)
    assert db.scalars(select(Conversation)).all() == []
