"""Conversation events (staff replies, status changes) fanned out to the customers' open sockets."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class ConversationHub(ABC):
    """Publish an event to a conversation; every subscriber of that conversation receives it."""

    @abstractmethod
    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` (a JSON-ready dict with a 'type') to the conversation's subscribers."""

    @abstractmethod
    def subscribe(self, conversation_id: str) -> Any:
        """Async context manager yielding an async iterator of the conversation's events."""


class InProcessHub(ConversationHub):
    """One process: a queue per subscriber. A multi-process deployment uses a Redis variant."""

    def __init__(self, max_pending: int = 256) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._max_pending = max_pending

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Deliver to every subscriber; a subscriber too slow to keep up loses the oldest events."""
        for queue in list(self._subscribers.get(conversation_id, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, conversation_id: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Subscribe for the duration of the ``async with`` block."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._max_pending)
        self._subscribers[conversation_id].add(queue)

        async def stream() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield stream()
        finally:
            self._subscribers[conversation_id].discard(queue)
            if not self._subscribers[conversation_id]:
                del self._subscribers[conversation_id]
