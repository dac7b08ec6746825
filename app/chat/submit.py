"""Handing a planned reply to the generation backend: its job, busy retries, and what a failure tells."""

from __future__ import annotations

import asyncio
import logging
import time

from app.chat.customer_errors import customer_error
from app.chat.metrics import AppMetrics
from app.chat.over_limit import Emit
from app.chat.planning import ReplyPlan
from app.generation.backend import BackendBusy, GenerationBackend, GenerationJob
from app.knowledge.reply_facts import Steering

log = logging.getLogger(__name__)
BUSY_MESSAGE = "busy, retrying"
TOO_BUSY = "the assistant is too busy right now; your message is saved, please try again shortly"


def reply_job(
    job_id: str,
    conversation_id: str,
    plan: ReplyPlan,
    messages: list[dict[str, str]],
    allowed_values: frozenset[str] | None,
    steering: Steering,
    text_prompt: str | None = None,
) -> GenerationJob:
    """The job for a planned reply; ``allowed_values`` constrain its decoding (None: unconstrained);
    ``text_prompt``: a text completion's prompt, continued as written (``messages`` then empty)."""
    return GenerationJob(
        job_id,
        conversation_id,
        messages,
        plan.adapter,
        plan.params.to_dict(),
        plan.priority,
        time.time(),
        allowed_values=sorted(allowed_values) if allowed_values is not None else None,
        copy_from=list(steering.copy_from),
        banned_openings=list(steering.banned_openings),
        forced_opening=steering.forced_opening,
        end_after_opening=steering.end_after_opening,
        text_prompt=text_prompt,
    )


async def submit_with_retries(
    backend: GenerationBackend,
    job: GenerationJob,
    emit: Emit,
    metrics: AppMetrics,
    retries: int,
    delay_s: float,
) -> str | None:
    """Submit, retrying with exponential backoff while the backend is busy; the problem or None."""
    for attempt in range(retries + 1):
        try:
            await backend.submit(job)
            return None
        except BackendBusy:
            if attempt == retries:
                return TOO_BUSY
            delay = delay_s * 2**attempt
            metrics.errors.labels("busy").inc()
            await emit({"type": "busy", "job_id": job.job_id, "message": BUSY_MESSAGE, "retry_in": delay})
            await asyncio.sleep(delay)
        except Exception as exc:  # unknown adapter, prompt too long, engine down: reported, row kept
            log.exception("submit failed")
            return f"generation could not start: {exc}"
    return "generation could not start"


async def report_problem(
    metrics: AppMetrics, emit: Emit, job_id: str, message_id: int, problem: str, kind: str
) -> None:
    """Count the failure and tell the customer in a plain sentence (the row keeps ``problem`` for staff)."""
    metrics.errors.labels(kind).inc()
    message = customer_error(kind, problem)
    await emit({"type": "error", "job_id": job_id, "message_id": message_id, "message": message})
