"""`switchboard bench engine`: the engine vs HF generate and PEFT static batches on one chat trace."""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from inference.bench.adapters import resolve_adapters
from inference.bench.baselines import (
    TraceClock,
    load_peft_adapters,
    run_hf_sequential,
    run_peft_static_batches,
)
from inference.bench.report import RequestTiming, SystemResult, format_table, plot, summarize, write_json
from inference.bench.roofline import flops_per_token, measure_roofline
from inference.bench.trace import TraceRequest, TraceSpec, describe, make_trace, subsample
from inference.cpu_features import cpu_info

SYSTEMS = ("engine", "peft_static_batch", "hf_sequential")


@dataclass(frozen=True)
class EngineBenchConfig:
    """Everything one benchmark run needs; defaults fit ~5-8 minutes on two CPU cores."""

    model_dir: Path | None = None
    dummy: str | None = None  # a shape from inference.loading.dummy.SHAPES instead of real weights
    tokenizer_dir: Path | None = None
    adapters_dir: Path | None = None
    device: str = "cpu"
    dtype: str = "float32"
    trace: TraceSpec = field(default_factory=TraceSpec)
    sequential_requests: int = 4
    static_batch_size: int = 32
    max_batch_size: int = 64
    max_tokens_per_step: int = 512
    kv_budget_tokens: int = 49152
    lora_rank: int = 16
    out_dir: Path = Path("bench-results/engine")
    systems: tuple[str, ...] = SYSTEMS
    profile_steps: int = 0
    threads: int = 0  # torch CPU threads; 0 keeps torch's default

    def __post_init__(self) -> None:
        if (self.model_dir is None) == (self.dummy is None):
            raise ValueError("give exactly one of model_dir (real weights) or dummy (a shape name)")
        for name in ("sequential_requests", "static_batch_size", "max_batch_size", "lora_rank"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = set(self.systems) - set(SYSTEMS)
        if unknown or "engine" not in self.systems:
            raise ValueError(f"systems must include 'engine' and be among {SYSTEMS}, got {self.systems}")


def load_bench_model(cfg: EngineBenchConfig) -> tuple[Any, Any, str]:
    """The model (real weights or a dummy shape), a tokenizer, and a label for the results."""
    from transformers import AutoTokenizer

    from inference.loading.loader import load_model, resolve_device, resolve_dtype

    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    if cfg.dummy is not None:
        from inference.loading.dummy import build_random_llama

        model = build_random_llama(cfg.dummy, dtype=dtype, device=device)
        tokenizer = AutoTokenizer.from_pretrained(str(cfg.tokenizer_dir or cfg.model_dir))
        return model, tokenizer, f"dummy:{cfg.dummy}"
    assert cfg.model_dir is not None
    loaded = load_model(cfg.model_dir, device=str(device), dtype=str(dtype).removeprefix("torch."))
    return loaded.model, loaded.tokenizer, cfg.model_dir.name


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


def _warm_up(engine: Any, peft_model: Any | None, trace: list[TraceRequest], pad_id: int) -> None:
    # First calls pay one-off costs (allocator, thread pool, kernels): keep them out of every timing.
    warm = [TraceRequest(0, 0.0, trace[0].adapter, trace[0].prompt_ids[:16], 4)]
    if engine is not None:
        run_engine(engine, warm)
    if peft_model is not None:
        run_peft_static_batches(peft_model, warm * 2, pad_id, batch_size=2)


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


def _targets(systems: dict[str, Any], achieved: float, roofline: float) -> dict[str, Any]:
    eng = systems["engine"]
    out: dict[str, Any] = {}
    if "peft_static_batch" in systems:
        c = systems["peft_static_batch"]
        out["throughput engine / peft_static_batch"] = {
            "value": eng["throughput_tok_s"] / c["throughput_tok_s"],
            "target": ">= 2.5",
            "min": 2.5,
        }
        out["p99 TTFT engine / peft_static_batch"] = {
            "value": eng["ttft_p99_s"] / c["ttft_p99_s"],
            "target": "<= 0.5",
            "max": 0.5,
        }
    if "hf_sequential" in systems:
        out["throughput engine / hf_sequential"] = {
            "value": eng["throughput_tok_s"] / systems["hf_sequential"]["throughput_tok_s"],
            "target": ">= 10",
            "min": 10.0,
        }
    out["engine fraction of roofline (all tokens)"] = {
        "value": achieved / roofline,
        "target": ">= 0.5",
        "min": 0.5,
    }
    for t in out.values():
        t["met"] = t["value"] >= t.pop("min") if "min" in t else t["value"] <= t.pop("max")
    return out


def run_benchmark(cfg: EngineBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every selected system on one trace; print the table; write JSON and PNG to cfg.out_dir."""
    from inference.engine import EngineConfig, LLMEngine

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model, tokenizer, label = load_bench_model(cfg)
    spec = cfg.trace
    if spec.vocab_size > model.config.vocab_size:
        raise ValueError(f"trace vocab_size {spec.vocab_size} exceeds the model's {model.config.vocab_size}")
    trace = make_trace(spec)
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
    device = next(model.parameters()).device
    log(f"model {label} on {device}; {len(trace)} requests over {trace[-1].arrival_s:.1f}s")
    roof = measure_roofline(device, next(model.parameters()).dtype)
    fpt = flops_per_token(model, cfg.lora_rank)
    results: dict[str, SystemResult] = {}
    with tempfile.TemporaryDirectory(prefix="sb-bench-adapters-") as scratch:
        adapters, origin = resolve_adapters(
            model, cfg.adapters_dir, Path(scratch), cfg.lora_rank, use_trained=cfg.dummy is None
        )
        engine = LLMEngine(
            model,
            tokenizer,
            EngineConfig(
                max_batch_size=cfg.max_batch_size,
                max_tokens_per_step=cfg.max_tokens_per_step,
                kv_budget_tokens=cfg.kv_budget_tokens,
                clock=time.perf_counter,
            ),
        )
        for name, path in adapters.items():
            engine.load_adapter(name, path)
        _warm_up(engine, None, trace, pad_id)
        log("running the engine ...")
        results["engine"] = run_engine(engine, trace)
        profile = profile_engine(engine, trace, cfg.profile_steps, cfg.out_dir) if cfg.profile_steps else None
        del engine
        gc.collect()
        if len(cfg.systems) > 1:
            # PEFT injects its LoRA layers into the model, so it runs only after the engine is done.
            peft_model = load_peft_adapters(model, adapters)
            _warm_up(None, peft_model, trace, pad_id)
            if "peft_static_batch" in cfg.systems:
                log("running PEFT static batches ...")
                results["peft_static_batch"] = run_peft_static_batches(
                    peft_model, trace, pad_id, cfg.static_batch_size, progress=log
                )
            if "hf_sequential" in cfg.systems:
                part = subsample(trace, cfg.sequential_requests)
                note = (
                    ""
                    if len(part) == len(trace)
                    else (f"ran the first {len(part)} of {len(trace)} requests (throughput over what it ran)")
                )
                log("running HF generate one request at a time ...")
                results["hf_sequential"] = run_hf_sequential(peft_model, part, pad_id, note, progress=log)
    systems = {name: summarize(r) for name, r in results.items()}
    eng = systems["engine"]
    achieved = fpt * (eng["prompt_tokens"] + eng["output_tokens"]) / eng["span_s"]
    summary: dict[str, Any] = {
        "config": {
            **{k: str(v) for k, v in asdict(cfg).items() if k != "trace"},
            "model": label,
            "device": str(device),
            "adapters": origin,
            "threads": torch.get_num_threads(),
            "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
            "cpu": cpu_info().describe(),
        },
        "trace": describe(spec, trace),
        "roofline": asdict(roof),
        "flops_per_token": fpt,
        "engine_achieved_flops_per_s": achieved,
        "engine_output_only_fraction_of_roofline": (
            fpt * eng["output_tokens"] / eng["span_s"] / roof.flops_per_s
        ),
        "systems": systems,
        "targets": _targets(systems, achieved, roof.flops_per_s),
    }
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    log(format_table(summary))
    if profile:
        log(profile)
    log(f"wrote {write_json(summary, results, cfg.out_dir)} and {plot(summary, cfg.out_dir)}")
    return summary
