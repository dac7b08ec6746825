"""In a real browser: the operator console explains each parameter, asks before risky values go live,
restores the built-in default, labels its chart axes and passes the axe check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.decoding.policy import DEFAULT_POLICIES
from app.decoding.store import history, live_policy
from tests.app.chat_support import KeywordRouter, live_server, make_engine, settings_for
from tests.app.console_support import add_user
from tests.browser.browser_support import ARGS, CHROMIUM, assert_accessible, signed_in_page

TIMEOUT_MS = 30_000

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture()
def console(pg_url: str, db: Session, tokenizer: Any, tmp_path: Path) -> Iterator[Any]:
    from app.main import create_app

    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, {}), router=KeywordRouter())
    with live_server(app) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = signed_in_page(browser, url, app.state.settings, add_user(db, "olga", "operator"))
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url + "/operator")
        page.locator("#history tr").first.wait_for()
        yield page
        browser.close()


def test_every_parameter_has_help_text(console: Any) -> None:
    fields = console.locator("#policy-form input[type=number], #policy-form select[name=strategy]")
    assert fields.count() == 11
    for i in range(fields.count()):
        help_id = fields.nth(i).get_attribute("aria-describedby")
        assert help_id and len(console.locator("#" + help_id).text_content().strip()) > 30, help_id


def test_a_risky_value_is_confirmed_before_it_goes_live(console: Any, db: Session) -> None:
    console.click("#intent-tabs button[data-intent=sales]")
    console.select_option("select[name=strategy]", "sampling")
    console.fill("input[name=temperature]", "1.8")
    warnings: list[str] = []
    console.once("dialog", lambda d: (warnings.append(d.message), d.dismiss()))
    console.click("#save")
    console.locator("#save-status").filter(has_text="not saved").wait_for()
    assert "temperature 1.8" in warnings[0] and "every sales customer" in warnings[0]
    assert history(db, "sales", 10) == []  # nothing went live
    console.once("dialog", lambda d: d.accept())
    console.click("#save")
    console.locator("#save-status").filter(has_text="v1 is live").wait_for()
    db.expire_all()
    assert live_policy(db, "sales")[0].temperature == 1.8

    console.once("dialog", lambda d: d.accept())
    console.click("#restore-default")
    console.locator("#save-status").filter(has_text="rolled back to v0: v2 is live").wait_for()
    db.expire_all()
    policy, version = live_policy(db, "sales")
    assert version == 2 and policy == DEFAULT_POLICIES["sales"]
    assert console.input_value("input[name=temperature]") == str(DEFAULT_POLICIES["sales"].temperature)


def test_charts_label_their_axes_and_the_page_passes_axe(console: Any) -> None:
    console.locator("#chart-p95 text.axis-title.y").wait_for(state="attached")
    for chart, y_title in (("requests", "requests"), ("p95", "ms"), ("tps", "tokens/s")):
        svg = console.locator(f"#chart-{chart}")
        assert svg.locator("text.axis-title.y").text_content() == y_title
        assert svg.locator("text.axis-title.x").text_content() == "time"
        assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-labelledby")
    console.select_option("select[name=strategy]", "beam")  # greys out the sampling fields
    assert_accessible(console, "operator console")
