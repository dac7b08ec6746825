"""A bound on the staff consoles' concurrent database work, so staff traffic cannot starve customers.

Exports and full-text searches hold a pooled connection for a long time; 100 of them at once took
every connection and new customers were told the chat "cannot reach its database". Staff and
operator requests now queue for one of ``staff_db_concurrency`` slots per node (waiting on the
event loop, holding no thread or connection) and get a 503 asking to retry after
``staff_slot_wait_s``; the rest of the pool stays for the chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import HTTPException, Request

BUSY = "The console is busy with other searches and exports; please try again in a moment."


def _slots(request: Request) -> asyncio.Semaphore:
    slots = getattr(request.app.state, "staff_slots", None)
    if slots is None:
        slots = request.app.state.staff_slots = asyncio.Semaphore(
            request.app.state.settings.staff_db_concurrency
        )
    return slots


async def staff_db_slot(request: Request) -> AsyncIterator[None]:
    """Hold one staff slot for the request (a streamed export keeps it until the download ends)."""
    slots = _slots(request)
    try:
        await asyncio.wait_for(slots.acquire(), request.app.state.settings.staff_slot_wait_s)
    except TimeoutError:
        raise HTTPException(503, BUSY, headers={"Retry-After": "2"}) from None
    try:
        yield
    finally:
        slots.release()
