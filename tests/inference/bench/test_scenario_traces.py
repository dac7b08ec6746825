"""Per-policy traces: seeded, and each shaped like the problem its policy exists for."""

from __future__ import annotations

import pytest

from inference.bench import scenario_traces as traces


def _rate(arrivals: list, phase: str) -> float:
    times = [a.arrival_s for a in arrivals if a.phase == phase]
    return len(times) / (max(times) - min(times))


def test_every_trace_is_seeded_and_in_arrival_order() -> None:
    for build in (traces.priority_surge, traces.low_load, traces.load_steps, traces.contention,
                  traces.periodic, traces.hybrid_mix):
        a, b, other = build(seed=3), build(seed=3), build(seed=4)
        assert a == b and a != other, build.__name__
        assert [x.index for x in a] == list(range(len(a)))
        assert all(x.arrival_s <= y.arrival_s for x, y in zip(a, a[1:], strict=False))
        assert 24 <= len(a) <= 48, (build.__name__, len(a))  # short enough for a real-model run


def test_priority_surge_puts_high_priority_behind_a_full_batch_and_most_of_the_surge() -> None:
    trace = traces.priority_surge(seed=0, background=8, surge=24, high=6)
    high = [a for a in trace if a.priority == 1]
    low_surge = [a for a in trace if a.phase == "surge" and a.priority == 0]
    assert len(high) == 6 and len(low_surge) == 24
    assert sum(a.phase == "background" for a in trace) == 8
    first_high = min(a.arrival_s for a in high)
    assert sum(a.arrival_s < first_high for a in low_surge) >= 8  # a batch's worth already queued


def test_load_steps_are_denser_in_the_middle() -> None:
    trace = traces.load_steps(seed=0)
    assert _rate(trace, "high") > 3 * len([a for a in trace if a.phase == "low"]) / 12.0
    highs = [a.arrival_s for a in trace if a.phase == "high"]
    assert 6.0 <= min(highs) and max(highs) < 9.0


def test_contention_labels_the_hog_window_and_rejects_one_outside_the_trace() -> None:
    trace = traces.contention(seed=0, hog=(3.0, 7.0))
    assert all((a.phase == "contended") == (3.0 <= a.arrival_s < 7.0) for a in trace)
    assert {a.phase for a in trace} == {"contended", "free"}
    with pytest.raises(ValueError, match="hog window"):
        traces.contention(hog=(5.0, 12.0))


def test_periodic_clusters_repeat_every_period() -> None:
    trace = traces.periodic(seed=0, period_s=3.0, periods=8, cluster=4, gap_s=0.12)
    assert len(trace) == 32
    for k in range(8):
        in_period = [a for a in trace if 3.0 * k <= a.arrival_s < 3.0 * (k + 1)]
        assert len(in_period) == 4
        assert max(a.arrival_s for a in in_period) - 3.0 * k < 0.8  # a tight cluster, then silence
    with pytest.raises(ValueError, match="cluster"):
        traces.periodic(period_s=0.3, cluster=4, gap_s=0.12)


def test_low_load_and_hybrid_mix() -> None:
    quiet = traces.low_load(seed=0, rate=1.5, length_s=20.0)
    assert 20 <= len(quiet) <= 40 and max(a.arrival_s for a in quiet) < 20.0
    mix = traces.hybrid_mix(seed=0)
    assert _rate(mix, "surge") > 3 * _rate(mix, "quiet")
    assert 0 < sum(a.priority for a in mix) < len(mix) / 2
