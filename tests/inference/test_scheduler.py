"""Scheduler and the batching-policy hook: admission, caps, token budget, preemption."""

from __future__ import annotations

import pytest
import torch

from inference.kv_cache import KVBlockPool, KVShape
from inference.params import SamplingParams
from inference.policies.base import Admission, BatchingPolicy, QueueView, get_policy
from inference.policies.continuous import ContinuousPolicy
from inference.request import GenerationRequest
from inference.scheduler import Scheduler
from inference.sequence import RequestState, Sequence, Status

SHAPE = KVShape(num_layers=1, num_kv_heads=1, head_dim=2, dtype=torch.float32)


class Recording(BatchingPolicy):
    """Admits what it is told and remembers every view it was shown."""

    name = "recording"

    def __init__(self, admission: Admission | None = None) -> None:
        self.admission = admission
        self.views: list[QueueView] = []

    def decide(self, view: QueueView) -> Admission:
        self.views.append(view)
        if self.admission is not None:
            return self.admission
        return Admission(admit=tuple(w.request_id for w in view.waiting))


def _state(rid: str, prompt_len: int, arrival: float, priority: int = 0) -> RequestState:
    req = GenerationRequest(
        list(range(1, prompt_len + 1)), SamplingParams.greedy(4), priority=priority, request_id=rid,
        arrival_time=arrival,
    )
    return RequestState(request=req, adapter=None, seqs=[Sequence(list(req.prompt_ids), prompt_len)])


def _scheduler(policy: BatchingPolicy, blocks: int = 32, batch: int = 8, budget: int = 16) -> Scheduler:
    pool = KVBlockPool(SHAPE, blocks, 4, torch.device("cpu"))
    return Scheduler(pool, policy, batch, budget, clock=lambda: 42.0)


def _finish_step(plan) -> None:
    """Pretend the forward ran: mark chunks computed and append a token where one was sampled."""
    for item in plan.items:
        item.seq.num_computed = item.end
        if item.end == len(item.seq.token_ids):
            item.seq.token_ids.append(7)


def test_view_carries_what_policies_need() -> None:
    policy = Recording(Admission())
    sched = _scheduler(policy)
    sched.add(_state("a", 5, arrival=1.0, priority=2))
    plan = sched.schedule()
    view = policy.views[0]
    assert view.now == 42.0 and view.max_batch_size == 8 and view.kv_usage == 0.0
    assert view.waiting[0].request_id == "a" and view.waiting[0].priority == 2
    assert view.waiting[0].prompt_len == 5 and view.waiting[0].arrival_time == 1.0
    assert plan.items == [] and sched.running == []  # admitting nothing runs nothing


def test_max_running_cap_limits_admission() -> None:
    sched = _scheduler(Recording(Admission(admit=("a", "b", "c"), max_running=2)))
    for i, rid in enumerate("abc"):
        sched.add(_state(rid, 3, arrival=float(i)))
    sched.schedule()
    assert [s.request_id for s in sched.running] == ["a", "b"]
    assert [s.request_id for s in sched.waiting] == ["c"]


def test_token_budget_chunks_long_prompt_while_decodes_continue() -> None:
    sched = _scheduler(ContinuousPolicy(), budget=8)
    sched.add(_state("short", 3, arrival=0.0))
    _finish_step(sched.schedule())  # short is now decoding
    sched.add(_state("long", 30, arrival=1.0))
    for _ in range(4):
        plan = sched.schedule()
        by_id = {i.state.request_id: i for i in plan.items}
        assert by_id["short"].end - by_id["short"].start == 1  # the decode never stalls
        assert sum(i.end - i.start for i in plan.items) <= 8
        _finish_step(plan)
    long_seq = next(s for s in sched.running if s.request_id == "long").seqs[0]
    assert long_seq.num_computed == 28  # 7 prompt tokens per step beside the decode


def test_policy_preemption_requeues_and_frees() -> None:
    sched = _scheduler(ContinuousPolicy())
    sched.add(_state("a", 6, arrival=0.0))
    _finish_step(sched.schedule())
    assert sched.pool.num_used == 2
    sched.policy = Recording(Admission(preempt=("a",)))
    plan = sched.schedule()
    assert [s.request_id for s in plan.preempted] == ["a"]
    assert sched.pool.num_used == 0 and sched.waiting[0].status is Status.WAITING
    assert sched.waiting[0].seqs[0].token_ids[-1] == 7  # generated tokens survive for recompute


def test_kv_pressure_preempts_lowest_priority_newest() -> None:
    sched = _scheduler(ContinuousPolicy(), blocks=4, budget=64)
    sched.add(_state("old", 7, arrival=0.0))
    sched.add(_state("new", 7, arrival=1.0))
    _finish_step(sched.schedule())
    _finish_step(sched.schedule())  # both hold 2 full blocks (8 computed tokens) + 1 sampled
    assert sched.pool.num_free == 0
    plan = sched.schedule()  # both need a third block now; only one can continue
    assert [s.request_id for s in plan.preempted] == ["new"]
    assert [i.state.request_id for i in plan.items] == ["old"]


def test_request_that_can_never_fit_is_reported() -> None:
    sched = _scheduler(ContinuousPolicy(), blocks=2)
    sched.add(_state("huge", 20, arrival=0.0))
    plan = sched.schedule()
    assert [s.request_id for s in plan.too_large] == ["huge"] and sched.waiting == []


def test_policy_registry() -> None:
    assert isinstance(get_policy("continuous"), ContinuousPolicy)
    with pytest.raises(ValueError, match="unknown batching policy 'nope'"):
        get_policy("nope")
    with pytest.raises(ValueError, match="bad options"):
        get_policy("continuous", window=3)
    with pytest.raises(ValueError, match="max_running"):
        Admission(max_running=-1)


def test_broken_policy_falls_back_to_arrival_order() -> None:
    class Broken(BatchingPolicy):
        name = "broken"

        def decide(self, view: QueueView) -> Admission:
            raise ZeroDivisionError("bug in a policy")

    sched = _scheduler(Broken())
    sched.add(_state("b", 3, arrival=2.0))
    sched.add(_state("a", 3, arrival=1.0))
    plan = sched.schedule()
    assert {i.state.request_id for i in plan.items} == {"a", "b"}
