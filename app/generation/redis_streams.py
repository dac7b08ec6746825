"""The Redis layout shared by API nodes and workers: key names, and gapless numbered job events.

Every job's events live in their own stream ``sb:events:{job_id}`` under the explicit entry id
``0-{seq+1}``. Redis refuses an XADD whose id is not above the stream's last one, so writing an
event is a compare-and-set on the sequence number: whoever writes seq n first wins, a second
writer (a slow worker whose job was reclaimed by another) fails and stops. Readers resume after
seq k by reading from id ``0-{k+1}``; nothing is ever read twice or skipped.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.generation.backend import JobEvent

REQUESTS = "sb:requests"
GROUP = "sb:workers"
EVENTS_TTL_S = 3600


def events_key(job_id: str) -> str:
    """The per-job event stream."""
    return f"sb:events:{job_id}"


def job_key(job_id: str) -> str:
    """Marks a submitted job (so a reader can tell 'not started yet' from 'unknown')."""
    return f"sb:job:{job_id}"


def cancel_key(job_id: str) -> str:
    """Set by an API node to ask whichever worker runs the job to stop it."""
    return f"sb:cancel:{job_id}"


def entry_id(seq: int) -> str:
    """The stream entry id that carries event ``seq``."""
    return f"0-{seq + 1}"


def encode_event(event: JobEvent) -> dict[str, str]:
    """Stream fields of an event."""
    return {"e": json.dumps(event.to_dict(), ensure_ascii=False)}


def decode_event(fields: dict[Any, Any]) -> JobEvent:
    """Inverse of encode_event (accepts bytes or str field maps)."""
    raw: Any = fields.get(b"e", fields.get("e"))
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return JobEvent.from_dict(json.loads(raw))


class StreamLost(Exception):
    """The job's event stream is gone although events were written to it (Redis restarted empty)."""


async def append_event(
    redis: Redis, event: JobEvent, ttl_s: int = EVENTS_TTL_S, *, expect_stream: bool = False
) -> bool:
    """Write ``event`` at its seq; False if that seq is already taken (another writer owns the job).

    ``expect_stream``: the stream must exist already (earlier events were written); StreamLost if
    not, instead of silently starting a stream with a gap where the lost events were.
    """
    key = events_key(event.job_id)
    try:
        added = await redis.xadd(
            key, encode_event(event), id=entry_id(event.seq), nomkstream=expect_stream  # type: ignore[arg-type]
        )
    except ResponseError as exc:
        if "equal or smaller" in str(exc):
            return False
        raise
    if added is None:
        raise StreamLost(event.job_id)
    await redis.expire(key, ttl_s)
    return True


class JobEventWriter:
    """Writes one job's events in order and keeps them, so a stream lost with Redis is written again.

    Without this, a worker that went on after a Redis restart started the new stream at seq n: a
    reader resuming after seq k < n waited at a gap, and customers saw a reply with a hole in it.
    """

    def __init__(self, redis: Redis, written: list[JobEvent] | None = None) -> None:
        self.redis = redis
        self.written = list(written or [])  # what the stream held when this writer took the job

    async def write(self, event: JobEvent) -> bool:
        """Append ``event`` (first the lost history, if Redis lost it); False: another writer won."""
        try:
            ok = await append_event(self.redis, event, expect_stream=bool(self.written))
        except StreamLost:
            for old in self.written:
                await append_event(self.redis, old)
            ok = await append_event(self.redis, event)
        if ok:
            self.written.append(event)
        return ok


async def read_all(redis: Redis, job_id: str) -> list[JobEvent]:
    """Every event written so far, in order."""
    entries: Any = await redis.xrange(events_key(job_id))
    return [decode_event(fields) for _, fields in entries]


async def read_after(redis: Redis, job_id: str, after: int, block_ms: int) -> list[JobEvent]:
    """Events with seq > after, waiting up to ``block_ms`` for the first one."""
    reply: Any = await redis.xread({events_key(job_id): entry_id(after)}, block=block_ms, count=256)
    if not reply:
        return []
    _, entries = reply[0]
    return [decode_event(fields) for _, fields in entries]
