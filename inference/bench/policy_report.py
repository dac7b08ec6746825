"""Policy benchmark output: the markdown table, the trade-off checks, JSON and the PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _f(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def checks(bursty: dict[str, Any], quiet: dict[str, Any]) -> dict[str, Any]:
    """The trade-offs the issue asks to show, each with its measured values."""
    pr, co, st, tw = bursty["priority"], bursty["continuous"], bursty["static"], quiet["time_window"]
    qco = quiet["continuous"]
    ratio = pr["ttft_p99_high_s"] / pr["ttft_p99_low_s"] if pr["ttft_p99_low_s"] else None
    return {
        "priority: high p99 TTFT <= 1/3 of low (surge trace)": {
            "value": ratio,
            "met": ratio is not None and ratio <= 1 / 3,
        },
        "continuous beats static on throughput": {
            "value": co["throughput_tok_s"] / st["throughput_tok_s"],
            "met": co["throughput_tok_s"] > st["throughput_tok_s"],
        },
        "continuous beats static on p99 end-to-end latency": {
            "value": st["e2e_p99_s"] / co["e2e_p99_s"],
            "met": co["e2e_p99_s"] < st["e2e_p99_s"],
        },
        "time_window beats continuous on tokens/forward at low load": {
            "value": tw["tokens_per_forward"] / qco["tokens_per_forward"],
            "met": tw["tokens_per_forward"] > qco["tokens_per_forward"],
        },
        "...at the cost of TTFT p50 at low load (ratio tw/continuous)": {
            "value": tw["ttft_p50_s"] / qco["ttft_p50_s"],
            "met": tw["ttft_p50_s"] > qco["ttft_p50_s"],
        },
    }


def markdown(results: dict[str, Any]) -> str:
    """One table per trace plus the checks."""
    cpu = results["config"].get("cpu", {}).get("label", "not recorded")
    cols = [
        ("throughput_tok_s", "tok/s"),
        ("tokens_per_forward", "tok/fwd"),
        ("ttft_p50_s", "TTFT p50"),
        ("ttft_p99_s", "TTFT p99"),
        ("e2e_p50_s", "E2E p50"),
        ("e2e_p99_s", "E2E p99"),
        ("tpot_p50_s", "TPOT p50"),
        ("ttft_p99_high_s", "TTFT p99 high"),
        ("ttft_p99_low_s", "TTFT p99 low"),
    ]
    config = results["config"]
    lines = [
        f"model: {config['model']}, max batch {config['max_batch_size']}; "
        f"CPU: {cpu}, {config['threads']} threads"
    ]
    for trace in ("bursty", "quiet"):
        lines += [
            "",
            f"### {trace} trace ({results['traces'][trace]['requests']} requests)",
            "",
            "| policy | " + " | ".join(c[1] for c in cols) + " |",
            "|---" * (len(cols) + 1) + "|",
        ]
        for name, s in results[trace].items():
            lines.append(f"| {name} | " + " | ".join(_f(s[k]) for k, _ in cols) + " |")
    lines.append("")
    for name, c in results["checks"].items():
        lines.append(f"- {name}: {_f(c['value'])} — {'MET' if c['met'] else 'MISSED'}")
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> None:
    """results.json, results.md and policies.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "results.md").write_text(markdown(results) + "\n")
    plot(results, out_dir / "policies.png")


def plot(results: dict[str, Any], path: Path) -> None:
    """Throughput vs TTFT/E2E percentiles, priority split, tokens per forward (headless PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    b, q = results["bursty"], results["quiet"]
    names = list(b)
    x = np.arange(len(names))
    fig, ax = plt.subplots(2, 2, figsize=(14, 9))
    for key, marker in (("ttft_p50_s", "o"), ("ttft_p99_s", "^"), ("e2e_p50_s", "s"), ("e2e_p99_s", "v")):
        ax[0, 0].scatter(
            [b[n][key] for n in names],
            [b[n]["throughput_tok_s"] for n in names],
            marker=marker,
            label=key.removesuffix("_s"),
        )
    for n in names:
        ax[0, 0].annotate(n, (b[n]["ttft_p99_s"], b[n]["throughput_tok_s"]), fontsize=8)
    ax[0, 0].set(
        xscale="log", xlabel="latency (s)", ylabel="throughput (tok/s)", title="bursty: throughput vs latency"
    )
    ax[0, 0].legend()
    for off, key in ((-0.2, "ttft_p99_high_s"), (0.2, "ttft_p99_low_s")):
        ax[0, 1].bar(x + off, [b[n][key] or 0 for n in names], 0.4, label=key.removesuffix("_s"))
    ax[0, 1].set(title="bursty: TTFT p99 by priority (s)", yscale="log")
    for off, key in ((-0.2, "e2e_p50_s"), (0.2, "e2e_p99_s")):
        ax[1, 0].bar(x + off, [b[n][key] for n in names], 0.4, label=key.removesuffix("_s"))
    ax[1, 0].set(title="bursty: end-to-end latency (s)")
    for off, data, label in ((-0.2, b, "bursty"), (0.2, q, "quiet")):
        ax[1, 1].bar(x + off, [data[n]["tokens_per_forward"] for n in names], 0.4, label=label)
    ax[1, 1].set(title="tokens per forward")
    for a in (ax[0, 1], ax[1, 0], ax[1, 1]):
        a.set_xticks(x, names, rotation=20)
        a.legend()
    fig.suptitle(f"batching policies: {results['config']['model']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
