"""One job on one engine: job -> prompt budget -> GenerationRequest -> TokenEvents -> numbered JobEvents.

The embedded backend and the Redis worker both run jobs through here, so a job's prompt, its
limits and the events it streams are the same whichever of them serves it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from app.generation.backend import EventKind, GenerationJob, JobEvent
from app.generation.prompting import Prompt, build_prompt_ids, build_text_prompt_ids
from inference import GenerationRequest, SamplingParams, TokenEvent

if TYPE_CHECKING:  # torch-backed: imported only where an engine is built
    from inference import AsyncEngine


def prompt_budget(engine: AsyncEngine, params: SamplingParams, max_prompt_tokens: int | None = None) -> int:
    """Tokens the prompt may use: the configured cap, else what the context leaves after the reply."""
    if max_prompt_tokens:
        return max_prompt_tokens
    budget = engine.max_positions - params.max_new_tokens
    if budget < 1:
        raise ValueError(
            f"max_new_tokens={params.max_new_tokens} leaves no room for the prompt "
            f"in the model's {engine.max_positions}-token context"
        )
    return budget


def remaining_opening(tokenizer: Any, opening: str, done_ids: Sequence[int]) -> str | None:
    """What is left of ``opening`` once ``done_ids`` are written: "" when all of it, None when the
    written text is not its start (it was no forced opening, or the reply has gone past it)."""
    if not opening:
        return None
    written = tokenizer.decode(list(done_ids), skip_special_tokens=True)
    return opening[len(written) :] if opening.startswith(written) else None


class JobRun:
    """One job prepared for the engine (``await JobRun.prepare(...)``): ``start()`` submits it, then
    iterate ``events()`` once.

    ``done_ids`` are token ids an earlier worker already streamed for this job: they are appended
    to the prompt and only the rest is generated, with event numbers starting at ``first_seq``.
    Bad input raises early: invalid params or a prompt that cannot fit here, an unknown adapter
    at ``start()``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        job: GenerationJob,
        params: SamplingParams,
        prompt: Prompt,
        *,
        first_seq: int = 0,
        done_ids: Sequence[int] = (),
        started: float | None = None,
    ) -> None:
        self.job = job
        self.started = time.monotonic() if started is None else started
        self.first_seq = first_seq
        self.done_ids = list(done_ids)
        self.prompt = prompt
        self.left = params.max_new_tokens - len(self.done_ids)  # <= 0: nothing left to generate
        self._engine = engine
        self._params = params
        self._stream: AsyncIterator[TokenEvent] | None = None
        self._ended: str | None = None  # set by start() when a resumed job has nothing left to write

    @classmethod
    async def prepare(
        cls,
        engine: AsyncEngine,
        job: GenerationJob,
        *,
        first_seq: int = 0,
        done_ids: Sequence[int] = (),
        max_prompt_tokens: int | None = None,
    ) -> JobRun:
        """Check the params and build the prompt; templating a long chat runs off the event loop."""
        started = time.monotonic()
        params = SamplingParams.from_dict(job.params)
        budget = prompt_budget(engine, params, max_prompt_tokens)
        if job.text_prompt is not None:  # /v1/completions: the text as written, no chat template
            prompt = await asyncio.to_thread(build_text_prompt_ids, engine.tokenizer, job.text_prompt, budget)
        else:
            prompt = await asyncio.to_thread(build_prompt_ids, engine.tokenizer, job.messages, budget)
        return cls(engine, job, params, prompt, first_seq=first_seq, done_ids=done_ids, started=started)

    def start(self) -> None:
        """Submit the request to the engine; UnknownAdapterError here, not mid-stream."""
        forced, end_after = self.job.forced_opening, self.job.end_after_opening
        if self.done_ids:
            # A resumed job has written part of its opening: the rest of a quote is still forced
            # (the reply must be the quote whichever worker writes it), the refusal ban is over.
            rest = remaining_opening(self._engine.tokenizer, forced, self.done_ids)
            forced, end_after = rest or "", end_after and rest is not None
            if end_after and not forced:
                self._ended = "stop"  # the whole quote was streamed before the worker died
                return
        if self.left <= 0:
            return
        params = self._params
        request = GenerationRequest(
            prompt_ids=(*self.prompt.ids, *self.done_ids),
            params=dataclasses.replace(params, max_new_tokens=self.left) if self.done_ids else params,
            adapter=self.job.adapter,
            priority=self.job.priority,
            request_id=self.job.job_id,
            allowed_values=None if self.job.allowed_values is None else frozenset(self.job.allowed_values),
            copy_from=tuple(self.job.copy_from),
            banned_openings=() if self.done_ids else tuple(self.job.banned_openings),
            forced_opening=forced,
            end_after_opening=end_after,
        )
        self._stream = self._engine.generate(request)

    def end_without_generating(self, reason: str) -> JobEvent:
        """The final event of a job that ends before generating (cancelled, or nothing left to make)."""
        job_id, tokens = self.job.job_id, len(self.done_ids)
        return JobEvent(job_id, self.first_seq, "done", finish_reason=reason, completion_tokens=tokens)

    async def events(self) -> AsyncIterator[JobEvent]:
        """The job's numbered events; closing this iterator early aborts the generation."""
        if self._stream is None:
            if self._ended is not None:
                yield self.end_without_generating(self._ended)
                return
            if self.left > 0:
                raise RuntimeError("JobRun.start() was not called")
            yield self.end_without_generating("length")
            return
        seq, ids = self.first_seq, list[int]()
        try:
            async for ev in self._stream:
                ids.extend(ev.token_ids)
                if not (ev.text or ev.finished):
                    continue  # bytes of a character not yet complete: they travel with the next text
                yield self._event(seq, ev, ids)
                seq, ids = seq + 1, []
                if ev.finished:
                    return
        finally:
            await self._stream.aclose()  # type: ignore[attr-defined]

    def _event(self, seq: int, ev: TokenEvent, ids: list[int]) -> JobEvent:
        elapsed_ms = (time.monotonic() - self.started) * 1000
        extra: dict[str, Any] = {"ids": ids, "elapsed_ms": elapsed_ms}
        if seq == 0:
            extra.update(ttft_ms=elapsed_ms, prompt_truncated=self.prompt.truncated_last_message)
        if self.done_ids and seq == self.first_seq:
            extra["resumed_after_tokens"] = len(self.done_ids)
        kind: EventKind = ("error" if ev.finish_reason == "error" else "done") if ev.finished else "token"
        return JobEvent(
            self.job.job_id, seq, kind, ev.text, ev.finish_reason, ev.error,
            len(self.prompt.ids), ev.completion_tokens + len(self.done_ids), extra,
        )  # fmt: skip
