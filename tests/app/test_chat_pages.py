"""The chat page's markdown renderer (web/static/markdown.js): its markdown-it stage, run under Node.

The whole pipeline (markdown-it, then DOMPurify) runs in Chromium in tests/browser/test_markdown_browser.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from app.config import REPO_ROOT
from tests.app.markdown_cases import ATTACKS, assert_safe, flat

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run the page's JS)")


def _render(texts: list[str]) -> list[str]:
    script = (
        "const md = require(process.argv[1]);"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(input.map((t) => md.toHtml(t))));"
    )
    out = subprocess.run(
        [str(NODE), "-e", script, str(REPO_ROOT / "web/static/markdown.js")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [flat(html) for html in json.loads(out.stdout)]


def test_the_safe_subset_renders() -> None:
    html = _render(
        [
            "**bold** and *it* and _it2_ and `code`",
            "- one\n- two",
            "1. first\n2. second",
            "see [docs](https://voltline.example/help)",
            "```\nx = 1\n```",
        ]
    )
    assert html[0] == "<p><strong>bold</strong> and <em>it</em> and <em>it2</em> and <code>code</code></p>"
    assert html[1] == "<ul><li>one</li><li>two</li></ul>"
    assert html[2] == "<ol><li>first</li><li>second</li></ol>"
    assert (
        'href="https://voltline.example/help"' in html[3] and 'rel="noopener noreferrer nofollow"' in html[3]
    )
    assert html[4] == "<pre><code>x = 1\n</code></pre>"


def test_no_html_or_script_urls_get_through() -> None:
    for attack, html in zip(ATTACKS, _render(ATTACKS), strict=True):
        assert_safe(attack, html)
    # An entity shows its character (CommonMark), as escaped text: never decoded back into a tag.
    assert _render(["&lt;b&gt; &#60;i&#62;"]) == ["<p>&lt;b&gt; &lt;i&gt;</p>"]


def test_what_the_hand_written_renderer_got_wrong() -> None:
    split, crlf, nul, starred = _render(
        [
            "1. Back up\n- keep the key\n2. Restore",
            "Hi.\r\n\r\nStep one\r\nStep two",
            "a\x00b",
            "[x](https://v.example/a**b**c)",
        ]
    )
    # The list goes on at 2 after the bullet, instead of starting again at 1.
    assert (
        split == '<ol><li>Back up</li></ol><ul><li>keep the key</li></ul><ol start="2"><li>Restore</li></ol>'
    )
    assert crlf == "<p>Hi.</p><p>Step one<br>Step two</p>"  # one paragraph break, no empty gaps
    assert nul == "<p>ab</p>"  # no "undefined" where a NUL was
    assert starred.startswith('<p><a href="https://v.example/a**b**c"') and "<strong>" not in starred
