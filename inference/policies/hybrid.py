"""Hybrid: continuous batching plus the time-window, load and priority rules in one policy."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import check_fraction, check_positive, oldest_wait
from inference.policies.load_based import LoadBasedPolicy
from inference.policies.priority import PriorityPolicy


@register_policy
class HybridPolicy(BatchingPolicy):
    """At low load, hold a lone low-priority arrival up to ``window_s`` for company; otherwise admit
    by priority (preempting lower priorities when full) as far as the load allowance permits."""

    name = "hybrid"

    def __init__(
        self, window_s: float = 0.02, min_batch: int = 2, low_load: float = 0.25, soft: float = 0.6,
        hard: float = 0.9, preempt: bool = True,
    ) -> None:
        check_positive("hybrid", window_s=window_s, min_batch=min_batch)
        check_fraction("hybrid", low_load=low_load)
        self.window_s, self.min_batch, self.low_load = float(window_s), int(min_batch), float(low_load)
        self.load = LoadBasedPolicy(soft=soft, hard=hard)
        self.priority = PriorityPolicy(preempt=preempt)

    def decide(self, view: QueueView) -> Admission:
        """Time rule, then priority order within the load allowance (swaps do not add load)."""
        if not view.waiting:
            return Admission()
        urgent = any(w.priority > 0 or w.preempted for w in view.waiting)
        quiet = view.utilisation <= self.low_load
        if quiet and not urgent and len(view.waiting) < self.min_batch and oldest_wait(view) < self.window_s:
            return Admission()
        return self.priority.plan(view, free_limit=self.load.allowance(view))
