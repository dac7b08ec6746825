"""Benchmark results: per-request timings, per-system summaries, the table, JSON and a plot."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RequestTiming:
    """When one request arrived, got its first token and finished (seconds from trace start)."""

    index: int
    adapter: str
    arrival_s: float
    first_token_s: float
    finish_s: float
    prompt_tokens: int
    output_tokens: int
    requested_tokens: int

    @property
    def ttft_s(self) -> float:
        """Time to first token, queueing included."""
        return self.first_token_s - self.arrival_s

    @property
    def tpot_s(self) -> float | None:
        """Mean time per output token after the first (None for one-token answers)."""
        if self.output_tokens < 2:
            return None
        return (self.finish_s - self.first_token_s) / (self.output_tokens - 1)


@dataclass
class SystemResult:
    """All timings of one system over the (possibly subsampled) trace."""

    name: str
    timings: list[RequestTiming]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarize(result: SystemResult) -> dict[str, Any]:
    """Throughput over the whole span (first arrival to last finish), TTFT and TPOT percentiles."""
    t = result.timings
    if not t:
        raise ValueError(f"system {result.name!r} has no finished requests")
    span = max(r.finish_s for r in t) - min(r.arrival_s for r in t)
    out_tokens = sum(r.output_tokens for r in t)
    ttft = [r.ttft_s for r in t]
    tpot = [x for r in t if (x := r.tpot_s) is not None]
    return {
        "requests": len(t),
        "prompt_tokens": sum(r.prompt_tokens for r in t),
        "output_tokens": out_tokens,
        "requested_tokens": sum(r.requested_tokens for r in t),
        "span_s": span,
        "throughput_tok_s": out_tokens / span if span > 0 else 0.0,
        "ttft_p50_s": _pct(ttft, 50),
        "ttft_p99_s": _pct(ttft, 99),
        "tpot_p50_s": _pct(tpot, 50),
        "tpot_p99_s": _pct(tpot, 99),
        "note": result.note,
        **result.extra,
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}{unit}" if abs(value) < 100 else f"{value:,.1f}{unit}"
    return f"{value}{unit}"


def cpu_line(config: dict[str, Any]) -> str:
    """Which CPU (model + the flags that pick kernels) and dtype a run's figures came from."""
    cpu = config.get("cpu") or {}
    label = cpu.get("label", "not recorded")
    line = f"CPU: {label}; dtype {config.get('dtype', '?')}, {config.get('threads')} threads"
    engine = config.get("engine") or {}
    if config.get("gpu"):  # figures from a GPU run name the card and the engine's decode path
        line += f"; GPU: {config['gpu']}, attention {engine.get('attention')}"
        line += f", decode graphs {engine.get('decode_graphs')}"
    return line


def format_table(results: dict[str, Any]) -> str:
    """A plain-text table of the systems plus the ratio/target lines."""
    head = f"{'system':<20}{'reqs':>6}{'out tok':>9}{'tok/s':>10}{'TTFT p50':>10}{'TTFT p99':>10}"
    head += f"{'TPOT p50':>10}{'TPOT p99':>10}"
    lines = [cpu_line(results.get("config", {})), head, "-" * len(head)]
    for name, s in results["systems"].items():
        lines.append(
            f"{name:<20}{s['requests']:>6}{s['output_tokens']:>9}{_fmt(s['throughput_tok_s']):>10}"
            f"{_fmt(s['ttft_p50_s']):>10}{_fmt(s['ttft_p99_s']):>10}"
            f"{_fmt(s['tpot_p50_s']):>10}{_fmt(s['tpot_p99_s']):>10}"
        )
        if s.get("note"):
            lines.append(f"  note: {s['note']}")
    roof = results["roofline"]
    lines.append(
        f"roofline: {roof['flops_per_s'] / 1e9:,.1f} GFLOP/s ({roof['dtype']} {roof['matrix_size']}^2 "
        f"matmul, {roof['device']}, {roof['threads']} threads); "
        f"model {results['flops_per_token'] / 1e6:,.1f} MFLOP/token"
    )
    for line in results.get("skipped", []):
        lines.append(line)
    phases = results.get("phases")
    if phases:
        pf, dc = phases["prefill"], phases["decode_batch1"]
        lines.append(
            f"prefill ({pf['requests']} prompts, {pf['prompt_tokens']} tokens at once): "
            f"{pf['flops_per_s'] / 1e9:,.1f} GFLOP/s computed; batch-1 decode at {dc['context']} context: "
            f"{dc['step_ms']:.1f} ms/token, {dc['bytes_per_s'] / 1e9:,.1f} GB/s read of "
            f"{phases['bandwidth_bytes_per_s'] / 1e9:,.1f} GB/s measured"
        )
    for name, t in results["targets"].items():
        mark = "MET" if t["met"] else "MISSED"
        lines.append(f"{name:<44} {_fmt(t['value']):>10}  target {t['target']:<10} {mark}")
    return "\n".join(lines)


def write_json(results: dict[str, Any], timings: dict[str, SystemResult], out_dir: Path) -> Path:
    """Write results.json (summaries, targets and every request's timings)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = dict(results)
    data["requests"] = {name: [asdict(t) for t in r.timings] for name, r in timings.items()}
    path = out_dir / "results.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def write_markdown(results: dict[str, Any], out_dir: Path) -> Path:
    """results.md: the printed table, with the machine's load average at the run's start and end."""
    load = results.get("config", {}).get("load_average")
    lines = ["# Engine benchmark", ""]
    if load:
        for when in ("start", "end"):
            figures = " / ".join(f"{x:.2f}" for x in load[when])
            lines.append(f"Load average at the {when} (1/5/15 min): {figures}.")
        lines.append("")
    lines += ["```", format_table(results), "```", ""]
    path = out_dir / "results.md"
    path.write_text("\n".join(lines))
    return path


def plot(results: dict[str, Any], out_dir: Path) -> Path:
    """Bar charts of throughput, TTFT and TPOT per system (PNG, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = results["systems"]
    names = list(systems)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].bar(names, [systems[n]["throughput_tok_s"] for n in names], color="tab:blue")
    axes[0].set_title("throughput (output tokens/s)")
    for ax, metric in ((axes[1], "ttft"), (axes[2], "tpot")):
        x = np.arange(len(names))
        for offset, q in ((-0.2, "p50"), (0.2, "p99")):
            ax.bar(x + offset, [systems[n][f"{metric}_{q}_s"] or 0.0 for n in names], 0.4, label=q)
        ax.set_xticks(x, names)
        ax.set_title(f"{metric.upper()} (s)")
        ax.legend()
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=15)
    fig.suptitle(f"engine benchmark: {results['config']['model']} on {results['config']['device']}")
    fig.tight_layout()
    path = out_dir / "engine_bench.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
