"""The issue's targets over one bench run's summaries: each value, its bound, and whether met."""

from __future__ import annotations

from typing import Any


def _ratio(value: float, target: str, bound: float, at_least: bool) -> dict[str, Any]:
    return {"value": value, "target": target, "met": value >= bound if at_least else value <= bound}


def targets(systems: dict[str, Any], phases: dict[str, Any], peak_flops: float) -> dict[str, Any]:
    """Throughput and p99 TTFT ratios against every baseline that ran, and per-phase fractions."""
    eng = systems["engine"]
    out: dict[str, Any] = {}
    wanted = {"peft_static_batch": 3.0, "hf_sequential": 6.0, "vllm": 2.0}
    for name, bound in wanted.items():
        if name not in systems:
            continue
        other = systems[name]
        out[f"throughput engine / {name}"] = _ratio(
            eng["throughput_tok_s"] / other["throughput_tok_s"], f">= {bound:g}", bound, True
        )
        if name != "hf_sequential":  # one at a time on a sample: its TTFT is not comparable
            bound_ttft = 0.5 if name == "peft_static_batch" else 1.0
            out[f"p99 TTFT engine / {name}"] = _ratio(
                eng["ttft_p99_s"] / other["ttft_p99_s"], f"<= {bound_ttft:g}", bound_ttft, False
            )
    prefill, decode = phases["prefill"], phases["decode_batch1"]
    out["prefill: fraction of matmul peak"] = _ratio(prefill["flops_per_s"] / peak_flops, ">= 0.5", 0.5, True)
    out["batch-1 decode: fraction of memory bandwidth"] = _ratio(
        decode["bytes_per_s"] / phases["bandwidth_bytes_per_s"], ">= 0.5", 0.5, True
    )
    return out


def trace_fraction(systems: dict[str, Any], phases: dict[str, Any], peak_flops: float) -> float:
    """Computed FLOPs of the whole trace over the engine's span, as a fraction of matmul peak."""
    return phases["trace_flops"] / systems["engine"]["span_s"] / peak_flops
