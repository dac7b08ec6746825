"""The synthetic chat trace: seeded, within its ranges, Poisson-ish arrivals, the adapter mix."""

from __future__ import annotations

import pytest

from inference.bench.trace import FIRST_ORDINARY_ID, TraceSpec, describe, make_trace, stratified_sample


def test_same_seed_same_trace_and_other_seed_differs() -> None:
    assert make_trace(TraceSpec(num_requests=20, seed=1)) == make_trace(TraceSpec(num_requests=20, seed=1))
    assert make_trace(TraceSpec(num_requests=20, seed=1)) != make_trace(TraceSpec(num_requests=20, seed=2))


def test_lengths_ids_and_arrivals_are_in_range() -> None:
    spec = TraceSpec(num_requests=400, rate=5.0, seed=0)
    trace = make_trace(spec)
    assert trace[0].arrival_s == 0.0
    assert all(a.arrival_s <= b.arrival_s for a, b in zip(trace, trace[1:], strict=False))
    assert all(30 <= len(r.prompt_ids) <= 400 and 16 <= r.max_new_tokens <= 256 for r in trace)
    assert all(FIRST_ORDINARY_ID <= t < spec.vocab_size for r in trace for t in r.prompt_ids)
    # Mean gap of a Poisson process at 5/s is 0.2 s; 400 draws land well within 20 %.
    assert trace[-1].arrival_s / (len(trace) - 1) == pytest.approx(0.2, rel=0.2)


def test_adapter_mix_is_roughly_50_30_20() -> None:
    trace = make_trace(TraceSpec(num_requests=2000, seed=0))
    share = {n: sum(r.adapter == n for r in trace) / len(trace) for n in ("general", "tech_support", "sales")}
    assert share == pytest.approx({"general": 0.5, "tech_support": 0.3, "sales": 0.2}, abs=0.04)


def test_stratified_sample_keeps_the_length_mix_in_arrival_order() -> None:
    trace = make_trace(TraceSpec(num_requests=32, seed=0))
    part = stratified_sample(trace, 8)
    assert len(part) == 8 and [r.index for r in part] == sorted(r.index for r in part)
    mean = sum(r.max_new_tokens for r in trace) / len(trace)
    part_mean = sum(r.max_new_tokens for r in part) / len(part)
    assert abs(part_mean - mean) < 0.15 * mean
    lengths = sorted(r.max_new_tokens for r in trace)
    picked = [r.max_new_tokens for r in part]
    assert min(picked) <= lengths[4] and max(picked) >= lengths[-5]
    assert stratified_sample(trace, 99) == trace


def test_describe() -> None:
    spec = TraceSpec(num_requests=10)
    trace = make_trace(spec)
    info = describe(spec, trace)
    assert info["output_tokens_total"] == sum(r.max_new_tokens for r in trace)
    assert sum(info["adapter_counts"].values()) == 10  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_requests": 0}, "num_requests"),
        ({"rate": 0.0}, "rate"),
        ({"prompt_tokens": (50, 10)}, "prompt_tokens"),
        ({"output_tokens": (0, 10)}, "output_tokens"),
        ({"mix": {"general": -1.0}}, "mix"),
    ],
)
def test_bad_spec_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TraceSpec(**kwargs)
