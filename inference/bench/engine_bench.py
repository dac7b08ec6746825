"""`switchboard bench engine`: the engine vs HF generate and PEFT static batches on one chat trace."""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from inference.bench.adapters import resolve_adapters
from inference.bench.baselines import (
    load_peft_adapters,
    merged_models,
    run_hf_sequential,
    run_peft_static_batches,
)
from inference.bench.engine_replay import profile_engine, run_engine, warm_up
from inference.bench.phases import decode_phase, measure_bandwidth, model_cost, prefill_phase
from inference.bench.report import SystemResult, format_table, plot, summarize, write_json, write_markdown
from inference.bench.roofline import flops_per_token, measure_roofline
from inference.bench.targets import targets
from inference.bench.trace import TraceSpec, describe, make_trace, stratified_sample
from inference.bench.vllm_system import run_vllm, vllm_unavailable
from inference.cpu_features import cpu_info

SYSTEMS = ("engine", "peft_static_batch", "hf_sequential", "vllm")


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
    sequential_requests: int = 16  # a stratified sample (by answer length); 0 = the whole trace
    static_batch_size: int = 32
    max_batch_size: int = 64
    max_tokens_per_step: int = 512
    kv_budget_tokens: int = 49152
    lora_rank: int = 16
    out_dir: Path = Path("bench-results/engine")
    systems: tuple[str, ...] = SYSTEMS
    profile_steps: int = 0
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    block_size: int = 16  # KV cache block (flex's kernel reads one block per tile on CUDA)
    attention: str = "auto"  # EngineConfig.attention: flex on CUDA, SDPA buckets on CPU
    decode_graphs: bool | None = None  # EngineConfig.decode_graphs: None = on for CUDA + flex
    small_gemm: bool = True  # EngineConfig.small_gemm: the few-row CPU matmul where it is built

    def __post_init__(self) -> None:
        if (self.model_dir is None) == (self.dummy is None):
            raise ValueError("give exactly one of model_dir (real weights) or dummy (a shape name)")
        if self.sequential_requests < 0:
            raise ValueError(f"sequential_requests must be >= 0, got {self.sequential_requests}")
        for name in ("static_batch_size", "max_batch_size", "lora_rank"):
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


def _new_engine(model: Any, tokenizer: Any, cfg: EngineBenchConfig, adapters: dict[str, Path]) -> Any:
    from inference.engine import EngineConfig, LLMEngine

    engine = LLMEngine(model, tokenizer, EngineConfig(
        max_batch_size=cfg.max_batch_size, max_tokens_per_step=cfg.max_tokens_per_step,
        kv_budget_tokens=cfg.kv_budget_tokens, clock=time.perf_counter, block_size=cfg.block_size,
        attention=cfg.attention, decode_graphs=cfg.decode_graphs, small_gemm=cfg.small_gemm,
    ))
    for name, path in adapters.items():
        engine.load_adapter(name, path)
    engine.warm_up()  # kernels compile here, outside every timed run
    return engine


