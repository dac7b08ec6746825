"""Static batching: full batches or max-wait partial batches, nothing joins a running batch."""

from __future__ import annotations

import pytest

from inference.policies.base import get_policy
from inference.policies.static import StaticPolicy
from tests.inference.policies.views import Replay, running, view, waiting


def test_a_full_batch_launches_at_once_and_the_next_waits_for_it_to_finish() -> None:
    arrivals = [(0.0, "a", 0), (0.01, "b", 0), (0.02, "c", 0), (0.03, "d", 0), (0.04, "e", 0), (0.05, "f", 0)]
    replay = Replay(StaticPolicy(batch_size=3, max_wait_s=1.0), arrivals, service_steps=5).run(0.2)
    # a,b,c go at 0.02; d,e,f are complete at 0.05 but wait until a,b,c finish (5 steps later).
    assert replay.batches == [(0.02, ("a", "b", "c")), (0.07, ("d", "e", "f"))]


def test_a_partial_batch_launches_after_max_wait() -> None:
    replay = Replay(StaticPolicy(batch_size=4, max_wait_s=0.1), [(0.0, "a", 0), (0.02, "b", 0)]).run(0.3)
    assert replay.batches == [(0.1, ("a", "b"))]


def test_nothing_is_admitted_while_a_batch_runs() -> None:
    queue = [waiting("x", 0.0), waiting("y", 0.0)]
    decision = StaticPolicy(batch_size=2).decide(view(5.0, queue, [running("r")]))
    assert decision.admit == ()


def test_preempted_requests_resume_as_soon_as_the_engine_is_idle() -> None:
    decision = StaticPolicy(batch_size=4, max_wait_s=9).decide(view(0.0, [waiting("p", 0.0, preempted=True)]))
    assert decision.admit == ("p",)


def test_bad_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        get_policy("static", batch_size=0)
    with pytest.raises(ValueError, match="bad options"):
        get_policy("static", window=3)
