"""Time window: hold up to the window, dispatch early at min_batch, never exceed max_batch."""

from __future__ import annotations

import pytest

from inference.policies.base import get_policy
from inference.policies.time_window import TimeWindowPolicy
from tests.inference.policies.views import Replay, running, view, waiting


def test_a_lone_request_waits_for_the_window() -> None:
    replay = Replay(TimeWindowPolicy(window_s=0.1, min_batch=3, max_batch=8), [(0.0, "a", 0)]).run(0.3)
    assert replay.batches == [(0.1, ("a",))]


def test_reaching_min_batch_dispatches_early() -> None:
    arrivals = [(0.0, "a", 0), (0.02, "b", 0), (0.04, "c", 0), (0.05, "d", 0)]
    replay = Replay(TimeWindowPolicy(window_s=0.1, min_batch=3, max_batch=8), arrivals).run(0.3)
    assert replay.batches[0] == (0.04, ("a", "b", "c"))
    when, batch = replay.batches[1]
    assert batch == ("d",) and 0.15 <= when <= 0.16  # d opens its own window (float rounding)


def test_the_running_batch_is_capped_at_max_batch() -> None:
    policy = TimeWindowPolicy(window_s=0.1, min_batch=1, max_batch=3)
    decision = policy.decide(view(1.0, [waiting(f"w{i}", 0.0) for i in range(4)], [running("r")]))
    assert decision.admit == ("w0", "w1") and decision.max_running == 3


def test_min_above_max_is_refused() -> None:
    with pytest.raises(ValueError, match="min_batch"):
        get_policy("time_window", min_batch=9, max_batch=4)
