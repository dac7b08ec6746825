"""Small shared arithmetic for policies: ordering, free seats, KV blocks a prompt needs."""

from __future__ import annotations

from collections.abc import Iterable

from inference.policies.base import QueueView, WaitingItem


def by_arrival(items: Iterable[WaitingItem]) -> list[WaitingItem]:
    """Oldest first."""
    return sorted(items, key=lambda w: w.arrival_time)


def by_priority(items: Iterable[WaitingItem]) -> list[WaitingItem]:
    """Highest priority first, oldest first within a priority."""
    return sorted(items, key=lambda w: (-w.priority, w.arrival_time))


def running_seqs(view: QueueView) -> int:
    """Sequences in the running batch (a beam request holds several)."""
    return sum(r.num_seqs for r in view.running)


def free_seats(view: QueueView, cap: int | None = None) -> int:
    """How many more sequences fit under ``cap`` (default: the engine's max batch size)."""
    limit = view.max_batch_size if cap is None else min(cap, view.max_batch_size)
    return max(0, limit - running_seqs(view))


def blocks_for(tokens: int, block_size: int) -> int:
    """KV blocks that ``tokens`` tokens occupy."""
    return -(-tokens // block_size)


def oldest_wait(view: QueueView) -> float:
    """Seconds the oldest waiting request has waited (0 when none waits)."""
    if not view.waiting:
        return 0.0
    return max(0.0, view.now - min(w.arrival_time for w in view.waiting))


def check_positive(owner: str, **values: float) -> None:
    """Raise ValueError naming the first option that is not > 0."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{owner} policy: {name} must be > 0, got {value!r}")


def check_fraction(owner: str, **values: float) -> None:
    """Raise ValueError naming the first option outside 0..1."""
    for name, value in values.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{owner} policy: {name} must be within 0..1, got {value!r}")
