"""Follows a job's events to the end and writes the outcome onto its assistant row."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.backends.base import GenerationBackend
from app.chat.metrics import AppMetrics
from app.db.models import Message

log = logging.getLogger(__name__)
STATUS_BY_REASON = {"stop": "done", "length": "done", "cancelled": "interrupted", "error": "error"}


class JobRecorder:
    """One task per job, independent of any socket: a reply is recorded even if nobody watches it."""

    def __init__(
        self, sessions: sessionmaker[Session], backend: GenerationBackend, metrics: AppMetrics
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.metrics = metrics
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def follow(self, job_id: str, message_id: int, on_finish: Callable[[str], None] | None = None) -> None:
        """Start recording ``job_id`` onto message ``message_id``."""
        task = asyncio.create_task(self._record(job_id, message_id))
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

    async def _record(self, job_id: str, message_id: int) -> None:
        parts: list[str] = []
        result: dict[str, Any] = {"status": "error", "error": "the generation stream ended without a result"}
        try:
            async for event in self.backend.events(job_id):
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
        except asyncio.CancelledError:
            result["error"] = "the server stopped before the reply finished"
            result["status"] = "interrupted"
            raise
        except Exception as exc:
            log.exception("recording job %s failed", job_id)
            result["error"] = f"reading the generation stream failed: {exc}"
        finally:
            await asyncio.to_thread(self._write, message_id, "".join(parts), result)

    def _write(self, message_id: int, text: str, result: dict[str, Any]) -> None:
        with self.sessions() as session:
            row = session.get(Message, message_id)
            if row is None:
                return
            row.text = text
            for name, value in result.items():
                setattr(row, name, value)
            session.commit()
            self.metrics.replies.labels(row.adapter or "base", row.status).inc()
            if row.latency_ms is not None:
                self.metrics.reply_latency.labels(row.adapter or "base").observe(row.latency_ms / 1000)
