"""RedisHub: conversation events over Redis pub/sub, so a staff reply reaches any API node's sockets.

One pub/sub connection per node, not per socket: a single reader pattern-subscribes to every
conversation's channel and fans events out in process to the sockets of this node (an
InProcessHub). Idle sockets therefore cost Redis nothing, and Redis ``maxclients`` no longer
bounds how many customers a node can hold. Failures are loud: the reader logs and counts each
lost connection and reconnects, and a failed publish is logged and counted (the staff message is
already stored, so the customer still sees it in the history) instead of failing the request.
The count is the ``switchboard_hub_failures_total{kind=publish|connection}`` metric; the log lines
name the event type and the error class only, never the message text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.chat.hub import ConversationHub, InProcessHub

log = logging.getLogger(__name__)
PREFIX = "sb:hub:"
READY_TIMEOUT_S = 5.0


def channel(conversation_id: str) -> str:
    """The pub/sub channel of one conversation."""
    return f"{PREFIX}{conversation_id}"


class RedisHub(ConversationHub):
    """Same interface as InProcessHub; delivery is best effort, like pub/sub (history is in the DB)."""

    def __init__(self, redis_url: str, on_failure: Callable[[str], None] | None = None) -> None:
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=5, max_connections=64)
        self.local = InProcessHub()
        self.connected = False
        self.failures = 0  # lost reader connections and failed publishes, for logs and health
        self._on_failure = on_failure  # the app's metric, by kind ("publish" or "connection")
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Send ``event`` to every node's subscribers of the conversation (logged, not raised, on failure)."""
        try:
            await self.redis.publish(channel(conversation_id), json.dumps(event, ensure_ascii=False))
        except (RedisError, OSError) as exc:
            self._failed("publish")
            log.error("hub publish of a %s event failed (%s); it is stored, not pushed live",
                      event.get("type"), type(exc).__name__)  # fmt: skip

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Subscribe for the duration of the ``async with`` block (served by this node's one reader)."""
        if self._reader is None or self._reader.done():
            self._ready.clear()
            self._reader = asyncio.create_task(self._read())
        # Events published before the reader listens are not delivered: wait for it (bounded).
        try:
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            log.error("hub reader not connected; live staff events wait for it to reconnect")
        async with self.local.subscribe(conversation_id) as events:
            yield events

    async def _read(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(f"{PREFIX}*")
                self.connected = True
                self._ready.set()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "pmessage":
                        await self._deliver(message)
            except (RedisError, OSError) as exc:
                self.connected = False
                self._failed("connection")
                log.error("hub connection lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(0.5)
            finally:
                await pubsub.aclose()

    def _failed(self, kind: str) -> None:
        self.failures += 1
        if self._on_failure is not None:
            self._on_failure(kind)

    async def _deliver(self, message: dict[str, Any]) -> None:
        name = message["channel"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        try:
            event = json.loads(message["data"])
        except ValueError:
            log.warning("dropping a malformed hub event")
            return
        await self.local.publish(name[len(PREFIX) :], event)

    async def close(self) -> None:
        """Stop the reader and close the connection pool."""
        if self._reader is not None:
            self._reader.cancel()
        await self.redis.aclose()
