"""The inbox's live feed: server-sent events from the hub's ``inbox`` topic, which doubles as presence.

Kept apart from the other staff routes: a stream lasts as long as the tab, so it must hold neither
a staff database slot nor a pooled connection (the session is closed once the user is known).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentStaff, SessionDep
from app.inbox.events import TOPIC
from app.inbox.presence import HEARTBEAT_S, touch

router = APIRouter(tags=["inbox"])


async def inbox_stream(
    hub: Any, sessions: Any, staff_id: int, heartbeat_s: float = HEARTBEAT_S
) -> AsyncIterator[str]:
    """SSE lines: every inbox event, and a comment each heartbeat that also marks the staff member online."""

    def mark() -> None:
        with sessions() as session:
            touch(session, staff_id)

    await asyncio.to_thread(mark)
    touched = time.monotonic()
    async with hub.subscribe(TOPIC) as events:
        yield "retry: 3000\n: connected\n\n"
        # One pending read, awaited across heartbeats: cancelling it would end the subscription.
        source = aiter(events)
        pending: asyncio.Future[Any] = asyncio.ensure_future(anext(source))
        try:
            while True:
                done, _ = await asyncio.wait({pending}, timeout=heartbeat_s)
                if done:
                    event = pending.result()
                    pending = asyncio.ensure_future(anext(source))
                    yield f"event: inbox\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
                else:
                    yield ": ping\n\n"
                if time.monotonic() - touched >= heartbeat_s:
                    await asyncio.to_thread(mark)
                    touched = time.monotonic()
        finally:
            pending.cancel()


@router.get("/api/inbox/events")
async def inbox_events(request: Request, user: CurrentStaff, session: SessionDep) -> StreamingResponse:
    """Live inbox events (hand-off requests, new messages, assignments) as text/event-stream."""
    staff_id = user.id
    session.close()  # the stream may last hours: give the connection back now
    stream = inbox_stream(request.app.state.hub, request.app.state.sessions, staff_id)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
