"""`switchboard bench policies --real`: each policy on its own trace against continuous, real model.

The random tiny model of `policy_bench.py` costs the same per step at any batch size, so a policy
that trades batch size for latency cannot show anything there. Here the model is the real one
(its steps get slower as the batch grows, and prefill costs what it costs), each scenario replays
its trace through ``continuous`` and through its policy in the same run, and passes alternate the
order so drifting load from other processes does not favour either. Latencies run on the
own-CPU clock (``replay_clock.py``) except in the contention scenario, which needs the wall clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.bench.burst_trace import Arrival
from inference.bench.cpu_hog import CpuHog
from inference.bench.policy_bench import Run, mean_summary, replay, summarize
from inference.bench.policy_scenarios import REFERENCE_STEP_S, Scenario, StepTimes, build_scenarios, verdict
from inference.bench.replay_clock import OwnCpuClock, ReplayClock, WallClock
from inference.cpu_features import cpu_info

FULL_BATCH = 16  # the adaptive scenario's max batch: the TPOT target lies between 1 and this
WALL_CLOCK_SCENARIOS = frozenset({"load_based"})  # the CPU hog must be able to slow it down


@dataclass(frozen=True)
class RealPolicyBenchConfig:
    """Which model, dtype, seed, passes and output folder; ``only`` limits the scenarios run."""

    model_dir: Path
    out_dir: Path
    dtype: str = "auto"
    threads: int = 1
    passes: int = 2
    seed: int = 0
    only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.passes < 1:
            raise ValueError(f"passes must be >= 1, got {self.passes}")
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"dtype must be auto, float32 or bfloat16, got {self.dtype!r}")


def scenario_summary(scenario: Scenario, trace: list[Arrival], run: Run) -> dict[str, Any]:
    """The common summary plus per-phase tails and, where the scenario has a TPOT target, goodput."""
    out = summarize(trace, run)
    ttft = {a.index: run.first[a.index] - a.arrival_s for a in trace}
    e2e = {a.index: run.finish[a.index] - a.arrival_s for a in trace}
    tpot = {
        a.index: (run.finish[a.index] - run.first[a.index]) / (run.tokens[a.index] - 1)
        for a in trace if run.tokens[a.index] > 1
    }
    for phase in sorted({a.phase for a in trace}):
        ids = [a.index for a in trace if a.phase == phase]
        out[f"{phase}_ttft_p99_s"] = float(np.percentile([ttft[i] for i in ids], 99))
        out[f"{phase}_e2e_p99_s"] = float(np.percentile([e2e[i] for i in ids], 99))
        phase_tpot = [tpot[i] for i in ids if i in tpot]
        out[f"{phase}_tpot_p99_s"] = float(np.percentile(phase_tpot, 99)) if phase_tpot else None
    out["tpot_p99_s"] = float(np.percentile(list(tpot.values()), 99)) if tpot else None
    if scenario.tpot_target_s is not None:
        met = [i for i, v in tpot.items() if v <= scenario.tpot_target_s]
        span = max(run.finish.values()) - min(a.arrival_s for a in trace)
        out["goodput_tok_s"] = sum(run.tokens[i] for i in met) / span
        out["tpot_met_share"] = len(met) / len(trace)
    if scenario.ttft_bound_s is not None:
        out["ttft_p99_within_bound"] = float(out["ttft_p99_s"] <= scenario.ttft_bound_s)
    return out


def _engine(
    model: Any, tok: Any, policy: str, max_batch: int, options: dict[str, Any], clock: ReplayClock
) -> Any:
    from inference.engine import EngineConfig, LLMEngine

    config = EngineConfig(
        max_batch_size=max_batch, kv_budget_tokens=8192, policy=policy, policy_options=options, clock=clock
    )
    return LLMEngine(model, tok, config)


def calibrate(model: Any, tok: Any, full_batch: int, clock: ReplayClock, warm_up: bool = True) -> StepTimes:
    """Median decode-only step on ``clock`` at batch 1 and at ``full_batch``; the first call warms up."""
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    medians = []
    for n in ((1,) if warm_up else ()) + (1, full_batch):
        engine = _engine(model, tok, "continuous", full_batch, {}, clock)
        for i in range(n):
            params = SamplingParams.greedy(max_new_tokens=12, ignore_eos=True)
            engine.add_request(GenerationRequest(tuple(range(1000 + i, 1040 + i)), params, request_id=str(i)))
        engine.step()  # the prefill
        steps = []
        while engine.has_unfinished():
            started = clock()
            engine.step()
            steps.append(clock() - started)
        medians.append(float(np.median(steps)))
    return StepTimes(medians[-2], medians[-1], full_batch)


def scenario_clock(name: str) -> ReplayClock:
    """The wall clock where another process taking the CPU is the point, else the own-CPU clock."""
    return WallClock() if name in WALL_CLOCK_SCENARIOS else OwnCpuClock()


def run_scenario(model: Any, tok: Any, scenario: Scenario, passes: int, log: Callable[[str], None]) -> dict:
    """Both policies over the scenario's trace, ``passes`` times in alternating order."""
    trace = list(scenario.trace)
    order = ("continuous", scenario.policy)
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in order}
    hog = CpuHog({min(os.sched_getaffinity(0))} if hasattr(os, "sched_getaffinity") else None)
    saved = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    load_before = os.getloadavg()
    try:
        if scenario.hog is not None and saved is not None and hog.cpus:
            # Engine and hog on one core, so the contention is real whatever else the box runs.
            os.sched_setaffinity(0, hog.cpus)
        for k in range(passes):
            for policy in order if k % 2 == 0 else tuple(reversed(order)):
                options = {} if policy == "continuous" else scenario.options
                clock = scenario_clock(scenario.name)
                engine = _engine(model, tok, policy, scenario.max_batch, options, clock)
                tick = None if scenario.hog is None else (lambda t: hog.tick(t, scenario.hog))
                run = replay(engine, trace, on_tick=tick, clock=clock)
                hog.stop()
                summary = scenario_summary(scenario, trace, run)
                summary["preemptions"] = engine.metrics().get("preemptions", 0)
                runs[policy].append(summary)
                log(
                    f"{scenario.name:>11} pass {k} {policy:<11} {summary['throughput_tok_s']:6.1f} tok/s "
                    f"{summary['tokens_per_forward']:5.2f} tok/fwd TTFT p99 {summary['ttft_p99_s']:.2f}s "
                    f"TPOT p99 {summary['tpot_p99_s'] or 0:.3f}s"
                )
    finally:
        hog.stop()
        if saved is not None:
            os.sched_setaffinity(0, saved)
    means = {p: mean_summary(r) for p, r in runs.items()}
    return {
        "policy": scenario.policy,
        "question": scenario.question,
        "clock": scenario_clock(scenario.name).name,
        "requests": len(trace),
        "output_tokens": sum(a.max_new_tokens for a in trace),
        "max_batch": scenario.max_batch,
        "options": scenario.options,
        "hog_s": scenario.hog,
        "hog_starts": hog.started,
        "tpot_target_s": scenario.tpot_target_s,
        "ttft_bound_s": scenario.ttft_bound_s,
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
        "headline": scenario.headline,
        "mean": means,
        "passes": runs,
        "verdict": verdict(scenario.headline, means[scenario.policy], means["continuous"]),
    }


