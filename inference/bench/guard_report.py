"""Results of `switchboard bench guard` as JSON and a Markdown table naming the CPU and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MODES = (
    ("none", "(a) no guard"),
    ("post", "(b) post-check, flagged replies re-decoded with the constraint"),
    ("guard", "(c) decode-time constraint"),
)


def command(cfg: dict[str, Any], batches: list[str]) -> str:
    """The command line that reproduces these results."""
    sizes = " ".join(f"--batch {b}" for b in batches)
    return (
        f"nice -n 10 switchboard bench guard --max-new-tokens {cfg['max_new_tokens']} --repeats "
        f"{cfg['repeats']} --threads {cfg['threads']} --prompts {cfg['prompts']} {sizes} "
        "--out docs/benchmarks/guard"
    )


def _ratio(value: Any) -> str:
    return f"{value:.3f}x" if isinstance(value, float) else "-"


def markdown(results: dict[str, Any]) -> str:
    """The results table: unverified-number rates and latency ratios vs (a), per batch size."""
    cfg, cpu = results["config"], results["cpu"]
    lines = [
        "# Number guard: unverified numbers and latency cost",
        "",
        f"CPU: {cpu['label']}, {cpu['usable_cores']} usable cores, torch threads {cfg['threads']}.",
        f"Model {cfg['model']} with the committed adapters, {cfg['prompts']} grounded prompts "
        f"(inference/bench/guard_prompts.py), {cfg['decoding']} decoding, max_new_tokens "
        f"{cfg['max_new_tokens']}, {cfg['repeats']} repeats.",
        f"Command: `{command(cfg, list(results['batches']))}`.",
        "",
        "Unverified: a number/phone/email in the reply that is not in the facts given for it "
        "(`inference.number_guard.unverified_numbers`). Per-token latency: mean time per output "
        "token after the first (TPOT), ratios against (a) in the same run. Token table built once "
        f"per process in {results['token_table_build_s']:.2f} s.",
        "",
    ]
    for batch, rows in results["batches"].items():
        lines += [
            f"## Batch {batch}",
            "",
            "| mode | replies with unverified | unverified / reply | numbers / reply | TPOT ms | TPOT vs (a) "
            "| wall s | wall vs (a) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for key, label in MODES:
            r = rows[key]
            tpot = f"{r['tpot_ms']:.1f}" if "tpot_ms" in r else "-"
            cells = [
                label, f"{r['replies_with_unverified']}/{r['replies']}", f"{r['unverified_per_reply']:.2f}",
                f"{r['numbers_per_reply']:.2f}", tpot, _ratio(r.get("tpot_ratio")), f"{r['wall_s']:.1f}",
                _ratio(r["wall_ratio"]),
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        post, guard = rows["post"], rows["guard"]
        lines += [
            "",
            f"Post-check alone: {post['check_ms_per_reply']:.3f} ms per reply. Decode-time constraint: "
            f"{guard['masks_built_per_run']:.0f} masks built per run (cold caches). Invented without the "
            f"guard: {', '.join(rows['none']['unverified_examples']) or 'none'}.",
            "",
        ]
    overhead = results.get("guard_overhead")
    if overhead:
        predicted = ", ".join(
            f"batch {k.rsplit('b', 1)[1]}: {v['cold']:.3f}x cold / {v['warm']:.3f}x warm"
            for k, v in overhead.items()
            if k.startswith("predicted_tpot_ratio_b")
        )
        lines += [
            "## The guard's own cost (replayed without the model)",
            "",
            f"The (c) replies re-tokenised ({overhead['tokens']} tokens) and fed through a fresh guard "
            f"(constrain + advance per token, `inference/bench/guard_overhead.py`): "
            f"**{overhead['cold_us_per_token']:.0f} µs per token with empty mask caches, "
            f"{overhead['warm_us_per_token']:.0f} µs warm**. Added to (a)'s TPOT that predicts a TPOT ratio "
            f"of {predicted} — what the end-to-end ratios above measure through the noise of a shared CPU.",
            "",
        ]
    batch, first = next(iter(results["batches"].items()))
    lines += [f"## Replies the constraint changed (batch {batch}, first repeat)", ""]
    for i, reply in first["replies"].items():
        if reply["none"] != reply["guard"]:
            lines += [
                f"- **{results['questions'][int(i)]}**",
                f"  - (a) {reply['none']!r}",
                f"  - (c) {reply['guard']!r}",
            ]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], out_dir: Path) -> None:
    """results.json and results.md under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(markdown(results))
