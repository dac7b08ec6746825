"""A running reply as OpenAI answers it: one JSON body, or SSE chunks (chat or legacy text shape)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from app.api.openai_errors import ApiError
from app.chat.service import ChatService
from app.generation.backend import JobEvent

FINISH = {"stop": "stop", "length": "length", "cancelled": "stop"}


def _usage(event: JobEvent) -> dict[str, int]:
    return {
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "total_tokens": event.prompt_tokens + event.completion_tokens,
    }


def _finish(event: JobEvent) -> str:
    return FINISH.get(event.finish_reason or "stop", "stop")


@dataclass(frozen=True)
class ReplyShape:
    """How one endpoint spells a reply: chat (`message`/`delta`) or legacy text (`text`)."""

    kind: Literal["chat", "text"]
    job_id: str
    model: str  # the adapter that answered (or the base model), never `auto`
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def id(self) -> str:
        """The completion's id (one per job)."""
        return f"{'chatcmpl' if self.kind == 'chat' else 'cmpl'}-{self.job_id}"

    def envelope(self, choices: list[dict[str, Any]], streaming: bool) -> dict[str, Any]:
        """The fields every body and chunk share around ``choices``."""
        kind = "text_completion" if self.kind == "text" else "chat.completion"
        obj = kind + (".chunk" if streaming and self.kind == "chat" else "")
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def body(self, text: str, final: JobEvent) -> dict[str, Any]:
        """The whole reply in one body."""
        choice: dict[str, Any] = {"index": 0, "finish_reason": _finish(final), "logprobs": None}
        if self.kind == "chat":
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return {**self.envelope([choice], False), "usage": _usage(final)}

    def chunk(self, text: str | None, finish: str | None = None, first: bool = False) -> dict[str, Any]:
        """One SSE chunk: a delta of text, or the finish reason."""
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if self.kind == "chat":
            delta: dict[str, Any] = {"role": "assistant"} if first else {}
            choice["delta"] = delta | ({"content": text} if text is not None else {})
        else:
            choice |= {"text": text or "", "logprobs": None}
        return self.envelope([choice], True)


async def fixed_reply(job_id: str, text: str) -> AsyncIterator[JobEvent]:
    """A reply made without the model (a stored notice) as the one final event of a job."""
    yield JobEvent(job_id, 0, "done", text=text, finish_reason="stop")


async def collect(
    service: ChatService, shape: ReplyShape, events: AsyncIterator[JobEvent] | None = None
) -> dict[str, Any]:
    """Wait for the whole reply (the final event comes once its row is stored); its body.

    ``events``: where the reply comes from when no job runs (``fixed_reply``); else the job's stream.
    """
    parts: list[str] = []
    final = None
    async for event in events or service.stream(shape.job_id):
        parts.append(event.text)
        final = event
    if final is None or final.kind == "error":
        raise ApiError(500, (final.error if final else None) or "generation failed", kind="server_error")
    return shape.body("".join(parts), final)


def _sse(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body)}\n\n"


async def stream_sse(
    service: ChatService,
    shape: ReplyShape,
    include_usage: bool,
    events: AsyncIterator[JobEvent] | None = None,
) -> AsyncIterator[str]:
    """The reply as server-sent events ending in `data: [DONE]`; with ``include_usage`` every chunk
    has `usage: null` and a last chunk with no choices carries the token counts (OpenAI's shape)."""

    def out(body: dict[str, Any]) -> str:
        return _sse(body | {"usage": None} if include_usage else body)

    finished = False
    try:
        if shape.kind == "chat":
            yield out(shape.chunk("", first=True))
        async for event in events or service.stream(shape.job_id):  # final once the row is stored
            if event.kind == "error":
                finished = True
                error = {
                    "message": event.error or "generation failed",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
                yield _sse({"error": error})
                break
            if event.text:
                yield out(shape.chunk(event.text))
            if event.final:
                finished = True
                yield out(shape.chunk(None, _finish(event)))
                if include_usage:
                    yield _sse({**shape.envelope([], True), "usage": _usage(event)})
        yield "data: [DONE]\n\n"
    finally:
        if not finished:  # the client went away mid-stream: free the engine's resources now
            await service.cancel(shape.job_id)