def run_real_policy_bench(cfg: RealPolicyBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Load the real model, calibrate, run every scenario; write results.json and results.md."""
    import torch

    from inference.bench.policy_real_report import write
    from inference.loading.loader import load_model

    torch.set_num_threads(cfg.threads)
    started, load_start = time.monotonic(), os.getloadavg()
    loaded = load_model(cfg.model_dir, device="cpu", dtype=cfg.dtype)
    calibrate(loaded.model, loaded.tokenizer, FULL_BATCH, OwnCpuClock())  # warm-up; then per scenario
    first = StepTimes(REFERENCE_STEP_S, 2 * REFERENCE_STEP_S, FULL_BATCH)
    names = [s.name for s in build_scenarios(cfg.seed, first) if not cfg.only or s.name in cfg.only]
    if not names:
        raise ValueError(f"no scenario named {cfg.only}")
    results: dict[str, Any] = {
        "config": {
            "model": cfg.model_dir.name, "dtype": str(loaded.dtype).removeprefix("torch."),
            "threads": cfg.threads, "passes": cfg.passes, "seed": cfg.seed, "cpu": cpu_info().describe(),
            "load_avg_start": load_start,
        },
        "scenarios": {},
    }
    for name in names:
        # Measured again right before each scenario: the load from other processes drifts, and
        # a trace stretched for the step time of ten minutes ago over- or under-loads the engine.
        clock = scenario_clock(name)
        steps = calibrate(loaded.model, loaded.tokenizer, FULL_BATCH, clock, warm_up=False)
        log(f"{name}: {loaded.dtype} decode step {steps.batch1_s * 1e3:.0f} ms at batch 1, "
            f"{steps.full_s * 1e3:.0f} ms at {steps.full_batch} (traces stretched x{steps.scale:.2f})")
        scenario = next(s for s in build_scenarios(cfg.seed, steps) if s.name == name)
        results["scenarios"][name] = run_scenario(loaded.model, loaded.tokenizer, scenario, cfg.passes, log)
        results["scenarios"][name]["step_times"] = asdict(steps)
        results["scenarios"][name]["time_scale"] = steps.scale
    results["config"]["load_avg_end"] = os.getloadavg()
    results["config"]["wall_s"] = time.monotonic() - started
    write(results, cfg.out_dir)
    return results
