"""The bot's replies as they stream: the engine they run on, who reads them, and cancelling the unread."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.chat import conversations as convs
from app.chat.desk import ConversationDesk
from app.chat.hub import ConversationHub
from app.chat.metrics import AppMetrics
from app.chat.planning import ReplyPlanner
from app.chat.recorder import JobRecorder
from app.chat.reply_notes import done_notes
from app.chat.watch_lease import WatchLeases
from app.generation.backend import GenerationBackend, JobEvent


class EngineNotReady(RuntimeError):
    """No generation backend is connected yet (the app's lifespan has not started the engine)."""


@dataclass(frozen=True)
class InFlight:
    """A job being generated: whose it is and which row it fills."""

    conversation_id: str
    message_id: int


class ReplyStreams(ConversationDesk):
    """Replies in flight on this node and their readers; ChatService starts them (app.chat.service).

    A reply lives while someone streams it: when its last reader leaves mid-reply it is cancelled
    after the resume grace, unless a reader on another node holds its watch lease.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        hub: ConversationHub,
        metrics: AppMetrics,
        *,
        resume_grace_s: float,
        leases: WatchLeases | None,
        check_numbers: bool,
    ) -> None:
        super().__init__(sessions, hub, metrics)
        self._check_numbers = check_numbers
        self._backend: GenerationBackend | None = None
        self._planner: ReplyPlanner | None = None
        self._recorder: JobRecorder | None = None
        self.resume_grace_s = resume_grace_s
        self.in_flight: dict[str, InFlight] = {}
        self.leases = leases or WatchLeases(None)
        self._watchers: dict[str, int] = defaultdict(int)
        self._cancel_timers: dict[str, asyncio.TimerHandle] = {}

    def connect(self, backend: GenerationBackend, planner: ReplyPlanner | None) -> None:
        """Plug in what generates replies (the app's lifespan does, once the engine runs)."""
        self._backend, self._planner = backend, planner
        self._recorder = JobRecorder(self.sessions, backend, self.metrics, check_numbers=self._check_numbers)

    @property
    def ready(self) -> bool:
        """Whether the bot can reply (a backend is connected); staff work needs no engine."""
        return self._backend is not None

    @property
    def backend(self) -> GenerationBackend:
        """The generation backend; EngineNotReady before ``connect``."""
        if self._backend is None:
            raise EngineNotReady("the generation engine is not running")
        return self._backend

    @property
    def planner(self) -> ReplyPlanner:
        """The reply planner; EngineNotReady before ``connect``."""
        if self._planner is None:
            raise EngineNotReady("the generation engine is not running")
        return self._planner

    @property
    def recorder(self) -> JobRecorder:
        """What writes each reply's row as its job streams; EngineNotReady before ``connect``."""
        if self._recorder is None:
            raise EngineNotReady("the generation engine is not running")
        return self._recorder

    def track(
        self, job_id: str, conversation_id: str, message_id: int, allowed: frozenset[str] | None
    ) -> None:
        """A submitted job: in flight here until its row is final (the recorder writes it)."""
        self.in_flight[job_id] = InFlight(conversation_id, message_id)
        self.recorder.follow(job_id, message_id, on_finish=self._finished, allowed=allowed)

    def _finished(self, job_id: str) -> None:
        self.in_flight.pop(job_id, None)
        timer = self._cancel_timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._watchers.pop(job_id, None)

    def done_notes(self, message_id: int) -> dict[str, Any]:
        """What a reply's `done` frame adds from the database: its sources (key, title, kind) and
        whether it offers a person (app.chat.reply_notes.done_notes)."""
        with self.sessions() as session:
            return done_notes(session, message_id)

    async def stream(
        self, job_id: str, after: int = -1, message_id: int | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        """The job's events after ``after``; the final one comes once its row is final in the database.

        While someone streams a job it lives; when the last reader leaves mid-reply, the job is
        cancelled after the resume grace. KeyError: the job is not known (any more). With the
        reply's ``message_id`` this node records the reply too: one begun on another node (maybe
        dead now) is still stored when its stream ends here (the first final write wins).
        """
        if message_id is not None:
            self.recorder.follow(job_id, message_id)
        self.watch(job_id)
        lease = asyncio.create_task(self.leases.keep(job_id))  # seen by every node's cancel timer
        finished = False
        try:
            async for event in self.backend.events(job_id, after):
                if event.final:
                    await self.recorder.wait(job_id)
                    finished = True
                yield event
        finally:
            lease.cancel()
            if not finished:
                self.unwatch(job_id)

    async def cancel(self, job_id: str) -> None:
        """Stop one reply now (its row ends `interrupted`)."""
        await self.backend.cancel(job_id)

    async def streaming_elsewhere(self, conversation_id: str, job_ids: list[str]) -> list[str]:
        """Of ``job_ids``, the conversation's replies still streaming that this node did not start."""
        others = [j for j in job_ids if j not in self.jobs_of(conversation_id)]
        if not others:
            return []
        found: list[str] = await asyncio.to_thread(
            self._in_session, convs.streaming_job_ids, conversation_id, others
        )
        return found

    async def stop(self, conversation_id: str) -> list[str]:
        """Cancel the conversation's replies in flight (their rows end `interrupted`); the job ids."""
        jobs = self.jobs_of(conversation_id)
        for job_id in jobs:
            await self.backend.cancel(job_id)
        return jobs

    def jobs_of(self, conversation_id: str) -> list[str]:
        """Job ids in flight for a conversation."""
        return [j for j, f in self.in_flight.items() if f.conversation_id == conversation_id]

    def message_id_for(self, job_id: str) -> int | None:
        """The assistant row a job fills."""
        if job_id in self.in_flight:
            return self.in_flight[job_id].message_id
        with self.sessions() as session:
            return convs.reply_id_for(session, job_id)

    def watch(self, job_id: str) -> None:
        """A socket streams this job: keep it alive even if an earlier socket dropped."""
        self._watchers[job_id] += 1
        timer = self._cancel_timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()

    def unwatch(self, job_id: str) -> None:
        """A socket stopped streaming the job; with nobody left, cancel it after the resume grace."""
        self._watchers[job_id] -= 1
        if self._watchers[job_id] > 0:
            return
        self._watchers.pop(job_id, None)  # jobs of other nodes never reach _finished here
        if job_id not in self.in_flight:
            return
        loop = asyncio.get_running_loop()

        async def _cancel_unless_watched() -> None:
            if job_id not in self.in_flight or self._watchers.get(job_id, 0) > 0:
                return
            if await self.leases.held(job_id):  # a socket on another node streams it: look again later
                self._cancel_timers[job_id] = loop.call_later(self.resume_grace_s, _fire)
                return
            await self.backend.cancel(job_id)

        def _fire() -> None:
            self._cancel_timers.pop(job_id, None)
            loop.create_task(_cancel_unless_watched())

        self._cancel_timers[job_id] = loop.call_later(self.resume_grace_s, _fire)