def _phases(
    model: Any, tokenizer: Any, cfg: EngineBenchConfig, adapters: dict[str, Path], trace: list
) -> dict:
    """Prefill and batch-1 decode on a fresh engine (no prefix cache from the replay) and the
    bandwidth ceiling, all measured now, beside the matmul roofline."""
    engine = _new_engine(model, tokenizer, cfg, adapters)
    cost = model_cost(model, {n: engine.adapters.get(n) for n in adapters}, engine.pool.shape.bytes_per_token)
    bandwidth = measure_bandwidth(device=engine.device)
    prefill = prefill_phase(engine, trace[: min(8, len(trace))], cost)
    fits = [r for r in trace if len(r.prompt_ids) <= cfg.max_tokens_per_step]
    decode = decode_phase(engine, fits[len(fits) // 2], 32, cost)
    return {"bandwidth_bytes_per_s": bandwidth, "prefill": prefill, "decode_batch1": decode,
            "trace_flops": sum(sum(cost.request_flops(len(r.prompt_ids), r.max_new_tokens, r.adapter))
                               for r in trace)}


def run_benchmark(cfg: EngineBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every selected system on one trace; print the table; write JSON and PNG to cfg.out_dir."""
    load_at_start = list(os.getloadavg())  # the machine may be shared: say how busy it was
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model, tokenizer, label = load_bench_model(cfg)
    spec = cfg.trace
    if spec.vocab_size > model.config.vocab_size:
        raise ValueError(f"trace vocab_size {spec.vocab_size} exceeds the model's {model.config.vocab_size}")
    trace = make_trace(spec)
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
    device = next(model.parameters()).device
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    log(f"model {label} on {device}; {len(trace)} requests over {trace[-1].arrival_s:.1f}s")
    roof = measure_roofline(device, next(model.parameters()).dtype)
    fpt = flops_per_token(model, cfg.lora_rank)  # before PEFT injects its LoRA layers into the model
    results: dict[str, SystemResult] = {}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sb-bench-adapters-") as scratch:
        adapters, origin = resolve_adapters(
            model, cfg.adapters_dir, Path(scratch), cfg.lora_rank, use_trained=cfg.dummy is None
        )
        engine = _new_engine(model, tokenizer, cfg, adapters)
        warm_up(engine, None, trace, pad_id)
        log("running the engine ...")
        results["engine"] = run_engine(engine, trace)
        profile = profile_engine(engine, trace, cfg.profile_steps, cfg.out_dir) if cfg.profile_steps else None
        graphs = engine.runner.graphs
        engine_setup = {
            "attention": engine.runner.attention, "decode_graphs": graphs is not None,
            "graphs_captured": graphs.captures if graphs is not None else 0,
            "decode_buckets": list(engine.runner.buckets), "block_size": cfg.block_size,
            # The compiled few-row matmul (inference/cpu_small_gemm.py) for steps of <= 4 tokens.
            "small_gemm": engine.runner.small_linear is not None,
        }
        del engine
        gc.collect()
        log("measuring the per-phase ceilings ...")
        phases = _phases(model, tokenizer, cfg, adapters, trace)
        gc.collect()
        if "vllm" in cfg.systems:
            why = vllm_unavailable(cfg.model_dir)
            if why is None:
                log("running vLLM (CPU build, subprocess) ...")
                assert cfg.model_dir is not None
                results["vllm"] = run_vllm(
                    cfg.model_dir, adapters, trace, torch.get_num_threads(), dtype,
                    cfg.max_batch_size, cfg.max_tokens_per_step,
                )
            else:
                log(why)
                skipped.append(why)
        if "hf_sequential" in cfg.systems:
            n = cfg.sequential_requests
            part = trace if n == 0 else stratified_sample(trace, n)
            note = "adapter merged (merge_and_unload); " + (
                "the whole trace" if len(part) == len(trace) else
                f"a stratified sample of {len(part)} of {len(trace)} requests by answer length "
                f"({sum(r.max_new_tokens for r in part) / len(part):.0f} tokens mean vs "
                f"{sum(r.max_new_tokens for r in trace) / len(trace):.0f} for the trace)"
            )
            merged = merged_models(model, adapters, {r.adapter for r in part})
            warm_up(None, merged[part[0].adapter], trace, pad_id)
            log("running HF generate one request at a time (merged adapters) ...")
            results["hf_sequential"] = run_hf_sequential(merged, part, pad_id, note, progress=log)
            del merged
            gc.collect()
        if "peft_static_batch" in cfg.systems:
            # PEFT injects its LoRA layers into the model, so it runs last.
            peft_model = load_peft_adapters(model, adapters)
            warm_up(None, peft_model, trace, pad_id)
            log("running PEFT static batches ...")
            results["peft_static_batch"] = run_peft_static_batches(
                peft_model, trace, pad_id, cfg.static_batch_size, progress=log
            )
    systems = {name: summarize(r) for name, r in results.items()}
    summary: dict[str, Any] = {
        "config": {
            **{k: str(v) for k, v in asdict(cfg).items() if k != "trace"},
            "model": label,
            "device": str(device),
            "adapters": origin,
            "threads": torch.get_num_threads(),
            "dtype": dtype,
            "cpu": cpu_info().describe(),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "engine": engine_setup,
            "load_average": {"start": load_at_start, "end": list(os.getloadavg())},
        },
        "trace": describe(spec, trace),
        "roofline": asdict(roof),
        "flops_per_token": fpt,
        "phases": phases,
        "systems": systems,
        "skipped": skipped,
        "targets": targets(systems, phases, roof.flops_per_s),
    }
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    log(format_table(summary))
    if profile:
        log(profile)
    written = (
        write_json(summary, results, cfg.out_dir),
        write_markdown(summary, cfg.out_dir),
        plot(summary, cfg.out_dir),
    )
    log("wrote " + ", ".join(str(p) for p in written))
    return summary
