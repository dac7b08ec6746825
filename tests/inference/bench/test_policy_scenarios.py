"""Real-model policy scenarios: built from measured step times, judged per headline metric."""

from __future__ import annotations

import pytest

from inference.bench.burst_trace import Arrival
from inference.bench.policy_bench import Run
from inference.bench.policy_real import scenario_summary
from inference.bench.policy_scenarios import REFERENCE_STEP_S, Scenario, StepTimes, build_scenarios, verdict
from inference.bench.scenario_traces import priority_surge


def test_one_scenario_per_policy_with_options_from_the_measured_steps() -> None:
    steps = StepTimes(batch1_s=2 * REFERENCE_STEP_S, full_s=0.5, full_batch=16)
    scenarios = {s.name: s for s in build_scenarios(0, steps)}
    assert set(scenarios) == {"priority", "time_window", "adaptive", "load_based", "predictive", "hybrid"}
    assert all(s.policy == s.name for s in scenarios.values())
    adaptive = scenarios["adaptive"]
    assert steps.batch1_s < adaptive.options["target_step_s"] == adaptive.tpot_target_s < steps.full_s
    # Steps twice as slow as the reference: the traces and time options stretch twice as long.
    assert scenarios["priority"].trace[-1].arrival_s == pytest.approx(2 * priority_surge(0)[-1].arrival_s)
    assert scenarios["load_based"].hog == (6.0, 14.0)
    assert scenarios["time_window"].options["window_s"] == pytest.approx(1.0)


def test_verdict_knows_which_way_is_better() -> None:
    policy = {"ttft_p99_high_s": 0.5, "throughput_tok_s": 9.0, "goodput_tok_s": 8.0}
    base = {"ttft_p99_high_s": 2.0, "throughput_tok_s": 10.0, "goodput_tok_s": 4.0}
    v = verdict(("ttft_p99_high_s", "throughput_tok_s", "goodput_tok_s", "missing"), policy, base)
    assert v["ttft_p99_high_s"] == {"ratio": 0.25, "policy_better": True}
    assert v["throughput_tok_s"]["policy_better"] is False
    assert v["goodput_tok_s"] == {"ratio": 2.0, "policy_better": True}
    assert v["missing"]["policy_better"] is None
    tie = verdict(("e2e_p99_s",), {"e2e_p99_s": 1.0}, {"e2e_p99_s": 1.0})
    assert tie["e2e_p99_s"]["policy_better"] is False


def test_summary_counts_goodput_only_for_requests_that_met_the_tpot_target() -> None:
    trace = [Arrival(i, 0.0, 0, (300, 301), 5, "low" if i < 2 else "high") for i in range(4)]
    # Requests 0 and 1 take 0.1 s per token, 2 and 3 take 0.5 s; all make 5 tokens.
    run = Run(first=dict.fromkeys(range(4), 0.1), finish={0: 0.5, 1: 0.5, 2: 2.1, 3: 2.1},
              tokens=dict.fromkeys(range(4), 5), forward_tokens=[4] * 5, cpu_s=1.0)
    scenario = Scenario(
        "adaptive", "adaptive", "q", tuple(trace), 4, {}, ("goodput_tok_s",), tpot_target_s=0.2
    )
    s = scenario_summary(scenario, trace, run)
    assert s["tpot_met_share"] == 0.5
    assert s["goodput_tok_s"] == pytest.approx(10 / 2.1)
    assert s["high_tpot_p99_s"] == pytest.approx(0.5) and s["low_tpot_p99_s"] == pytest.approx(0.1)
    assert s["cpu_ms_per_token"] == pytest.approx(50.0)
