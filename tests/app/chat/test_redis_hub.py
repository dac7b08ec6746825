"""RedisHub: an event published on one API node reaches a subscriber on another (real Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from app.chat.redis_hub import RedisHub
from tests.app.scaleout_support import private_redis


@pytest.fixture()
def redis_url() -> Iterator[str]:
    with private_redis() as (url, _):
        yield url


async def test_a_staff_reply_published_on_one_node_reaches_the_other(redis_url: str) -> None:
    node_a, node_b = RedisHub(redis_url), RedisHub(redis_url)
    try:
        async with node_b.subscribe("conv-1") as events, node_b.subscribe("conv-2") as other:
            await asyncio.sleep(0.1)  # pub/sub delivers only to subscriptions already in place
            event = {
                "type": "staff_message",
                "text": "Hi, this is Ana from support \U0001f44b",
                "message_id": 7,
            }
            await node_a.publish("conv-1", event)
            assert await asyncio.wait_for(anext(events), 10) == event
            await node_a.publish("conv-2", {"type": "status", "status": "pending"})
            assert (await asyncio.wait_for(anext(other), 10))["status"] == "pending"
            with pytest.raises(TimeoutError):  # conv-1's subscriber did not get conv-2's event
                await asyncio.wait_for(anext(events), 0.5)
    finally:
        await node_a.close()
        await node_b.close()


async def test_idle_sockets_share_one_pubsub_connection(redis_url: str) -> None:
    import contextlib

    import redis

    node = RedisHub(redis_url)
    probe = redis.Redis.from_url(redis_url)
    try:
        async with contextlib.AsyncExitStack() as stack:
            streams = [await stack.enter_async_context(node.subscribe(f"conv-{i}")) for i in range(200)]
            pubsub_clients = [c for c in probe.client_list() if int(c.get("psub", 0)) or int(c.get("sub", 0))]
            assert len(pubsub_clients) == 1  # was one connection per socket: 200
            await node.publish("conv-123", {"type": "status", "status": "human"})
            assert (await asyncio.wait_for(anext(streams[123]), 10))["status"] == "human"
    finally:
        probe.close()
        await node.close()


async def test_a_hub_that_lost_redis_says_so_and_comes_back(redis_url: str) -> None:
    import redis

    kinds: list[str] = []
    node = RedisHub(redis_url, on_failure=kinds.append)
    probe = redis.Redis.from_url(redis_url)
    try:
        async with node.subscribe("conv-1") as events:
            assert node.connected
            probe.client_kill_filter(_type="pubsub")  # the node's subscriber connection dies
            for _ in range(250):  # bounded: up to ~5 s for the reader to notice and reconnect
                if node.failures and node.connected:
                    break
                await asyncio.sleep(0.02)
            assert node.failures >= 1 and node.connected
            assert kinds and set(kinds) == {"connection"}  # what the app's metric is fed
            await asyncio.sleep(0.1)
            await node.publish("conv-1", {"type": "status", "status": "pending"})
            assert (await asyncio.wait_for(anext(events), 10))["status"] == "pending"
    finally:
        probe.close()
        await node.close()


async def test_a_push_that_fails_is_counted_not_raised() -> None:
    from tests.app.scaleout_support import free_port

    node = RedisHub(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens: Redis is down
    try:
        await node.publish("conv-1", {"type": "staff_message", "text": "stored already"})
        assert node.failures == 1 and not node.connected
    finally:
        await node.close()


def test_redis_down_during_a_staff_reply_stores_it_once_and_answers_200(pg_url: str, db: Any) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from app.db.models import Message
    from tests.app.console_support import add_conversation, add_user, console_app, sign_in
    from tests.app.scaleout_support import free_port

    app = console_app(pg_url)
    app.state.hub = RedisHub(f"redis://127.0.0.1:{free_port()}/0")  # the hub's Redis is down
    client = TestClient(app)
    staff = add_user(db, "ana")
    headers = sign_in(client, staff)
    conv = add_conversation(db, [("customer", "a person please")], status="pending")
    assert client.post(f"/api/staff/conversations/{conv.id}/take-over", headers=headers).status_code == 200
    sent = client.post(
        f"/api/staff/conversations/{conv.id}/reply", json={"text": "Hi, Ana here"}, headers=headers
    )
    assert sent.status_code == 200  # was: committed, then 500, so staff sent it again
    db.expire_all()
    rows = db.scalars(
        select(Message).where(Message.conversation_id == conv.id, Message.role == "staff")
    ).all()
    assert [r.text for r in rows] == ["Hi, Ana here"]


def test_hub_failures_are_a_metric_and_logged_without_the_message_text(
    pg_url: str, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from fastapi.testclient import TestClient

    from tests.app.console_support import add_conversation, add_user, console_app, sign_in
    from tests.app.scaleout_support import free_port

    # The hub the app builds itself from its settings, on a Redis that is down.
    client = TestClient(console_app(pg_url, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    headers = sign_in(client, add_user(db, "ana"))
    conv = add_conversation(db, [("customer", "a person please")], status="pending")
    secret = "your new card ends in 4242, Ana here"
    base = f"/api/staff/conversations/{conv.id}"
    with caplog.at_level(logging.ERROR, logger="app.chat.redis_hub"):
        assert client.post(f"{base}/take-over", headers=headers).status_code == 200
        sent = client.post(f"{base}/reply", json={"text": secret}, headers=headers)
    assert sent.status_code == 200
    client.app.state.engine = None  # type: ignore[attr-defined]  # no lifespan ran: no engine here
    metrics = client.get("/metrics").text
    hub_lines = [r.getMessage() for r in caplog.records if r.name == "app.chat.redis_hub"]
    # The status change, the inbox's notice of it and the staff reply: each failed publish counted once.
    assert len(hub_lines) == 3 and any("staff_message" in line for line in hub_lines)
    assert f'switchboard_hub_failures_total{{kind="publish"}} {len(hub_lines)}.0' in metrics
    assert all(secret not in line and "4242" not in line for line in hub_lines)
