"""Time window with thresholds: hold arrivals up to a window, go early at a minimum batch, cap it."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import by_arrival, check_positive, free_seats, oldest_wait


@register_policy
class TimeWindowPolicy(BatchingPolicy):
    """Trades first-token latency for fuller forwards when traffic is light."""

    name = "time_window"

    def __init__(self, window_s: float = 0.1, min_batch: int = 4, max_batch: int = 32) -> None:
        check_positive("time_window", window_s=window_s, min_batch=min_batch, max_batch=max_batch)
        if min_batch > max_batch:
            msg = f"time_window policy: min_batch ({min_batch}) must be <= max_batch ({max_batch})"
            raise ValueError(msg)
        self.window_s = float(window_s)
        self.min_batch = int(min_batch)
        self.max_batch = int(max_batch)

    def decide(self, view: QueueView) -> Admission:
        """Dispatch when the window from the oldest arrival closed or min_batch requests wait."""
        if not view.waiting:
            return Admission(max_running=self.max_batch)
        ready = (
            len(view.waiting) >= self.min_batch
            or oldest_wait(view) >= self.window_s
            or any(w.preempted for w in view.waiting)  # already paid their wait once
        )
        if not ready:
            return Admission(max_running=self.max_batch)
        seats = free_seats(view, self.max_batch)
        batch = by_arrival(view.waiting)[:seats]
        return Admission(admit=tuple(w.request_id for w in batch), max_running=self.max_batch)
