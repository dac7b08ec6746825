"""InProcessHub: events reach every subscriber of their conversation, and only them."""

from __future__ import annotations

import asyncio

from app.chat.hub import InProcessHub


async def test_publish_reaches_subscribers_of_that_conversation_only() -> None:
    hub = InProcessHub()
    async with hub.subscribe("a") as a1, hub.subscribe("a") as a2, hub.subscribe("b") as b:
        await hub.publish("a", {"type": "staff_message", "text": "hi"})
        assert await anext(a1) == await anext(a2) == {"type": "staff_message", "text": "hi"}
        try:
            await asyncio.wait_for(anext(b), 0.05)
            raise AssertionError("b received a's event")
        except TimeoutError:
            pass
    async with hub.subscribe("a") as again:  # the first two subscriptions are gone: only this one hears
        await hub.publish("a", {"type": "status", "n": 1})
        assert await anext(again) == {"type": "status", "n": 1}


async def test_slow_subscriber_keeps_the_newest_events() -> None:
    hub = InProcessHub(max_pending=2)
    async with hub.subscribe("a") as events:
        for i in range(5):
            await hub.publish("a", {"type": "status", "n": i})
        assert [(await anext(events))["n"] for _ in range(2)] == [3, 4]
