"""Adaptive cap: shrinks when steps exceed the target, grows back with demand when they are fast."""

from __future__ import annotations

import pytest

from inference.policies.adaptive import AdaptivePolicy
from inference.policies.base import get_policy
from tests.inference.policies.views import running, view, waiting


def test_slow_steps_shrink_the_cap_and_limit_admission() -> None:
    policy = AdaptivePolicy(target_step_s=0.05, max_batch=16, backoff=0.5, smoothing=1.0)
    run = [running("r0"), running("r1")]
    queue = [waiting(f"w{i}", 0.0) for i in range(20)]
    d1 = policy.decide(view(1.0, queue, run, max_batch=32, last_step=0.2))
    d2 = policy.decide(view(1.2, queue, run, max_batch=32, last_step=0.2))
    assert (d1.max_running, d2.max_running) == (8, 4)
    assert len(d1.admit) == 6 and len(d2.admit) == 2


def test_fast_steps_grow_the_cap_by_the_arrivals_per_step() -> None:
    policy = AdaptivePolicy(target_step_s=0.1, min_batch=2, max_batch=64, backoff=0.5, smoothing=1.0)
    policy.cap = 4.0
    run = [running("r")]
    policy.decide(view(0.0, [], run, last_step=0.05))
    # First step: no arrivals yet, +1. Then 50 arrivals in a second at 0.05 s per step is 2.5
    # arrivals per step: 4 + 1 + 2.5 = 7.5.
    queue = [waiting(f"w{i}", 0.5) for i in range(50)]
    d = policy.decide(view(1.0, queue, run, max_batch=64, last_step=0.05))
    assert d.max_running == 7 and len(d.admit) == 6


def test_cap_never_drops_below_min_batch() -> None:
    policy = AdaptivePolicy(target_step_s=0.01, min_batch=3, max_batch=8, smoothing=1.0)
    for i in range(20):
        d = policy.decide(view(float(i), [], [running("r")], last_step=1.0))
    assert d.max_running == 3


def test_bad_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="target_step_s"):
        get_policy("adaptive", target_step_s=0)
    with pytest.raises(ValueError, match="backoff"):
        get_policy("adaptive", backoff=1.5)
