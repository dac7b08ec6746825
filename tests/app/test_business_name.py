"""The business name is one setting: the chat page, its staff label and article pages use it, and no
template or script names the demo store."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import REPO_ROOT
from app.knowledge.entries import EntryData
from app.knowledge.store import add_entry
from tests.app.console_support import console_app


def test_pages_use_the_setting(pg_url: str, db: Session) -> None:
    client = TestClient(console_app(pg_url, business_name="Acme Audio"))
    page = client.get("/")
    assert "<title>Chat with Acme Audio</title>" in page.text and 'data-business="Acme Audio"' in page.text
    assert "Voltline" not in page.text
    add_entry(db, EntryData("policy.returns", "policy", "Returns", "30 days."), "olga")
    article = client.get("/kb/policy.returns")
    assert "Returns · Acme Audio" in article.text and "Voltline" not in article.text


def test_no_template_or_script_hard_codes_the_store() -> None:
    web = REPO_ROOT / "web"
    named = [
        p.name
        for p in [*web.glob("templates/*.html"), *web.glob("static/*.js")]
        if "Voltline" in p.read_text()
    ]
    assert named == []
