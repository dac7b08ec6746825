"""Priority: higher ``priority`` first; when the batch is full, swap out lower-priority requests."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import blocks_for, by_priority, check_positive, free_seats


@register_policy
class PriorityPolicy(BatchingPolicy):
    """Strict priority with preemption of strictly lower-priority running requests (never equals)."""

    name = "priority"

    def __init__(self, preempt: bool = True, max_preemptions_per_step: int = 4) -> None:
        check_positive("priority", max_preemptions_per_step=max_preemptions_per_step)
        self.preempt = bool(preempt)
        self.max_preemptions = int(max_preemptions_per_step)

    def plan(self, view: QueueView, free_limit: int | None = None) -> Admission:
        """Admit by priority into free seats (at most ``free_limit``), then by swapping out victims."""
        seats = free_seats(view)
        if free_limit is not None:
            seats = min(seats, free_limit)
        blocks = view.free_kv_blocks
        # Victims: lowest priority first, newest first within it (least work lost).
        victims = sorted(view.running, key=lambda r: (r.priority, -r.arrival_time))
        admit: list[str] = []
        preempt: list[str] = []
        for w in by_priority(view.waiting):
            need = blocks_for(w.prompt_len + 1, view.block_size)
            if seats >= 1 and need <= blocks:
                admit.append(w.request_id)
                seats -= 1
                blocks -= need
                continue
            can_swap = self.preempt and len(preempt) < self.max_preemptions
            if not (can_swap and victims and victims[0].priority < w.priority):
                break
            victim = victims.pop(0)
            preempt.append(victim.request_id)
            # A victim frees its seat; how many blocks it frees is not visible here, so later
            # requests only get in by further swaps and the scheduler re-checks KV on admission.
            seats += victim.num_seqs - 1
            blocks = 0
            admit.append(w.request_id)
        return Admission(admit=tuple(admit), preempt=tuple(preempt))

    def decide(self, view: QueueView) -> Admission:
        """Highest priority first, preempting lower-priority work when the batch is full."""
        return self.plan(view)
