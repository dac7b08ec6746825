"""The inbox's live feed: hub events as server-sent events, on one node and across nodes (real Redis),
with each heartbeat marking the staff member online in the shared database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.api.inbox_events import inbox_stream
from app.chat.hub import InProcessHub
from app.chat.redis_hub import RedisHub
from app.db.models import StaffUser
from app.db.session import session_factory
from app.inbox.events import TOPIC, inbox_event
from app.inbox.presence import online_staff
from tests.app.console_support import add_user
from tests.app.scaleout_support import private_redis


@pytest.fixture()
def private_redis_url() -> Iterator[str]:
    with private_redis() as (url, _):
        yield url


async def _next_event(stream: AsyncIterator[str]) -> dict[str, Any]:
    while True:
        chunk = await asyncio.wait_for(anext(stream), 10)
        if chunk.startswith("event: inbox"):
            return dict(json.loads(chunk.split("data: ", 1)[1]))


async def test_events_stream_and_heartbeats_keep_the_staff_member_online(pg_url: str, db: Session) -> None:
    sam = add_user(db, "sam")
    hub = InProcessHub()
    stream = inbox_stream(hub, session_factory(pg_url), sam.id, heartbeat_s=0.05)
    try:
        assert (await anext(stream)).startswith("retry: 3000")
        assert [u.username for u in online_staff(db)] == ["sam"]  # seen on connect
        seen = db.get(StaffUser, sam.id).last_seen_at  # type: ignore[union-attr]
        assert await asyncio.wait_for(anext(stream), 5) == ": ping\n\n"  # idle: a heartbeat comment
        await hub.publish(TOPIC, inbox_event("handoff", "c" * 32, customer="Web visitor CCCCCC"))
        event = await _next_event(stream)
        assert (event["kind"], event["customer"]) == ("handoff", "Web visitor CCCCCC")
        await asyncio.sleep(0.1)
        await anext(stream)  # a heartbeat after the wait touches the row again
        db.expire_all()
        assert db.get(StaffUser, sam.id).last_seen_at > seen  # type: ignore[union-attr,operator]
        await hub.publish("d" * 32, {"type": "staff_message", "text": "not for the inbox"})
        await hub.publish(TOPIC, inbox_event("message", "e" * 32))
        assert (await _next_event(stream))["conversation_id"] == "e" * 32  # conversation topics stay out
    finally:
        await stream.aclose()


async def test_a_handoff_on_one_node_reaches_staff_on_another(
    pg_url: str, db: Session, private_redis_url: str
) -> None:
    sam = add_user(db, "sam")
    node_a, node_b = RedisHub(private_redis_url), RedisHub(private_redis_url)
    stream = inbox_stream(node_b, session_factory(pg_url), sam.id)
    try:
        await anext(stream)  # subscribed on node B
        await asyncio.sleep(0.1)
        await node_a.publish(TOPIC, inbox_event("handoff", "f" * 32, customer="Web visitor FFFFFF"))
        assert (await _next_event(stream))["conversation_id"] == "f" * 32
    finally:
        await stream.aclose()
        await node_a.close()
        await node_b.close()


def test_unknown_event_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        inbox_event("gossip", "a" * 32)
