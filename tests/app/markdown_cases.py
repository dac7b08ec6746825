"""Markup a reply may carry, and what the chat page's renderer may turn it into (Node and Chromium)."""

from __future__ import annotations

import re

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
    "![pixel](https://tracker.example/p.gif)",
    "<style>body{display:none}</style>",
    "[x](https://ok.example/a)<a href=x onclick=alert(1)>y</a>",
]
ALLOWED_TAGS = set(
    "p br strong em s code pre ul ol li a blockquote h1 h2 h3 h4 h5 h6 hr table thead tbody tr th td".split()
)
ALLOWED_ATTRS = {"a": {"href", "rel", "target"}, "ol": {"start"}}


def assert_safe(attack: str, html: str) -> None:
    """Only allowed tags and attributes, and only absolute http(s) links, in ``html``."""
    for tag, attrs in re.findall(r"<\s*([a-zA-Z0-9]+)([^>]*)>", html):
        assert tag.lower() in ALLOWED_TAGS, (attack, html)
        # Values hold no raw quote (escaped to &quot; or %22), so each name="value" is one match.
        names = set(re.findall(r'\s([a-zA-Z-]+)="[^"]*"', attrs))
        assert names <= ALLOWED_ATTRS.get(tag.lower(), set()), (attack, html)
        assert re.sub(r'\s[a-zA-Z-]+="[^"]*"', "", attrs).strip() == "", (attack, html)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("http://", "https://")) for h in hrefs), (attack, html)


def flat(html: str) -> str:
    """markdown-it's newlines between block tags left out (they render as nothing)."""
    return re.sub(r">\n", ">", html).strip()
