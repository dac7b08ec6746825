"""Which trace, limits and options each policy is measured with on the real model, and why.

Every scenario names one policy, the trace built for its problem (``scenario_traces.py``), the
metrics that problem is judged by, and whether a CPU hog competes during part of the trace; the
bench runs ``continuous`` on the same trace in the same run as the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from inference.bench import scenario_traces as traces
from inference.bench.burst_trace import Arrival

# Headline metrics where a larger value is better; every other metric is a latency or a cost.
HIGHER_IS_BETTER = frozenset(
    {"throughput_tok_s", "tokens_per_forward", "goodput_tok_s", "tpot_met_share"}
)


@dataclass(frozen=True)
class Scenario:
    """One policy against continuous on one trace."""

    name: str
    policy: str
    question: str  # the problem the policy exists for, as this scenario measures it
    trace: tuple[Arrival, ...]
    max_batch: int
    options: dict[str, Any]
    headline: tuple[str, ...]  # summary keys the verdict compares
    hog: tuple[float, float] | None = None  # trace seconds during which a CPU hog runs
    tpot_target_s: float | None = None  # for goodput: tokens of requests whose TPOT met it
    ttft_bound_s: float | None = None  # the TTFT p99 a low-load policy must stay within

    def __post_init__(self) -> None:
        if not self.trace:
            raise ValueError(f"scenario {self.name}: empty trace")
        if self.max_batch < 2:
            raise ValueError(f"scenario {self.name}: max_batch must be >= 2, got {self.max_batch}")


# The batch-1 decode step the traces were drawn for (SmolLM2-135M bf16, 1 thread, this box quiet).
# Traces and time options stretch by measured/reference, so the load a trace puts on the engine
# stays what it was designed to be when other processes slow every step down.
REFERENCE_STEP_S = 0.08


@dataclass(frozen=True)
class StepTimes:
    """Decode-step seconds measured in this run at batch 1 and at the largest batch used."""

    batch1_s: float
    full_s: float
    full_batch: int

    def tpot_target(self) -> float:
        """Halfway between: a target continuous misses at a full batch and meets at a small one."""
        return (self.batch1_s + self.full_s) / 2

    @property
    def scale(self) -> float:
        """How much slower than the reference step this run's steps are."""
        return self.batch1_s / REFERENCE_STEP_S


def stretch(trace: list[Arrival], k: float) -> tuple[Arrival, ...]:
    """The same trace with every arrival time multiplied by ``k``."""
    return tuple(replace(a, arrival_s=a.arrival_s * k) for a in trace)


def build_scenarios(seed: int, steps: StepTimes) -> list[Scenario]:
    """The six scenarios; options that depend on the model's speed come from ``steps``."""
    target, k = steps.tpot_target(), steps.scale
    window = 0.5 * k
    return [
        Scenario(
            "priority", "priority", "high-priority p99 TTFT under a surge of low-priority requests",
            stretch(traces.priority_surge(seed), k), 8, {},
            ("ttft_p99_high_s", "ttft_p99_low_s", "throughput_tok_s"),
        ),
        Scenario(
            "time_window", "time_window", "tokens per forward at low load within a TTFT bound",
            stretch(traces.low_load(seed), k), 8, {"window_s": window, "min_batch": 2, "max_batch": 8},
            ("tokens_per_forward", "cpu_ms_per_token", "ttft_p99_s"), ttft_bound_s=2 * window,
        ),
        Scenario(
            "adaptive", "adaptive", "throughput at a TPOT target as the load changes",
            stretch(traces.load_steps(seed), k), steps.full_batch,
            {"target_step_s": target, "max_batch": steps.full_batch},
            ("goodput_tok_s", "tpot_met_share", "tpot_p99_s", "ttft_p99_s"), tpot_target_s=target,
        ),
        Scenario(
            "load_based", "load_based", "latency under CPU contention from another process",
            stretch(traces.contention(seed), k), 8, {},
            ("contended_e2e_p99_s", "contended_tpot_p99_s", "contended_ttft_p99_s", "e2e_p99_s"),
            hog=(3.0 * k, 7.0 * k),
        ),
        Scenario(
            "predictive", "predictive", "ahead of a forecast surge (periodic clusters it can learn)",
            stretch(traces.periodic(seed), k), 8,
            {"season_s": 3.0 * k, "season_bins": 30, "max_hold_s": 0.3 * k, "target_batch": 4},
            ("tokens_per_forward", "cpu_ms_per_token", "ttft_p99_s"),
        ),
        Scenario(
            "hybrid", "hybrid", "its own mix: quiet and surge phases, one request in five high priority",
            stretch(traces.hybrid_mix(seed), k), 8, {"window_s": 0.2 * k},
            ("ttft_p99_high_s", "ttft_p99_low_s", "cpu_ms_per_token", "throughput_tok_s"),
        ),
    ]


def verdict(headline: tuple[str, ...], policy: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Per headline metric: policy / continuous and whether the policy is better (ties are not)."""
    out: dict[str, Any] = {}
    for key in headline:
        p, c = policy.get(key), base.get(key)
        if p is None or c is None:
            out[key] = {"ratio": None, "policy_better": None}
            continue
        ratio = p / c if c else None
        better = p > c if key in HIGHER_IS_BETTER else p < c
        out[key] = {"ratio": ratio, "policy_better": bool(better) and p != c}
    return out
