"""Real-model policy bench output: one table per scenario (continuous vs its policy) and the JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COMMON = (
    ("throughput_tok_s", "tok/s"),
    ("tokens_per_forward", "tok/fwd"),
    ("cpu_ms_per_token", "CPU ms/tok"),
    ("ttft_p50_s", "TTFT p50"),
    ("ttft_p99_s", "TTFT p99"),
    ("tpot_p50_s", "TPOT p50"),
    ("tpot_p99_s", "TPOT p99"),
    ("e2e_p99_s", "E2E p99"),
)


def _f(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _label(key: str) -> str:
    return key.removesuffix("_s").replace("_", " ")


def scenario_table(name: str, s: dict[str, Any]) -> list[str]:
    """The two rows of one scenario, its headline metrics first, then the verdict line."""
    common = {k for k, _ in COMMON}
    cols = [(k, _label(k)) for k in s["headline"] if k not in common] + list(COMMON)
    extra = f", TPOT target {s['tpot_target_s']:.3f} s" if s.get("tpot_target_s") else ""
    extra += f", TTFT p99 bound {s['ttft_bound_s']:.2f} s" if s.get("ttft_bound_s") else ""
    extra += f", CPU hog {s['hog_s'][0]:.0f}-{s['hog_s'][1]:.0f} s" if s.get("hog_s") else ""
    load = f"load avg {s['load_avg_before'][0]:.2f} -> {s['load_avg_after'][0]:.2f}"
    st = s["step_times"]
    steps = (
        f"decode step measured before it {st['batch1_s'] * 1e3:.0f} ms at batch 1, "
        f"{st['full_s'] * 1e3:.0f} ms at {st['full_batch']}: "
        f"trace times and time options x{s['time_scale']:.2f}"
    )
    lines = [
        f"### {name}: {s['question']}",
        "",
        f"{s['requests']} requests, {s['output_tokens']} output tokens, max batch {s['max_batch']}"
        f"{extra}; options {s['options'] or 'defaults'}; {s['clock']} clock; {load}",
        "",
        steps + " (reference batch-1 step 80 ms)",
        "",
        "| policy | " + " | ".join(c for _, c in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for policy, row in s["mean"].items():
        lines.append(f"| {policy} | " + " | ".join(_f(row.get(k)) for k, _ in cols) + " |")
    wins = [
        f"{_label(k)} x{_f(v['ratio'])} ({'better' if v['policy_better'] else 'not better'})"
        for k, v in s["verdict"].items()
    ]
    lines += ["", f"{s['policy']} / continuous: " + "; ".join(wins), ""]
    return lines


def markdown(results: dict[str, Any]) -> str:
    """Header (model, dtype, CPU, load, step times) and every scenario's table."""
    c = results["config"]
    lines = [
        f"model: {c['model']} {c['dtype']}, {c['threads']} thread(s), {c['passes']} passes (alternating "
        f"order), seed {c['seed']}; CPU: {c['cpu'].get('label', 'not recorded')}; load avg "
        f"{c['load_avg_start'][0]:.2f} at start, {c['load_avg_end'][0]:.2f} at end; {c['wall_s']:.0f} s wall",
        "",
    ]
    for name, s in results["scenarios"].items():
        lines += scenario_table(name, s)
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> None:
    """results.json and results.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "results.md").write_text(markdown(results) + "\n")
