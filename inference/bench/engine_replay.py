"""Replaying a trace into LLMEngine (the system under test), its warm-up and its profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from inference.bench.baselines import TraceClock, run_hf_sequential, run_peft_static_batches
from inference.bench.report import RequestTiming, SystemResult
from inference.bench.trace import TraceRequest


def run_engine(engine: Any, trace: list[TraceRequest]) -> SystemResult:
    """Replay the trace into LLMEngine against the wall clock: requests join when they arrive."""
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    clock = TraceClock()
    pending = list(reversed(trace))
    first: dict[int, float] = {}
    produced: dict[int, int] = {}
    timings: list[RequestTiming] = []
    by_id = {str(r.index): r for r in trace}
    while pending or engine.has_unfinished():
        now = clock.now()
        while pending and pending[-1].arrival_s <= now:
            r = pending.pop()
            params = SamplingParams.greedy(max_new_tokens=r.max_new_tokens, ignore_eos=True)
            engine.add_request(
                GenerationRequest(
                    r.prompt_ids,
                    params,
                    adapter=r.adapter,
                    request_id=str(r.index),
                    arrival_time=engine.config.clock() - (now - r.arrival_s),
                )
            )
        if not engine.has_unfinished():
            clock.wait_until(pending[-1].arrival_s)
            continue
        events = engine.step()
        t = clock.now()
        for ev in events:
            r = by_id[ev.request_id]
            if ev.token_ids:
                first.setdefault(r.index, t)
                produced[r.index] = produced.get(r.index, 0) + len(ev.token_ids)
            if ev.finished:
                if ev.finish_reason != "length":
                    raise RuntimeError(f"request {r.index} ended with {ev.finish_reason}: {ev.error}")
                timings.append(
                    RequestTiming(
                        index=r.index,
                        adapter=r.adapter,
                        arrival_s=r.arrival_s,
                        first_token_s=first[r.index],
                        finish_s=t,
                        prompt_tokens=len(r.prompt_ids),
                        output_tokens=produced[r.index],
                        requested_tokens=r.max_new_tokens,
                    )
                )
    timings.sort(key=lambda x: x.index)
    return SystemResult("engine", timings, extra=_engine_metrics(engine))


def _engine_metrics(engine: Any) -> dict[str, Any]:
    snap = engine.metrics()
    keep = {k: v for k, v in snap.items() if isinstance(v, int | float | str | dict)}
    return {"engine_metrics": keep}


def warm_up(engine: Any, hf_model: Any | None, trace: list[TraceRequest], pad_id: int) -> None:
    # First calls pay one-off costs (allocator, thread pool, kernels): keep them out of every timing.
    warm = [TraceRequest(0, 0.0, trace[0].adapter, trace[0].prompt_ids[:16], 4)]
    if engine is not None:
        run_engine(engine, warm)
    if hf_model is not None and hasattr(hf_model, "peft_config"):
        run_peft_static_batches(hf_model, warm * 2, pad_id, batch_size=2)
    elif hf_model is not None:  # a merged model: one request, no adapter switching
        run_hf_sequential({warm[0].adapter: hf_model}, warm, pad_id)


def profile_engine(engine: Any, trace: list[TraceRequest], steps: int, out_dir: Path) -> str:
    """torch.profiler over ``steps`` decode-heavy engine steps; returns the top-ops table."""
    from torch.profiler import ProfilerActivity, profile

    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    for r in trace[: engine.config.max_batch_size]:
        params = SamplingParams.greedy(max_new_tokens=r.max_new_tokens, ignore_eos=True)
        request = GenerationRequest(r.prompt_ids, params, adapter=r.adapter, request_id=f"p{r.index}")
        engine.add_request(request)
    while engine.scheduler.waiting:  # finish prefill first so the profile shows steady decoding
        engine.step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            engine.step()
    for rid in [f"p{r.index}" for r in trace]:
        engine.abort(rid)
    while engine.has_unfinished():
        engine.step()
    table = str(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "engine_profile.txt").write_text(table)
    return table
