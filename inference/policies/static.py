"""Static batching: gather up to B requests (or wait at most max_wait), run them all to completion."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import by_arrival, check_positive, oldest_wait


@register_policy
class StaticPolicy(BatchingPolicy):
    """Request-level batching as in HF ``generate``: nothing joins a batch that is running."""

    name = "static"

    def __init__(self, batch_size: int = 8, max_wait_s: float = 0.5) -> None:
        check_positive("static", batch_size=batch_size, max_wait_s=max_wait_s)
        self.batch_size = int(batch_size)
        self.max_wait_s = float(max_wait_s)

    def decide(self, view: QueueView) -> Admission:
        """Launch a full batch, or a partial one once its oldest request waited max_wait_s."""
        if view.running:
            return Admission()
        # Preempted requests belong to the batch that was running: they resume at once.
        full = len(view.waiting) >= self.batch_size
        if not (full or oldest_wait(view) >= self.max_wait_s or any(w.preempted for w in view.waiting)):
            return Admission()
        batch = by_arrival(view.waiting)[: self.batch_size]
        return Admission(admit=tuple(w.request_id for w in batch), max_running=self.batch_size)
