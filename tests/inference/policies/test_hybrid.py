"""Hybrid: time window at low load, priority order and preemption, load allowance."""

from __future__ import annotations

from inference.policies.hybrid import HybridPolicy
from tests.inference.policies.views import running, view, waiting


def test_a_lone_low_priority_request_is_held_at_low_load_only_for_the_window() -> None:
    policy = HybridPolicy(window_s=0.05, min_batch=2)
    assert policy.decide(view(0.01, [waiting("a", 0.0)])).admit == ()
    assert policy.decide(view(0.06, [waiting("a", 0.0)])).admit == ("a",)


def test_high_priority_is_never_held() -> None:
    assert HybridPolicy(window_s=1.0).decide(view(0.0, [waiting("h", 0.0, priority=1)])).admit == ("h",)


def test_full_batch_swaps_in_high_priority_despite_load() -> None:
    run = [running("low", 0.0, 0), running("mid", 0.0, 1)]
    decision = HybridPolicy().decide(view(1.0, [waiting("h", 0.5, 2)], run, max_batch=2, kv_usage=0.95))
    assert decision.preempt == ("low",) and decision.admit == ("h",)


def test_load_allowance_limits_free_seat_admissions() -> None:
    queue = [waiting(f"w{i}", 0.0) for i in range(10)]
    run = [running(f"r{i}") for i in range(4)]
    decision = HybridPolicy(soft=0.5, hard=0.9).decide(view(1.0, queue, run, max_batch=20, kv_usage=0.7))
    assert len(decision.admit) == 8
