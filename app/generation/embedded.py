"""EmbeddedBackend: jobs run on an in-process AsyncEngine; each job's numbered events kept for resume."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob, JobEvent
from app.generation.runner import JobRun

if TYPE_CHECKING:  # torch-backed: imported only where an engine is built
    from inference import AsyncEngine

log = logging.getLogger(__name__)


class UnknownJobError(KeyError):
    """No job with this id is known (never submitted, or its log has expired)."""


@dataclass
class _JobLog:
    """The events of one job so far; waiters are woken on every append."""

    started: float
    events: list[JobEvent] = field(default_factory=list)
    finished_at: float | None = None
    wake: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None


class EmbeddedBackend(GenerationBackend):
    """Runs jobs on an AsyncEngine in this process; logs are bounded and expire after ``log_ttl_s``."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_queue_depth: int = 256,
        max_prompt_tokens: int | None = None,
        log_ttl_s: float = 600.0,
        max_logs: int = 2000,
    ) -> None:
        self.engine = engine
        self.max_queue_depth = max_queue_depth
        self.max_prompt_tokens = max_prompt_tokens
        self.log_ttl_s = log_ttl_s
        self.max_logs = max_logs
        self._logs: OrderedDict[str, _JobLog] = OrderedDict()
        self._started = False

    async def start(self) -> None:
        """Start the engine's step loop."""
        await self.engine.start()
        self._started = True

    async def stop(self) -> None:
        """Cancel what is in flight and stop the engine."""
        await self.engine.stop()
        for job in self._logs.values():
            if job.task is not None:
                job.task.cancel()
        self._started = False

    def active_jobs(self) -> int:
        """Jobs submitted and not yet finished."""
        return sum(1 for job in self._logs.values() if job.finished_at is None)

    async def submit(self, job: GenerationJob) -> None:
        """Build the prompt and queue the job; BackendBusy over the depth limit, ValueError on bad input."""
        if not self._started:
            raise RuntimeError("EmbeddedBackend.start() has not been awaited")
        if job.job_id in self._logs:
            raise ValueError(f"job_id {job.job_id!r} was already submitted")
        self._expire()
        if self.active_jobs() >= self.max_queue_depth:
            raise BackendBusy(f"{self.active_jobs()} jobs in flight (limit {self.max_queue_depth})")
        run = await JobRun.prepare(self.engine, job, max_prompt_tokens=self.max_prompt_tokens)
        if job.job_id in self._logs:  # submitted again while this one was being templated
            raise ValueError(f"job_id {job.job_id!r} was already submitted")
        run.start()  # raises UnknownAdapterError here, at submit
        entry = _JobLog(started=run.started)
        self._logs[job.job_id] = entry
        entry.task = asyncio.create_task(self._pump(job.job_id, entry, run))

    async def _pump(self, job_id: str, entry: _JobLog, run: JobRun) -> None:
        try:
            async for event in run.events():
                await self._append(entry, event)
                if event.final:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream broke: the job ends with an error event, never silently
            log.exception("job %s failed", job_id)
            error = JobEvent(job_id, len(entry.events), "error", "", "error", f"generation failed: {exc}")
            await self._append(entry, error)
        finally:
            entry.finished_at = entry.finished_at or time.monotonic()

    async def _append(self, entry: _JobLog, event: JobEvent) -> None:
        async with entry.wake:
            entry.events.append(event)
            if event.final:
                entry.finished_at = time.monotonic()
            entry.wake.notify_all()

    async def events(self, job_id: str, after: int = -1) -> AsyncIterator[JobEvent]:  # type: ignore[override]
        """Yield the job's events with seq > after, ending after the final one."""
        entry = self._logs.get(job_id)
        if entry is None:
            raise UnknownJobError(job_id)
        i = max(after + 1, 0)
        while True:
            for event in self._slice(entry, i):
                yield event
                i += 1
                if event.final:
                    return
            if entry.events and entry.events[-1].final and i >= len(entry.events):
                return
            await self._wait_past(entry, i)

    @staticmethod
    async def _wait_past(entry: _JobLog, seen: int) -> None:
        """Sleep until the log holds more than ``seen`` events."""
        async with entry.wake:
            await entry.wake.wait_for(lambda: len(entry.events) > seen)

    @staticmethod
    def _slice(entry: _JobLog, start: int) -> Iterator[JobEvent]:
        return iter(list(entry.events[start:]))

    async def cancel(self, job_id: str) -> None:
        """Abort the job in the engine (frees its KV blocks); its log ends with a 'cancelled' event."""
        entry = self._logs.get(job_id)
        if entry is not None and entry.finished_at is None:
            self.engine.cancel(job_id)

    async def health(self) -> dict[str, Any]:
        """Engine state for /healthz; raises if the engine is not running."""
        if not self._started:
            raise RuntimeError("engine is not started")
        return {"backend": "embedded", "adapters": self.engine.adapters(), "active_jobs": self.active_jobs()}

    def _expire(self) -> None:
        """Forget finished logs older than the TTL, and the oldest finished ones over the cap."""
        now = time.monotonic()
        for job_id, entry in list(self._logs.items()):
            done = entry.finished_at
            if done is not None and (now - done > self.log_ttl_s or len(self._logs) > self.max_logs):
                del self._logs[job_id]
