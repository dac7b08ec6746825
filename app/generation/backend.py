"""The seam between the web app and whatever runs the engine: jobs in, numbered events out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["token", "done", "error"]


class BackendBusy(RuntimeError):
    """The queue is deeper than its limit: the caller tells the customer to wait and retries."""


@dataclass(frozen=True)
class GenerationJob:
    """What to generate: chat messages (the worker applies the chat template) or a plain text prompt,
    adapter, decoding."""

    job_id: str
    conversation_id: str
    messages: list[dict[str, str]]
    adapter: str | None
    params: dict[str, Any]
    priority: int = 0
    created_at: float = 0.0
    # The number guard's allowed values (inference.number_guard): None = no decode-time constraint.
    # A sorted list, not a set, so the job stays plain JSON on the Redis queue.
    allowed_values: list[str] | None = None
    # The retrieved facts as the prompt shows them, best first: the engine's copy bias pulls the
    # reply towards them (inference/copy_bias.py); empty = no nudge.
    copy_from: list[str] = field(default_factory=list)
    # Refusals the reply may not open with when the customer named a retrieved entry
    # (inference/opening_ban.py); empty = any opening.
    banned_openings: list[str] = field(default_factory=list)
    # Text the reply must begin with (a contact entry, quoted: inference/forced_opening.py).
    forced_opening: str = ""
    end_after_opening: bool = False  # the forced opening is the whole reply
    # A text completion's prompt (/v1/completions): continued as written, with no chat template,
    # system prompt or grounding; ``messages`` is then empty. None: the messages are templated.
    text_prompt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a queue message."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationJob:
        """Inverse of to_dict."""
        return cls(**data)


@dataclass(frozen=True)
class JobEvent:
    """One numbered event of a job's stream; `seq` starts at 0 and has no gaps."""

    job_id: str
    seq: int
    kind: EventKind
    text: str = ""
    finish_reason: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """True for the last event of a job."""
        return self.kind in ("done", "error")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a queue message or a websocket frame."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobEvent:
        """Inverse of to_dict."""
        return cls(**data)


class GenerationBackend(ABC):
    """Submit jobs, read their numbered events (resumable from any seq), cancel them."""

    @property
    def ready(self) -> bool:
        """Whether submitted jobs start generating now (False while an engine still loads)."""
        return True

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (engine thread, Redis connections)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    @abstractmethod
    async def submit(self, job: GenerationJob) -> None:
        """Queue a job; raises BackendBusy when the queue is over its limit."""

    @abstractmethod
    def events(self, job_id: str, after: int = -1) -> AsyncIterator[JobEvent]:
        """Yield the job's events with seq > after, ending after the final one."""

    @abstractmethod
    async def cancel(self, job_id: str) -> None:
        """Stop the job's generation and free its engine resources."""

    @abstractmethod
    async def health(self) -> dict[str, Any]:
        """A small dict for the health endpoint; raises if the backend cannot serve."""
