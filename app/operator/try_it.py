"""Answer an operator's test message with a draft policy, before it is saved."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from adapters.intents import check_intent
from app.decoding.policy import DecodingPolicy
from app.generation.backend import GenerationBackend, GenerationJob

MAX_TRY_CHARS = 2000
TRY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class TryResult:
    """The draft's answer and how it was produced."""

    text: str
    intent: str
    adapter: str | None
    decoding: dict[str, Any]
    completion_tokens: int
    latency_ms: float
    finish_reason: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


async def try_policy(
    backend: GenerationBackend,
    adapter_for: Callable[[str], str | None],
    intent: str,
    policy: DecodingPolicy,
    message: str,
    system_prompt: str = "",
    seed: int | None = None,
    timeout_s: float = TRY_TIMEOUT_S,
) -> TryResult:
    """Generate one reply to ``message`` with ``policy``'s SamplingParams on the intent's adapter."""
    check_intent(intent)
    message = (message or "").strip()
    if not message or len(message) > MAX_TRY_CHARS:
        raise ValueError(f"message must be 1..{MAX_TRY_CHARS} characters")
    params = policy.to_sampling_params(seed=seed)
    adapter = adapter_for(intent)
    prompt = policy.system_prompt or system_prompt
    messages = ([{"role": "system", "content": prompt}] if prompt else []) + [
        {"role": "user", "content": message}
    ]
    job = GenerationJob(
        job_id=f"try-{uuid.uuid4().hex}",
        conversation_id="operator-try",
        messages=messages,
        adapter=adapter,
        params=params.to_dict(),
        priority=policy.priority,
        created_at=time.time(),
    )
    started = time.perf_counter()
    parts: list[str] = []
    tokens, finish, error = 0, None, None
    try:
        await backend.submit(job)
    except Exception as exc:  # busy, unknown adapter, prompt too long: shown in the panel, not a 500
        return _result(job, intent, policy, "", 0, started, None, f"generation could not start: {exc}")
    try:
        async with asyncio.timeout(timeout_s):
            async for event in backend.events(job.job_id):
                parts.append(event.text)  # the final event carries the last delta too
                if event.final:
                    tokens, finish, error = event.completion_tokens, event.finish_reason, event.error
                    break
    except TimeoutError:
        await backend.cancel(job.job_id)
        error = f"no answer within {timeout_s:.0f} s"
    return _result(job, intent, policy, "".join(parts), tokens, started, finish, error)


def _result(
    job: GenerationJob,
    intent: str,
    policy: DecodingPolicy,
    text: str,
    tokens: int,
    started: float,
    finish: str | None,
    error: str | None,
) -> TryResult:
    return TryResult(
        text=text,
        intent=intent,
        adapter=job.adapter,
        decoding=policy.applied(),
        completion_tokens=tokens,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        finish_reason=finish,
        error=error,
    )
