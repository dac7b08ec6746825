"""The batching-policy hook: each step the scheduler shows a policy the queue and it decides."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class WaitingItem:
    """A queued request (new, or preempted and waiting to resume)."""

    request_id: str
    arrival_time: float
    priority: int
    prompt_len: int
    preempted: bool = False


@dataclass(frozen=True)
class RunningItem:
    """A request that holds KV blocks and is in the running batch."""

    request_id: str
    arrival_time: float
    priority: int
    num_generated: int
    num_seqs: int = 1


@dataclass(frozen=True)
class QueueView:
    """Read-only snapshot of the engine a policy decides from; ``now`` comes from the engine's clock."""

    now: float
    waiting: tuple[WaitingItem, ...]
    running: tuple[RunningItem, ...]
    kv_usage: float  # fraction of KV blocks in use, 0..1
    utilisation: float  # running sequences / max_batch_size, 0..1
    last_step_seconds: float  # wall time of the previous step (0 before the first)
    max_batch_size: int
    max_tokens_per_step: int
    free_kv_blocks: int
    block_size: int
    # What the previous step computed: tokens and sequences (0, 0 = not reported). More tokens
    # than sequences means it prefilled, so its wall time says little about decode (TPOT).
    last_step_tokens: int = 0
    last_step_seqs: int = 0

    @property
    def last_step_decoded_only(self) -> bool:
        """Whether the previous step was decode only (or is not reported), so its time is a TPOT."""
        return self.last_step_tokens <= self.last_step_seqs


@dataclass(frozen=True)
class Admission:
    """Waiting ids to admit now (in order), running ids to preempt, and an optional batch cap."""

    admit: tuple[str, ...] = ()
    preempt: tuple[str, ...] = ()
    max_running: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "admit", tuple(self.admit))
        object.__setattr__(self, "preempt", tuple(self.preempt))
        if self.max_running is not None and self.max_running < 0:
            raise ValueError("Admission.max_running must be >= 0 or None")


class BatchingPolicy(ABC):
    """Decides admission and preemption; must be cheap since it runs every engine step."""

    name: ClassVar[str]

    @abstractmethod
    def decide(self, view: QueueView) -> Admission:
        """Choose which waiting requests join the running batch this step."""


_POLICIES: dict[str, type[BatchingPolicy]] = {}


def register_policy(cls: type[BatchingPolicy]) -> type[BatchingPolicy]:
    """Class decorator: make a policy available to get_policy under its ``name``."""
    _POLICIES[cls.name] = cls
    return cls


def get_policy(name: str, **kwargs: Any) -> BatchingPolicy:
    """Build the policy called ``name``; its module is inference/policies/<name>.py by convention."""
    if name not in _POLICIES:
        module = f"inference.policies.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the policy exists but something it imports is missing
                raise
    cls = _POLICIES.get(name)
    if cls is None:
        known = ", ".join(sorted(_POLICIES)) or "none"
        raise ValueError(f"unknown batching policy {name!r} (registered: {known})")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"batching policy {name!r}: bad options {sorted(kwargs)} ({exc})") from exc
