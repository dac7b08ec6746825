"""The policy benchmark's pieces: the bursty trace, the replay through LLMEngine, the summary."""

from __future__ import annotations

import pytest

from inference.bench.burst_trace import Arrival, BurstSpec, bursty_trace
from inference.bench.policy_bench import replay, summarize
from inference.bench.policy_report import checks
from inference.engine import EngineConfig, LLMEngine


def test_the_trace_is_seeded_and_bursty() -> None:
    spec = BurstSpec(quiet_s=2.0, quiet_rate=3.0, surge_s=2.0, surge_rate=40.0, seed=1)
    trace = bursty_trace(spec)
    assert trace == bursty_trace(spec)
    by_phase = {p: [a for a in trace if a.phase == p] for p in ("quiet", "surge")}
    assert len(by_phase["surge"]) > 4 * len(by_phase["quiet"])
    assert all(2.0 <= a.arrival_s < 4.0 for a in by_phase["surge"])
    assert 0 < sum(a.priority for a in trace) < len(trace) / 2
    quiet = bursty_trace(spec, surge=False)
    assert all(a.phase == "quiet" for a in quiet) and len(quiet) < len(trace)


def test_bad_spec_names_the_field() -> None:
    with pytest.raises(ValueError, match="surge_rate"):
        BurstSpec(surge_rate=0)


def test_replay_serves_every_request_and_counts_forwards(tiny_model, tokenizer) -> None:
    trace = [Arrival(i, 0.01 * i, i % 2, (300 + i, 400, 500), 3, "quiet") for i in range(4)]
    engine = LLMEngine(tiny_model, tokenizer, EngineConfig(max_batch_size=2, kv_budget_tokens=256))
    run = replay(engine, trace)
    summary = summarize(trace, run)
    assert sum(run.tokens.values()) == 12 == sum(run.forward_tokens)
    assert 1.0 <= summary["tokens_per_forward"] <= 2.0
    assert summary["ttft_p99_high_s"] is not None and summary["e2e_p50_s"] >= summary["ttft_p50_s"]


def test_checks_compare_the_right_numbers() -> None:
    row = {"throughput_tok_s": 10.0, "e2e_p99_s": 1.0, "ttft_p99_high_s": 0.1, "ttft_p99_low_s": 0.6,
           "tokens_per_forward": 2.0, "ttft_p50_s": 0.1}
    slow = dict(row, throughput_tok_s=5.0, e2e_p99_s=3.0)
    bursty = {"priority": row, "continuous": row, "static": slow}
    result = checks(bursty, {"time_window": row, "continuous": row})
    assert result["priority: high p99 TTFT <= 1/3 of low (surge trace)"]["met"]
    assert result["continuous beats static on throughput"]["value"] == 2.0
    assert not result["time_window beats continuous on tokens/forward at low load"]["met"]


def test_replay_on_the_own_cpu_clock_serves_every_request(tiny_model, tokenizer) -> None:
    from inference.bench.replay_clock import OwnCpuClock

    clock = OwnCpuClock()
    # Arrivals 0.4 s of CPU time apart: nine tiny-model tokens cost far less, so the replay must
    # wait for the later ones (at 0.02 s apart a loaded 2-core CI box computed past them unwaited).
    trace = [Arrival(i, 0.4 * i, 0, (300 + i, 400, 500), 3, "quiet") for i in range(3)]
    config = EngineConfig(max_batch_size=2, kv_budget_tokens=256, clock=clock)
    engine = LLMEngine(tiny_model, tokenizer, config)
    run = replay(engine, trace, clock=clock)
    assert sum(run.tokens.values()) == 9
    assert clock.slept > 0  # it waited for the later arrivals on its own clock
    assert all(run.first[a.index] >= a.arrival_s for a in trace)
    assert engine.scheduler.last_step_seconds > 0
