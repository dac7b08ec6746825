"""Predictive: EWMA (and seasonal) arrival forecast drives short holds and a KV reserve."""

from __future__ import annotations

import pytest

from inference.policies.base import get_policy
from inference.policies.predictive import PredictivePolicy
from tests.inference.policies.views import Replay, running, view, waiting


def test_dense_arrivals_are_held_briefly_to_form_a_batch() -> None:
    arrivals = [(i * 0.01, f"r{i}", 0) for i in range(6)]
    replay = Replay(PredictivePolicy(max_hold_s=0.05, target_batch=4), arrivals, service_steps=50).run(0.1)
    # r0 goes alone (no forecast yet); once gaps of 10 ms are seen, r1.. wait for company.
    assert replay.batches[0] == (0.0, ("r0",))
    assert len(replay.batches[1][1]) >= 2


def test_sparse_arrivals_are_not_held() -> None:
    arrivals = [(0.0, "a", 0), (1.0, "b", 0), (2.0, "c", 0)]
    replay = Replay(PredictivePolicy(max_hold_s=0.05, target_batch=4), arrivals).run(2.1)
    assert replay.batches == [(0.0, ("a",)), (1.0, ("b",)), (2.0, ("c",))]


def test_a_long_silence_lowers_the_forecast() -> None:
    policy = PredictivePolicy(alpha=1.0)
    policy.decide(view(0.01, [waiting("a", 0.0), waiting("b", 0.01)]))
    assert policy.forecast_rate(0.01) == pytest.approx(100.0)
    assert policy.forecast_rate(2.01) == pytest.approx(0.5)


def test_seasonal_bins_remember_the_gap_that_follows_an_arrival() -> None:
    policy = PredictivePolicy(alpha=1.0, season_s=10.0, season_bins=2)
    ids = iter(range(100))
    for t in (0.0, 0.1, 0.2, 5.0, 6.0, 7.0):  # dense in the first half, sparse in the second
        policy.decide(view(t, [waiting(f"x{next(ids)}", t)], [running("r")] * 8))
    # 0.2 -> 5.0 followed the last dense arrival (bin 0); 6.0 -> 7.0 is the last gap of bin 1.
    assert policy.season_gap[0] == pytest.approx(4.8)
    assert policy.season_gap[1] == pytest.approx(1.0)


def test_the_first_request_of_a_learnt_cluster_is_held_for_the_next() -> None:
    policy = PredictivePolicy(alpha=1.0, season_s=1.0, season_bins=50, max_hold_s=0.05, target_batch=4)
    seen = 0
    for k in range(3):  # clusters of three 20 ms apart at the start of every second
        for offset in (0.005, 0.025, 0.045):
            policy.decide(view(k + offset, [waiting(f"c{seen}", k + offset)], [running("r")] * 8))
            seen += 1
    # A new cluster starts after almost a second of silence: the season says the next request
    # follows in 20 ms, so the lone first one waits for it instead of prefilling alone.
    first = policy.decide(view(3.006, [waiting("new", 3.005)]))
    assert first.admit == ()
    assert policy.decide(view(3.2, [waiting("new", 3.005)])).admit == ("new",)  # hold is bounded


def test_kv_is_reserved_for_expected_arrivals() -> None:
    policy = PredictivePolicy(alpha=1.0, horizon_s=1.0, reserve_fraction=0.5, max_hold_s=1e-3)
    queue = [waiting(f"w{i}", 0.9 + i * 0.01, prompt_len=40) for i in range(10)]
    decision = policy.decide(view(1.0, queue, [running("r")], max_batch=64, kv_usage=0.8, free_blocks=20))
    # ~100 arrivals/s x 3 blocks each, capped at half of the 100-block pool: all 20 free blocks kept.
    assert decision.admit == ()


def test_bad_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="season_s"):
        get_policy("predictive", season_s=-1.0)
