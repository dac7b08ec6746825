"""Load-based admission: admit fewer requests as batch utilisation or KV usage climbs."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import blocks_for, by_arrival, check_fraction, free_seats


@register_policy
class LoadBasedPolicy(BatchingPolicy):
    """Keeps KV headroom for the running requests' growth, so they are not preempted later."""

    name = "load_based"

    def __init__(self, soft: float = 0.6, hard: float = 0.9, kv_headroom: float = 0.1) -> None:
        check_fraction("load_based", soft=soft, hard=hard, kv_headroom=kv_headroom)
        if soft >= hard:
            raise ValueError(f"load_based policy: soft ({soft}) must be below hard ({hard})")
        self.soft, self.hard, self.kv_headroom = float(soft), float(hard), float(kv_headroom)

    def allowance(self, view: QueueView) -> int:
        """How many requests may join now: all seats below ``soft`` load, tapering to 0 at ``hard``."""
        seats = free_seats(view)
        load = max(view.kv_usage, view.utilisation)
        if not view.running:
            return seats  # an idle engine always takes work, whatever the counters say
        if load >= self.hard:
            return 0
        if load <= self.soft:
            return seats
        share = (self.hard - load) / (self.hard - self.soft)
        return max(1, int(seats * share))

    def decide(self, view: QueueView) -> Admission:
        """Oldest first, up to the allowance and while the prompts fit beside a KV reserve."""
        total_blocks = view.free_kv_blocks / max(1e-9, 1.0 - view.kv_usage) if view.kv_usage < 1 else 0
        reserve = int(self.kv_headroom * total_blocks) if view.running else 0
        budget = view.free_kv_blocks - reserve
        admit: list[str] = []
        for w in by_arrival(view.waiting)[: self.allowance(view)]:
            need = blocks_for(w.prompt_len + 1, view.block_size)
            if need > budget and (admit or view.running):
                break
            budget -= need
            admit.append(w.request_id)
        return Admission(admit=tuple(admit))
