"""Priority: admission order by priority then age; full batches swap out strictly lower priorities."""

from __future__ import annotations

from inference.policies.priority import PriorityPolicy
from tests.inference.policies.views import Replay, running, view, waiting


def test_higher_priority_is_admitted_first() -> None:
    queue = [waiting("low-old", 0.0, 0), waiting("high-new", 0.5, 2), waiting("mid", 0.2, 1)]
    decision = PriorityPolicy().decide(view(1.0, queue, max_batch=2))
    assert decision.admit == ("high-new", "mid") and decision.preempt == ()


def test_a_full_batch_preempts_the_newest_lowest_priority_request() -> None:
    run = [running("low-a", 0.0, 0), running("low-b", 0.1, 0), running("mid", 0.0, 1)]
    decision = PriorityPolicy().decide(view(1.0, [waiting("high", 0.9, 2)], run, max_batch=3))
    assert decision.preempt == ("low-b",) and decision.admit == ("high",)


def test_equal_priority_never_preempts() -> None:
    run = [running("a", 0.0, 1), running("b", 0.1, 1)]
    decision = PriorityPolicy().decide(view(1.0, [waiting("c", 0.9, 1)], run, max_batch=2))
    assert decision == type(decision)()


def test_preemption_can_be_turned_off() -> None:
    decision = PriorityPolicy(preempt=False).decide(
        view(1.0, [waiting("high", 0.9, 2)], [running("low", 0.0, 0)], max_batch=1)
    )
    assert decision.admit == () and decision.preempt == ()


def test_under_a_burst_high_priority_requests_start_sooner() -> None:
    arrivals = [(0.0, f"low{i}", 0) for i in range(6)] + [(0.01, "high", 1)]
    replay = Replay(PriorityPolicy(), arrivals, max_batch=2, service_steps=4).run(0.5)
    assert replay.batches[0] == (0.0, ("low0", "low1"))
    assert replay.batches[1] == (0.01, ("high",))  # swapped in for low1 at once
