"""StartingBackend: the app serves at once while the engine loads behind it; early jobs wait, none is lost.

Loading torch, the model and the adapters takes seconds, and nothing of the page or of storing a
message needs them. The app therefore listens first and builds the real backend in the
background; jobs submitted meanwhile are kept in arrival order and handed over once it runs
(a job cancelled meanwhile is handed over and cancelled at once, so its stream ends the same
way as any cancelled job's). If the engine cannot be built, every waiting job and every later
one ends with an error event naming why: the customer's message is stored either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob, JobEvent
from app.generation.embedded import UnknownJobError

log = logging.getLogger(__name__)
Build = Callable[[], Awaitable[GenerationBackend]]


class StartingBackend(GenerationBackend):
    """Delegates to the backend ``build`` returns; until it runs, jobs queue here (``ready`` is False).

    For a backend whose jobs die with this process (the embedded engine): a job this backend was
    never given cannot exist before the engine runs, so asking for its events fails at once (the
    start-up sweep marks such rows of a previous run `interrupted` without waiting for the model).
    """

    jobs_outlive_node = False

    def __init__(self, build: Build, *, max_pending: int = 256) -> None:
        self._build = build
        self.max_pending = max_pending
        self._inner: GenerationBackend | None = None
        self._failure: str | None = None
        self._settled = asyncio.Event()
        self._pending: dict[str, GenerationJob] = {}
        self._cancelled: set[str] = set()
        # Waiting jobs the real backend refused at hand-over (e.g. an adapter it lacks): their
        # streams end with this error, as a refusal at submit would have been reported.
        self._failed_early: dict[str, str] = {}
        self._given: set[str] = set()  # job ids submitted here before the engine ran
        self._task: asyncio.Task[None] | None = None
        self.load_seconds: float | None = None
        self._started_at = 0.0

    @property
    def ready(self) -> bool:
        """True once the engine runs (jobs go straight to it)."""
        return self._inner is not None

    @property
    def inner(self) -> GenerationBackend | None:
        """The real backend once built, else None."""
        return self._inner

    async def start(self) -> None:
        """Begin building the real backend in the background; returns at once."""
        if self._task is None:
            self._started_at = time.monotonic()
            self._task = asyncio.create_task(self._load())

    async def wait_ready(self) -> None:
        """Until the engine runs or failed to load (tests, benchmarks)."""
        await self._settled.wait()

    async def _load(self) -> None:
        try:
            inner = await self._build()
            await inner.start()
        except Exception as exc:  # noqa: BLE001 - reported on /healthz and to every waiting job
            log.exception("the generation engine failed to load")
            self._failure = f"the engine failed to load: {type(exc).__name__}: {exc}"[:500]
        else:
            await self._hand_over(inner)
        finally:
            self.load_seconds = time.monotonic() - self._started_at
            self._settled.set()

    async def _hand_over(self, inner: GenerationBackend) -> None:
        """Submit the waiting jobs in arrival order, then route everything to ``inner``."""
        submitted: set[str] = set()
        while self._pending:  # a job may arrive while an earlier one is being submitted
            job_id = next(iter(self._pending))
            job = self._pending.pop(job_id)
            try:
                await inner.submit(job)
            except Exception as exc:  # noqa: BLE001 - one bad job must not keep the others waiting
                log.warning("job %s queued during start-up could not start: %s", job_id, exc)
                self._failed_early[job_id] = f"generation could not start: {exc}"
            else:
                submitted.add(job_id)
        for job_id in self._cancelled & submitted:  # cancelled while waiting (or while handed over)
            await inner.cancel(job_id)
        self._cancelled.clear()
        self._given.clear()
        self._inner = inner
        log.info("generation engine ready after %.1f s", time.monotonic() - self._started_at)

    async def stop(self) -> None:
        """Stop loading (or the real backend)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._inner is not None:
            await self._inner.stop()

    async def submit(self, job: GenerationJob) -> None:
        """To the engine when it runs; else queued (BackendBusy over ``max_pending``)."""
        if self._inner is not None:
            await self._inner.submit(job)
            return
        if self._failure is not None:
            raise RuntimeError(self._failure)
        if job.job_id in self._pending:
            raise ValueError(f"job_id {job.job_id!r} was already submitted")
        if len(self._pending) >= self.max_pending:
            raise BackendBusy(f"{len(self._pending)} jobs wait for the engine to start")
        self._pending[job.job_id] = job
        self._given.add(job.job_id)

    async def events(self, job_id: str, after: int = -1) -> AsyncIterator[JobEvent]:  # type: ignore[override]
        """The job's events from the real backend, once it runs; an error event if it never does."""
        if self._inner is None and job_id not in self._given:
            raise UnknownJobError(job_id)
        await self._settled.wait()
        problem = self._failed_early.get(job_id) if self._inner is not None else self._failure
        if self._inner is None or problem is not None:
            if after < 0:
                yield JobEvent(job_id, 0, "error", finish_reason="error", error=problem)
            return
        async for event in self._inner.events(job_id, after):
            yield event

    async def cancel(self, job_id: str) -> None:
        """Cancel in the engine, or (still waiting) as soon as it is handed over."""
        if self._inner is not None:
            await self._inner.cancel(job_id)
        else:  # waiting, or being handed over right now: cancelled once it is
            self._cancelled.add(job_id)

    async def health(self) -> dict[str, Any]:
        """The real backend's health, or ``loading`` with the jobs waiting; raises if loading failed."""
        if self._inner is not None:
            return {**await self._inner.health(), "ready": True, "load_seconds": self.load_seconds}
        if self._failure is not None:
            raise RuntimeError(self._failure)
        return {
            "backend": "starting",
            "ready": False,
            "loading_for_s": round(time.monotonic() - self._started_at, 1),
            "waiting_jobs": len(self._pending),
        }
