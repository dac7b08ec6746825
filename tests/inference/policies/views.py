"""Build QueueViews by hand and replay scripted arrivals against a policy with a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from inference.policies.base import BatchingPolicy, QueueView, RunningItem, WaitingItem


def waiting(
    rid: str, t: float, priority: int = 0, prompt_len: int = 16, preempted: bool = False
) -> WaitingItem:
    """A waiting request."""
    return WaitingItem(rid, t, priority, prompt_len, preempted)


def running(rid: str, t: float = 0.0, priority: int = 0) -> RunningItem:
    """A running request with one sequence."""
    return RunningItem(rid, t, priority, num_generated=1)


def view(
    now: float, wait: list[WaitingItem] | None = None, run: list[RunningItem] | None = None,
    max_batch: int = 8, kv_usage: float = 0.0, free_blocks: int = 100, last_step: float = 0.0,
) -> QueueView:
    """A snapshot; utilisation follows from the running list."""
    run = run or []
    return QueueView(
        now=now, waiting=tuple(wait or []), running=tuple(run), kv_usage=kv_usage,
        utilisation=min(1.0, len(run) / max_batch), last_step_seconds=last_step, max_batch_size=max_batch,
        max_tokens_per_step=512, free_kv_blocks=free_blocks, block_size=16,
    )


@dataclass
class Replay:
    """A minimal scheduler stand-in: requests run ``service_steps`` steps of ``dt`` once admitted."""

    policy: BatchingPolicy
    arrivals: list[tuple[float, str, int]]  # (time, id, priority)
    max_batch: int = 8
    dt: float = 0.01
    service_steps: int = 3
    admitted: dict[str, float] = field(default_factory=dict)  # id -> admission time
    batches: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)

    def run(self, until: float) -> Replay:
        """Step the fake clock from 0 to ``until``, honouring the policy's admissions and cap."""
        left: dict[str, int] = {}
        prio = {rid: p for _, rid, p in self.arrivals}
        arrive = {rid: t for t, rid, _ in self.arrivals}
        k = 0
        while (now := round(k * self.dt, 9)) <= until + 1e-9:
            queue = [waiting(rid, arrive[rid], prio[rid]) for rid in arrive
                     if arrive[rid] <= now + 1e-9 and rid not in self.admitted]
            run = [running(rid, arrive[rid], prio[rid]) for rid in left]
            decision = self.policy.decide(view(now, queue, run, self.max_batch, last_step=self.dt))
            for rid in decision.preempt:
                left.pop(rid, None)
                self.admitted.pop(rid, None)
            cap = self.max_batch
            if decision.max_running is not None:
                cap = min(cap, decision.max_running)
            joined = []
            for rid in decision.admit:
                if len(left) >= cap:
                    break
                left[rid] = self.service_steps
                self.admitted[rid] = now
                joined.append(rid)
            if joined:
                self.batches.append((round(now, 6), tuple(joined)))
            for rid in list(left):
                left[rid] -= 1
                if left[rid] == 0:
                    del left[rid]
            k += 1
        return self
