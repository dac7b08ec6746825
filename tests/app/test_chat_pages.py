"""The chat page's safe markdown renderer (web/static/markdown.js), run under Node."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from app.config import REPO_ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run the page's JS)")

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    '[x](https://ok.example/"onmouseover="alert(1))',
    "**<b onclick=alert(1)>bold</b>**",
    "`<iframe src=//evil>`",
    "```\n<svg onload=alert(1)>\n```",
    "- <a href=javascript:alert(1)>x</a>",
    "&lt;script&gt; stays text",
]


def _render(texts: list[str]) -> list[str]:
    script = (
        "const md = require(process.argv[1]);"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(input.map(md.render)));"
    )
    out = subprocess.run(
        [str(NODE), "-e", script, str(REPO_ROOT / "web/static/markdown.js")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return list(json.loads(out.stdout))


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
    assert html[4] == "<pre><code>x = 1</code></pre>"


def test_no_html_or_script_urls_get_through() -> None:
    allowed_tags = {"p", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "br"}

    for attack, html in zip(ATTACKS, _render(ATTACKS), strict=True):
        tags = set(re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html))
        assert tags <= allowed_tags, (attack, html)
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert all(h.startswith(("http://", "https://")) for h in hrefs), (attack, html)
        for attrs in re.findall(r"<a( [^>]*)>", html):
            # Values hold no raw quote (escaped to &quot;), so each name="value" pair is one match.
            assert re.sub(r' (href|rel|target)="[^"]*"', "", attrs) == "", html
    assert _render(["&lt;b&gt;"]) == ["<p>&amp;lt;b&amp;gt;</p>"]  # entities are not decoded back into tags
