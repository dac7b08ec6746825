"""Follows a job's events to the end and writes the outcome onto its assistant row."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.chat.metrics import AppMetrics
from app.db.models import Message
from app.generation.backend import GenerationBackend, JobEvent
from app.generation.embedded import UnknownJobError
from app.knowledge.reply_facts import allowed_from_sources
from inference import unverified_numbers

log = logging.getLogger(__name__)
LOST_WITH_SERVER = "the server restarted before the reply finished; nothing of it was kept"
WRITE_RETRY_S = (0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0)  # ~24 s: a database failover or a short cut
STATUS_BY_REASON = {"stop": "done", "length": "done", "cancelled": "interrupted", "error": "error"}


class JobRecorder:
    """One task per job, independent of any socket: a reply is recorded even if nobody watches it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: GenerationBackend,
        metrics: AppMetrics,
        check_numbers: bool = True,
        unknown_grace_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.metrics = metrics
        # The number guard's post-check: each finished reply's numbers against its facts' numbers.
        self.check_numbers = check_numbers
        self.unknown_grace_s = unknown_grace_s
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def follow(
        self,
        job_id: str,
        message_id: int,
        on_finish: Callable[[str], None] | None = None,
        allowed: frozenset[str] | None = None,
    ) -> None:
        """Start recording ``job_id`` onto message ``message_id`` (no-op when this node already does).

        Any node may follow any job: whoever streams a reply to its end records it, so a reply begun
        on a node that died is still stored; only the first final write lands (see ``_write``).
        ``allowed``: the reply's allowed numbers, when this node planned it; a node that only
        resumes the stream rebuilds them from the reply's recorded sources.
        """
        if job_id in self.tasks:
            return
        task = asyncio.create_task(self._record(job_id, message_id, allowed))
        self.tasks[job_id] = task

        def _done(_: asyncio.Task[None]) -> None:
            self.tasks.pop(job_id, None)
            if on_finish is not None:
                on_finish(job_id)

        task.add_done_callback(_done)

    async def wait(self, job_id: str) -> None:
        """Wait until the job's row is final (tests, OpenAI non-streaming)."""
        task = self.tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def _record(self, job_id: str, message_id: int, allowed: frozenset[str] | None) -> None:
        parts: list[str] = []
        result: dict[str, Any] = {"status": "error", "error": "the generation stream ended without a result"}
        try:
            async for event in self._events(job_id):
                parts.append(event.text)
                if "ttft_ms" in event.extra:
                    result["ttft_ms"] = event.extra["ttft_ms"]
                if event.final:
                    result = {
                        **result,
                        "status": STATUS_BY_REASON.get(event.finish_reason or "error", "error"),
                        "error": event.error if event.kind == "error" else None,
                        "finish_reason": event.finish_reason,
                        "prompt_tokens": event.prompt_tokens,
                        "completion_tokens": event.completion_tokens,
                        "latency_ms": event.extra.get("elapsed_ms"),
                    }
        except UnknownJobError:  # the engine that ran it is gone (restart) and nothing holds its events
            result = {"status": "interrupted", "error": LOST_WITH_SERVER, "finish_reason": "error"}
        except asyncio.CancelledError:
            if getattr(self.backend, "jobs_outlive_node", False):
                # A worker still generates it and Redis keeps its events: another node (or this one
                # after a restart, through the sweep) records the real outcome; do not cut it short.
                result = {}
                raise
            result["error"] = "the server stopped before the reply finished"
            result["status"] = "interrupted"
            raise
        except Exception as exc:
            log.exception("recording job %s failed", job_id)
            result["error"] = f"reading the generation stream failed: {exc}"
        finally:
            if result:
                await self._store(message_id, "".join(parts), result, allowed)

    async def _store(
        self, message_id: int, text: str, result: dict[str, Any], allowed: frozenset[str] | None
    ) -> None:
        """Write the outcome, riding out a database outage (the `done` frame waits for this write).

        A write that fails for good leaves the row `streaming`; the orphan sweep finalises it later.
        """
        for delay in (*WRITE_RETRY_S, None):
            try:
                await asyncio.to_thread(self._write, message_id, text, result, allowed)
                return
            except SQLAlchemyError as exc:
                if delay is None:
                    raise
                log.warning("storing reply %s failed (%s); retrying", message_id, type(exc).__name__)
                await asyncio.sleep(delay)

    async def _events(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job's events; with workers, a job Redis does not know yet is looked for a while.

        Right after a Redis restart a job's keys are gone although its worker still generates it
        and writes the next event a moment later; concluding "lost" at once stored `interrupted`
        while the customer's stream went on to `done`.
        """
        outlive = getattr(self.backend, "jobs_outlive_node", False)
        deadline = time.monotonic() + (self.unknown_grace_s if outlive else 0.0)
        while True:
            try:
                async for event in self.backend.events(job_id):
                    yield event
                return
            except UnknownJobError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.5)

    def _write(
        self, message_id: int, text: str, result: dict[str, Any], allowed: frozenset[str] | None = None
    ) -> None:
        with self.sessions() as session:
            row = session.get(Message, message_id, with_for_update=True)
            # Only a row still streaming is written: a second node that followed the same job (a
            # resume, or the sweep) must not overwrite the outcome the first one stored.
            if row is None or row.status != "streaming":
                return
            row.text = text
            for name, value in result.items():
                setattr(row, name, value)
            if self.check_numbers:
                facts = allowed if allowed is not None else allowed_from_sources(session, message_id)
                row.unverified_numbers = unverified_numbers(text, facts)
            session.commit()
            self.metrics.replies.labels(row.adapter or "base", row.status).inc()
            if row.unverified_numbers:
                log.warning("reply %s states numbers no fact holds: %s", message_id, row.unverified_numbers)
                self.metrics.unverified_numbers.labels(row.adapter or "base").inc(len(row.unverified_numbers))
            if row.latency_ms is not None:
                self.metrics.reply_latency.labels(row.adapter or "base").observe(row.latency_ms / 1000)
