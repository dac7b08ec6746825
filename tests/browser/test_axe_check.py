"""The axe check the browser tests rely on does fail on a page with serious violations."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.browser_support import ARGS, CHROMIUM, assert_accessible

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def test_the_check_catches_what_it_should() -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_content('<!doctype html><html lang="en"><title>ok</title><main><button>Send</button></main>')
        assert_accessible(page, "a plain page")
        page.set_content("<!doctype html><title>bad</title><button></button><p style='color:#ccc'>faint</p>")
        with pytest.raises(AssertionError, match="button-name") as caught:
            assert_accessible(page, "a bad page")
        assert "color-contrast" in str(caught.value)
        browser.close()
