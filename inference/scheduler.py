"""Per-step scheduling: ask the policy, admit/preempt, then split a token budget over running work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from inference.kv_cache import KVBlockPool
from inference.policies.base import Admission, BatchingPolicy, QueueView, RunningItem, WaitingItem
from inference.sequence import RequestState, Sequence, Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledSeq:
    """Compute tokens [start, end) of ``seq`` this step; sample a token if that reaches its end."""

    state: RequestState
    seq: Sequence
    start: int
    end: int

    @property
    def samples(self) -> bool:
        """Whether this chunk completes the sequence's known tokens, so its logits are needed."""
        return self.end == len(self.seq.token_ids)


@dataclass
class StepPlan:
    """What one step runs, plus requests that were preempted or cannot ever fit."""

    items: list[ScheduledSeq] = field(default_factory=list)
    preempted: list[RequestState] = field(default_factory=list)
    too_large: list[RequestState] = field(default_factory=list)


def prefix_key(state: RequestState) -> int:
    """Prefix-cache namespace: the adapter's load id (0 = base model)."""
    return state.adapter.uid if state.adapter is not None else 0


class Scheduler:
    """Owns the waiting queue and running set; every decision about KV blocks is made here."""

    def __init__(
        self, pool: KVBlockPool, policy: BatchingPolicy, max_batch_size: int,
        max_tokens_per_step: int, clock: Callable[[], float],
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.max_batch_size = max_batch_size
        self.max_tokens_per_step = max_tokens_per_step
        self.clock = clock
        self.waiting: list[RequestState] = []
        self.running: list[RequestState] = []
        self.last_step_seconds = 0.0
        self.last_step_tokens = 0  # what the last plan computed, for the policy's view
        self.last_step_seqs = 0

    def add(self, state: RequestState) -> None:
        """Queue a new request."""
        state.status = Status.WAITING
        self.waiting.append(state)

    def remove(self, state: RequestState) -> None:
        """Take a request out (finished, aborted or failed) and free its blocks at once."""
        if state in self.running:
            self.running.remove(state)
        if state in self.waiting:
            self.waiting.remove(state)
        for seq in state.seqs:
            self.pool.free(seq)
        state.status = Status.FINISHED

    def view(self) -> QueueView:
        """Snapshot for the policy."""
        num_seqs = sum(len(s.seqs) for s in self.running)
        return QueueView(
            now=self.clock(),
            waiting=tuple(
                WaitingItem(
                    s.request_id, s.arrival_time, s.request.priority, s.prompt_len, s.num_preemptions > 0
                )
                for s in self.waiting
            ),
            running=tuple(
                RunningItem(s.request_id, s.arrival_time, s.request.priority, s.num_generated, len(s.seqs))
                for s in self.running
            ),
            kv_usage=self.pool.usage,
            utilisation=min(1.0, num_seqs / self.max_batch_size),
            last_step_seconds=self.last_step_seconds,
            max_batch_size=self.max_batch_size,
            max_tokens_per_step=self.max_tokens_per_step,
            free_kv_blocks=self.pool.num_free,
            block_size=self.pool.block_size,
            last_step_tokens=self.last_step_tokens,
            last_step_seqs=self.last_step_seqs,
        )

    def schedule(self) -> StepPlan:
        """Decide this step's batch: admissions, preemptions and the tokens each sequence computes."""
        plan = StepPlan()
        view = self.view()
        try:
            admission = self.policy.decide(view)
            if not isinstance(admission, Admission):
                raise TypeError(f"decide() returned {type(admission).__name__}, not Admission")
        except Exception:
            # A broken policy must not stall or fail requests: fall back to continuous batching.
            log.exception("batching policy %r failed; admitting in arrival order", self.policy.name)
            admission = Admission(admit=tuple(w.request_id for w in view.waiting))
        by_id = {s.request_id: s for s in self.running}
        for rid in admission.preempt:
            if rid in by_id:
                self._preempt(by_id[rid], plan)
        cap = self.max_batch_size
        if admission.max_running is not None:
            cap = min(cap, admission.max_running)
        waiting_by_id = {s.request_id: s for s in self.waiting}
        for rid in admission.admit:
            state = waiting_by_id.get(rid)
            if state is None or state in plan.preempted:
                continue
            if sum(len(s.seqs) for s in self.running) + len(state.seqs) > cap:
                break
            if not self._admit(state, plan):
                break
        self._fill_budget(plan)
        self.last_step_tokens = sum(s.end - s.start for s in plan.items)
        self.last_step_seqs = len(plan.items)
        return plan

    def _admit(self, state: RequestState, plan: StepPlan) -> bool:
        # Room for the known tokens plus the next one: a request that cannot take one more step
        # even with the whole pool to itself can never finish.
        first, rest = state.seqs[0], state.seqs[1:]
        # Beams of one request share their common prefix with the first beam, as before preemption.
        shared = [self._common_full_blocks(first, seq) for seq in rest]
        need = sum(self.pool.blocks_needed(len(seq.token_ids) + 1) for seq in state.seqs) - sum(shared)
        if need > self.pool.num_blocks:
            self.waiting.remove(state)
            plan.too_large.append(state)
            return True  # it will never fit; keep admitting the others
        # Only admit when the whole known context fits now, so admission does not cause thrashing.
        if need > self.pool.num_free:
            return False
        self.pool.match_prefix(first, prefix_key(state))
        ok = self.pool.prepare_write(first, first.num_computed, len(first.token_ids))
        for seq, blocks in zip(rest, shared, strict=True):
            if not ok:
                break
            self.pool.share_prefix(first, seq, blocks)
            ok = self.pool.prepare_write(seq, seq.num_computed, len(seq.token_ids))
        if not ok:
            for s in state.seqs:
                self.pool.free(s)
            return False
        self.waiting.remove(state)
        self.running.append(state)
        state.status = Status.RUNNING
        if state.first_scheduled_time is None:  # a preempted request's queue time ended earlier
            state.first_scheduled_time = self.clock()
        return True

    def _common_full_blocks(self, first: Sequence, seq: Sequence) -> int:
        limit = min(len(first.token_ids), len(seq.token_ids)) - 1  # seq keeps a token to compute
        common = 0
        while common < limit and first.token_ids[common] == seq.token_ids[common]:
            common += 1
        return common // self.pool.block_size

    def _preempt(self, state: RequestState, plan: StepPlan) -> None:
        # Recompute-style preemption: drop the KV and requeue; generated tokens are kept, so the
        # request resumes exactly where it was once it is re-admitted.
        self.running.remove(state)
        for seq in state.seqs:
            self.pool.free(seq)
        state.status = Status.WAITING
        state.num_preemptions += 1
        self.waiting.append(state)
        self.waiting.sort(key=lambda s: s.arrival_time)
        plan.preempted.append(state)

    def _fill_budget(self, plan: StepPlan) -> None:
        # Higher priority first, then older; preemption victims come from the end of this order.
        self.running.sort(key=lambda s: (-s.request.priority, s.arrival_time))
        decodes = sum(1 for s in self.running for q in s.seqs if q.num_uncomputed == 1)
        prefill_budget = max(0, self.max_tokens_per_step - decodes)
        i = 0
        while i < len(self.running):
            state = self.running[i]
            chunks: list[ScheduledSeq] = []
            for seq in state.seqs:
                if seq.wait_for:
                    # Shared blocks are filled by the first beam: wait until its chunk covers them.
                    lead = state.seqs[0]
                    done = chunks[0].end if chunks and chunks[0].seq is lead else lead.num_computed
                    if done < seq.wait_for:
                        continue
                    seq.wait_for = 0
                n = seq.num_uncomputed
                if n > 1:
                    n = min(n, prefill_budget)
                    if n == 0:
                        continue
                    prefill_budget -= n
                start = seq.num_computed
                while not self.pool.prepare_write(seq, start, start + n):
                    victim = self.running[-1]
                    if victim is state:
                        break
                    self._preempt(victim, plan)
                else:
                    chunks.append(ScheduledSeq(state, seq, start, start + n))
                    continue
                break
            else:
                plan.items.extend(chunks)
                i += 1
                continue
            # Not even this request fits once everything after it is gone: it waits for space.
            self._preempt(state, plan)
