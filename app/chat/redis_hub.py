"""RedisHub: conversation events over Redis pub/sub, so a staff reply reaches any API node's sockets."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.chat.hub import ConversationHub

log = logging.getLogger(__name__)


def channel(conversation_id: str) -> str:
    """The pub/sub channel of one conversation."""
    return f"sb:hub:{conversation_id}"


class RedisHub(ConversationHub):
    """Same interface as InProcessHub; delivery is best effort, like pub/sub (history is in the DB)."""

    def __init__(self, redis_url: str) -> None:
        # One pub/sub connection per open socket: the pool must be as large as the sockets served.
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=5, max_connections=8192)

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Send ``event`` to every node's subscribers of the conversation."""
        await self.redis.publish(channel(conversation_id), json.dumps(event, ensure_ascii=False))

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Subscribe for the duration of the ``async with`` block."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel(conversation_id))

        async def stream() -> AsyncIterator[dict[str, Any]]:
            lost = False
            while True:
                try:
                    if lost:  # Redis restarted: subscribe again (events published meanwhile are lost)
                        await pubsub.subscribe(channel(conversation_id))
                        lost = False
                    message = await pubsub.get_message(timeout=5.0)
                except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                    log.warning("hub connection lost, resubscribing: %s", exc)
                    lost = True
                    await asyncio.sleep(0.5)
                    continue
                if message is None or message.get("type") != "message":
                    continue
                try:
                    yield json.loads(message["data"])
                except ValueError:
                    log.warning("dropping a malformed hub event on %s", channel(conversation_id))

        try:
            yield stream()
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()
