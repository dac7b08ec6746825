"""The sweep that finalises orphaned `streaming` reply rows, at start-up and then periodically.

A row is `streaming` while some node records its job. A node killed mid-reply (or a single
machine restarted) leaves rows nobody records. The sweep follows each one with this node's
recorder: if Redis or the engine still holds the job's events, the recorder reads them to the end
and stores the real reply; if nothing holds them, the recorder marks the row `interrupted`.
Rows younger than ``min_age_s`` are skipped (their node may still be between creating the row
and submitting the job); at start-up on one machine no job can be alive, so every row is swept.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.chat.recorder import LOST_WITH_SERVER, JobRecorder
from app.db.models import Message, utcnow

log = logging.getLogger(__name__)
MAX_ROWS_PER_SWEEP = 500  # bounded work per pass; the next pass takes the rest


class OrphanSweeper:
    """Finds `streaming` rows no recorder on this node follows and hands them to the recorder."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        recorder: JobRecorder,
        min_age_s: float = 60.0,
        interval_s: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.recorder = recorder
        self.min_age_s = min_age_s
        self.interval_s = interval_s

    def _orphans(self, min_age_s: float) -> list[tuple[int, str | None]]:
        cutoff = utcnow() - timedelta(seconds=min_age_s)
        with self.sessions() as session:
            query = (
                select(Message.id, Message.job_id)
                .where(Message.status == "streaming", Message.created_at <= cutoff)
                .order_by(Message.id)
                .limit(MAX_ROWS_PER_SWEEP)
            )
            return [(mid, job) for mid, job in session.execute(query).all()]

    def _interrupt(self, message_id: int) -> None:
        with self.sessions() as session:
            row = session.get(Message, message_id, with_for_update=True)
            if row is not None and row.status == "streaming":
                row.status, row.error = "interrupted", LOST_WITH_SERVER
                session.commit()

    async def sweep_once(self, min_age_s: float | None = None) -> int:
        """Hand every orphan to the recorder; the number handed over."""
        age = self.min_age_s if min_age_s is None else min_age_s
        handed = 0
        for message_id, job_id in await asyncio.to_thread(self._orphans, age):
            if job_id is None:
                await asyncio.to_thread(self._interrupt, message_id)
            elif job_id not in self.recorder.tasks:
                self.recorder.follow(job_id, message_id)
            else:
                continue
            handed += 1
        if handed:
            log.info("sweep: finalising %d orphaned streaming replies", handed)
        return handed

    async def wait_idle(self) -> None:
        """Wait for every reply this node records to be stored (tests)."""
        for job_id in list(self.recorder.tasks):
            await self.recorder.wait(job_id)

    async def run(self) -> None:
        """Sweep every ``interval_s`` until cancelled; a failed pass is logged and retried."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep_once()
            except Exception:  # noqa: BLE001 - the database may be down for a while; try next pass
                log.warning("orphan sweep failed", exc_info=True)
