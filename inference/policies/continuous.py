"""Continuous batching: admit every waiting request in arrival order; KV space is the only limit."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy


@register_policy
class ContinuousPolicy(BatchingPolicy):
    """Iteration-level batching: new requests join at the very next step."""

    name = "continuous"

    def decide(self, view: QueueView) -> Admission:
        """Admit all waiting requests, oldest first."""
        ordered = sorted(view.waiting, key=lambda w: w.arrival_time)
        return Admission(admit=tuple(w.request_id for w in ordered))
