"""`switchboard bench policies`: one seeded bursty trace (quiet, surge, quiet) through every policy.

Each policy gets a fresh LLMEngine on the same model and the same trace, replayed against the
wall clock; a second, quiet-only trace shows what each policy does at low load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.bench.burst_trace import Arrival, BurstSpec, bursty_trace
from inference.bench.replay_clock import ReplayClock, WallClock
from inference.cpu_features import cpu_info

POLICIES: tuple[str, ...] = (
    "static",
    "continuous",
    "adaptive",
    "time_window",
    "load_based",
    "priority",
    "predictive",
    "hybrid",
)


@dataclass
class Run:
    """Per-request first-token/finish times and per-forward token counts of one replay."""

    first: dict[int, float] = field(default_factory=dict)
    finish: dict[int, float] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)
    forward_tokens: list[int] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time this process spent in the replay (what batching saves)


def replay(
    engine: Any, trace: list[Arrival], on_tick: Callable[[float], None] | None = None,
    clock: ReplayClock | None = None,
) -> Run:
    """Feed arrivals when the clock reaches them; step until everything finished.

    ``clock`` (default the wall clock) must be the engine's ``EngineConfig.clock`` too. ``on_tick(t)``
    is called before every step and idle wait with the trace time (the contention scenario starts
    and stops its CPU hog there); idle waits are then at most 50 ms long.
    """
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    clock = clock or WallClock()
    run, pending = Run(), list(reversed(trace))
    cpu0, t0 = time.process_time(), clock()
    while pending or engine.has_unfinished():
        now = clock() - t0
        if on_tick is not None:
            on_tick(now)
        while pending and pending[-1].arrival_s <= now:
            a = pending.pop()
            params = SamplingParams.greedy(max_new_tokens=a.max_new_tokens, ignore_eos=True)
            engine.add_request(
                GenerationRequest(
                    a.prompt_ids,
                    params,
                    priority=a.priority,
                    request_id=str(a.index),
                    arrival_time=t0 + a.arrival_s,
                )
            )
        if not engine.has_unfinished():
            wait = max(0.0, pending[-1].arrival_s - now)
            clock.sleep(wait if on_tick is None else min(wait, 0.05))
            continue
        before = clock()
        events = engine.step()
        t = clock() - t0
        # Policies read the step's duration (adaptive's TPOT): give it on the replay's clock.
        engine.scheduler.last_step_seconds = t + t0 - before
        produced = 0
        for ev in events:
            i = int(ev.request_id)
            if ev.token_ids:
                run.first.setdefault(i, t)
                run.tokens[i] = run.tokens.get(i, 0) + len(ev.token_ids)
                produced += len(ev.token_ids)
            if ev.finished:
                if ev.finish_reason != "length":
                    raise RuntimeError(f"request {i} ended with {ev.finish_reason}: {ev.error}")
                run.finish[i] = t
        if produced:
            run.forward_tokens.append(produced)
        elif not engine.scheduler.running:
            clock.sleep(0.001)  # the policy is holding requests: do not spin the shared CPU
    run.cpu_s = time.process_time() - cpu0
    return run


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarize(trace: list[Arrival], run: Run) -> dict[str, Any]:
    """Throughput, TTFT and end-to-end percentiles (all and by priority), tokens per forward."""
    ttft = {a.index: run.first[a.index] - a.arrival_s for a in trace}
    e2e = {a.index: run.finish[a.index] - a.arrival_s for a in trace}
    span = max(run.finish.values()) - min(a.arrival_s for a in trace)
    out: dict[str, Any] = {
        "requests": len(trace),
        "throughput_tok_s": sum(run.tokens.values()) / span,
        "tokens_per_forward": float(np.mean(run.forward_tokens)),
        "forwards": len(run.forward_tokens),
        "cpu_ms_per_token": 1e3 * run.cpu_s / max(1, sum(run.tokens.values())),
    }
    tpot = {
        a.index: (run.finish[a.index] - run.first[a.index]) / (run.tokens[a.index] - 1)
        for a in trace
        if run.tokens[a.index] > 1
    }
    for name, values in (("ttft", ttft), ("e2e", e2e), ("tpot", tpot)):
        for q in (50, 99):
            out[f"{name}_p{q}_s"] = _pct(list(values.values()), q)
    for label, prio in (("high", 1), ("low", 0)):
        ids = [a.index for a in trace if a.priority == prio]
        out[f"ttft_p99_{label}_s"] = _pct([ttft[i] for i in ids], 99)
        out[f"e2e_p99_{label}_s"] = _pct([e2e[i] for i in ids], 99)
    return out


@dataclass(frozen=True)
class PolicyBenchConfig:
    """Which model, engine limits, trace and output folder."""

    model_dir: Path | None
    tokenizer_dir: Path
    out_dir: Path
    dummy: str | None = "tiny"
    max_batch_size: int = 8
    threads: int = 1
    passes: int = 2
    burst: BurstSpec = field(default_factory=BurstSpec)
    policies: tuple[str, ...] = POLICIES

    def __post_init__(self) -> None:
        if self.passes < 1:
            raise ValueError(f"passes must be >= 1, got {self.passes}")
        if self.max_batch_size < 2:
            raise ValueError(f"max_batch_size must be >= 2, got {self.max_batch_size}")
        unknown = set(self.policies) - set(POLICIES)
        if unknown or not {"static", "continuous", "priority", "time_window"} <= set(self.policies):
            raise ValueError(
                f"policies must include static, continuous, priority, time_window; unknown {unknown}"
            )


def mean_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field-wise mean of several passes' summaries (None stays None)."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [r[key] for r in runs]
        out[key] = None if value is None or None in values else float(np.mean(values))
    return out


def policy_options(name: str, max_batch: int, step_s: tuple[float, float]) -> dict[str, Any]:
    """Per-policy options for this run; the adaptive TPOT target sits between the measured step
    time at batch 1 and at a full batch, so the controller really has to act."""
    return {
        "static": {"batch_size": max_batch, "max_wait_s": 0.1},
        "adaptive": {"target_step_s": sum(step_s) / 2, "max_batch": max_batch},
        # A window only helps when window x arrival rate is near 1: 0.25 s at the quiet 3/s.
        "time_window": {"window_s": 0.25, "min_batch": max(2, max_batch // 4), "max_batch": max_batch},
        "predictive": {"max_hold_s": 0.05, "target_batch": max(2, max_batch // 2)},
    }.get(name, {})


def _engine(model: Any, tok: Any, cfg: PolicyBenchConfig, policy: str, options: dict[str, Any]) -> Any:
    from inference.engine import EngineConfig, LLMEngine

    config = EngineConfig(
        max_batch_size=cfg.max_batch_size, kv_budget_tokens=16384, policy=policy, policy_options=options
    )
    return LLMEngine(model, tok, config)


def calibrate(model: Any, tok: Any, cfg: PolicyBenchConfig) -> tuple[float, float]:
    """Mean decode-step seconds at batch 1 and at a full batch (also warms the engine up)."""
    spec = BurstSpec(prompt_tokens=(32, 32), output_tokens=(24, 24))
    arrival = bursty_trace(spec)[0]
    times = []
    for n in (1, cfg.max_batch_size):
        trace = [Arrival(i, 0.0, 0, arrival.prompt_ids, 24, "quiet") for i in range(n)]
        start = time.perf_counter()
        run = replay(_engine(model, tok, cfg, "continuous", {}), trace)
        times.append((time.perf_counter() - start) / len(run.forward_tokens))
    return times[0], times[1]


def load(cfg: PolicyBenchConfig) -> tuple[Any, Any, str]:
    """The model (dummy shape or real weights) and tokenizer."""
    from transformers import AutoTokenizer

    if cfg.dummy is not None:
        from inference.loading.dummy import build_random_llama

        model = build_random_llama(cfg.dummy, initializer_range=0.5)
        return model, AutoTokenizer.from_pretrained(str(cfg.tokenizer_dir)), f"dummy:{cfg.dummy}"
    from inference.loading.loader import load_model

    assert cfg.model_dir is not None
    loaded = load_model(cfg.model_dir, device="cpu", dtype="float32")
    return loaded.model, loaded.tokenizer, cfg.model_dir.name


def run_policy_bench(cfg: PolicyBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Replay the bursty and the quiet trace through every policy; write table, JSON and plot."""
    import torch

    from inference.bench.policy_report import checks, markdown, write

    torch.set_num_threads(cfg.threads)
    model, tok, label = load(cfg)
    step_s = calibrate(model, tok, cfg)
    log(
        f"{label}: decode step {step_s[0] * 1e3:.1f} ms at batch 1, "
        f"{step_s[1] * 1e3:.1f} ms at {cfg.max_batch_size}"
    )
    # The quiet trace is longer: low-load effects are small, so they need more requests to show.
    quiet = bursty_trace(cfg.burst, surge=False, quiet_length_s=12.0)
    traces = {"bursty": bursty_trace(cfg.burst), "quiet": quiet}
    results: dict[str, Any] = {
        "config": {
            "model": label,
            "max_batch_size": cfg.max_batch_size,
            "threads": cfg.threads,
            "cpu": cpu_info().describe(),
            "burst": asdict(cfg.burst),
            "step_s": step_s,
        },
        "traces": {k: {"requests": len(v)} for k, v in traces.items()},
        "options": {p: policy_options(p, cfg.max_batch_size, step_s) for p in cfg.policies},
    }
    for trace_name, trace in traces.items():
        passes: dict[str, list[dict[str, Any]]] = {p: [] for p in cfg.policies}
        for k in range(cfg.passes):
            # Odd passes run the policies in reverse, so load drift from other processes on a
            # shared machine does not favour whichever policy happens to run last.
            for policy in cfg.policies if k % 2 == 0 else tuple(reversed(cfg.policies)):
                engine = _engine(model, tok, cfg, policy, results["options"][policy])
                summary = summarize(trace, replay(engine, trace))
                summary["preemptions"] = engine.metrics().get("preemptions", 0)
                passes[policy].append(summary)
                log(
                    f"{trace_name:>6} pass {k} {policy:<12} {summary['throughput_tok_s']:8.1f} tok/s  "
                    f"TTFT p99 {summary['ttft_p99_s']:.3f}s  {summary['tokens_per_forward']:.2f} tok/fwd"
                )
        results[trace_name] = {p: mean_summary(runs) for p, runs in passes.items()}
        results[f"{trace_name}_passes"] = passes
    results["checks"] = checks(results["bursty"], results["quiet"])
    write(results, cfg.out_dir)
    log(markdown(results))
    return results
