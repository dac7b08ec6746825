"""A reply to a conversation that came through a widget site speaks for that site's business;
other conversations speak for the configured one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.chat.conversations import create_conversation
from app.chat.planning import ReplyPlanner
from app.chat.turns import prepare_reply, store_message
from app.db.session import session_factory
from app.widget.sites import SiteSettings, save_site
from tests.app.chat_support import KeywordRouter


def test_site_conversations_use_the_sites_name(pg_url: str, db: Session) -> None:
    save_site(db, SiteSettings(key="acme", business_name="Acme Audio"), None)
    sessions = session_factory(pg_url)
    planner = ReplyPlanner(KeywordRouter(), ["sales"], "Northwind")
    systems = []
    for site_key in ("acme", None, "gone"):
        cid = create_conversation(db, "web", site_key).id
        stored = store_message(sessions, cid, "What is the price of the Plus plan?", None, "web")
        prepared = prepare_reply(
            sessions, planner, cid, stored, "What is the price of the Plus plan?", f"job-{cid}"
        )
        assert prepared.plan is not None and prepared.plan.intent == "sales"
        systems.append(prepared.messages[0]["content"])
    assert systems[0].startswith("You are Acme Audio's sales assistant")
    assert systems[1].startswith("You are Northwind's sales assistant")
    assert systems[2].startswith("You are Northwind's sales assistant")  # a deleted site: the default name
    assert not any("Voltline" in s for s in systems)
