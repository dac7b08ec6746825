"""In Chromium: the chat page's whole markdown pipeline (vendored markdown-it, then DOMPurify)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import REPO_ROOT
from tests.app.markdown_cases import ATTACKS, assert_safe, flat
from tests.browser.browser_support import ARGS, CHROMIUM

STATIC = REPO_ROOT / "web" / "static"
# The order chat.html loads them in.
SCRIPTS = ("vendor/markdown-it/markdown-it.umd.min.js", "vendor/dompurify/purify.min.js", "markdown.js")

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page()
        tab.set_content("<!doctype html><title>md</title><ol id='log'></ol>")
        for script in SCRIPTS:
            tab.add_script_tag(path=str(STATIC / script))
        yield tab
        browser.close()


def _render(page: Any, texts: list[str]) -> list[str]:
    return [flat(h) for h in page.evaluate("ts => ts.map((t) => window.SafeMarkdown.render(t))", texts)]


def test_both_libraries_load_and_render(page: Any) -> None:
    assert page.evaluate("window.DOMPurify.version") == "3.5.0"
    assert page.evaluate("typeof window.markdownit") == "function"
    (html,) = _render(
        page, ["**Plus** costs $4.99:\n1. pick it\n- then pay\n2. done [help](https://v.example/h)"]
    )
    assert html.startswith("<p><strong>Plus</strong> costs $4.99:</p><ol><li>pick it</li></ol>")
    assert '<ol start="2"><li>done <a href="https://v.example/h" rel="noopener noreferrer nofollow"' in html


def test_attacks_stay_inert_in_the_dom(page: Any) -> None:
    for attack, html in zip(ATTACKS, _render(page, ATTACKS), strict=True):
        assert_safe(attack, html)
    # Put into the page as chat.js does: nothing runs, nothing is fetched.
    page.evaluate(
        "ts => ts.forEach((t) => { const li = document.createElement('li');"
        " li.innerHTML = window.SafeMarkdown.render(t); document.getElementById('log').append(li); })",
        ATTACKS,
    )
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#log img, #log script, #log iframe, #log svg, #log style").count() == 0


def test_without_dompurify_a_reply_is_plain_text(page: Any) -> None:
    shown = page.evaluate(
        "t => { const keep = window.DOMPurify; window.DOMPurify = undefined;"
        " try { return window.SafeMarkdown.render(t); } finally { window.DOMPurify = keep; } }",
        "<b>x</b> **y**",
    )
    assert shown == "<p>&lt;b&gt;x&lt;/b&gt; **y**</p>"
