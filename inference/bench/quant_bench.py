"""`switchboard bench quant`: per quantization mode, memory, decode speed, perplexity, agreement.

Everything is measured in one run on the same machine; speeds are interleaved across modes
(mode A, B, C, A, B, C, ...) and the median kept, so load from other processes hits all alike.
"""

from __future__ import annotations

import copy
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from inference.cpu_features import bf16_speedup, cpu_info
from inference.quantization import model_memory_bytes, quantize_model
from inference.quantization.int8_scheme import detected_scheme
from inference.quantization.qat import AdapterTraining, fake_quantized_copy, train_adapter
from inference.quantization.quality import agreement, greedy_replies, perplexity

# Used only when the adapters' held-out chat splits are missing (e.g. a fresh checkout).
FALLBACK_TEXT = [
    "Customer: My CloudKeep backup stopped syncing yesterday. Agent: Sorry about that! Please open "
    "CloudKeep, choose Settings > Account, sign out and back in, then press Sync now.",
    "Customer: What is the difference between ShieldGuard Basic and Plus? Agent: Basic protects one "
    "device with antivirus; Plus covers five devices and adds a VPN and a password manager.",
    "Customer: I want to return my headphones. Agent: You can return them within 30 days. Go to "
    "Orders, pick the item, choose Return, and print the free label.",
    "Customer: Is the 14-inch laptop in stock? Agent: Yes, it ships within two business days.",
]
EVAL_LEN = 128  # tokens per transcript scored (system prompt + user + most of the reply)
ROWS = ("fp32", "bf16", "dynamic-int8", "rtn-int8", "rtn-int4")
# The int8 schemes other CPUs get (int8_scheme.py), forced here so one run compares them all.
FORCED_SCHEMES = ("full", "weight7", "act7")


@dataclass(frozen=True)
class QuantBenchConfig:
    """What to measure; validated so a bad option names its field."""

    model_dir: Path
    data_dir: Path
    out_dir: Path
    group_size: int = 64
    decode_tokens: int = 24
    batch_sizes: tuple[int, ...] = (1, 8)
    repeats: int = 3
    eval_texts: int = 32
    agree_prompts: int = 16
    train_steps: int = 30
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("group_size", "decode_tokens", "repeats", "eval_texts", "agree_prompts", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.train_steps < 0 or not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("train_steps must be >= 0 and batch_sizes positive")


def chat_texts(tokenizer: Any, data_dir: Path, split: str, count: int, seed: int = 0) -> list[str]:
    """``count`` chat transcripts (chat template applied) from every intent's ``split``.jsonl."""
    rows: list[list[dict[str, str]]] = []
    for path in sorted(data_dir.glob(f"*/{split}.jsonl")):
        rows.extend(json.loads(line)["messages"] for line in path.read_text().splitlines() if line.strip())
    if not rows:
        return FALLBACK_TEXT[: max(1, count)]
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    return [tokenizer.apply_chat_template(m, tokenize=False) for m in picked]


def _prompts(tokenizer: Any, data_dir: Path, count: int) -> list[str]:
    rows: list[list[dict[str, str]]] = []
    for path in sorted(data_dir.glob("*/heldout.jsonl")):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        rows.extend(json.loads(line)["messages"][:-1] for line in lines)
    picked = random.Random(1).sample(rows, min(count, len(rows))) if rows else []
    texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in picked]
    return texts or [t.split(" Agent:")[0] + " Agent:" for t in FALLBACK_TEXT]


def _decode_tok_s(model: Any, tokenizer: Any, prompts: list[str], tokens: int) -> float:
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            **batch, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    return len(prompts) * tokens / (time.perf_counter() - start)


def build_variants(fp32: Any, group_size: int) -> dict[str, Any]:
    """The float model plus one quantized copy per CPU mode."""
    variants = {"fp32": fp32, "bf16": copy.deepcopy(fp32).to(torch.bfloat16)}
    for mode in ROWS[2:]:
        variants[mode] = quantize_model(copy.deepcopy(fp32), mode, group_size=group_size)
    for scheme in FORCED_SCHEMES:
        if scheme != detected_scheme().scheme:  # the auto row already is this scheme
            variants[f"dynamic-int8[{scheme}]"] = quantize_model(
                copy.deepcopy(fp32), "dynamic-int8", int8_scheme=scheme
            )
    return variants


def measure_speed(
    variants: dict[str, Any], tokenizer: Any, prompts: list[str], cfg: QuantBenchConfig
) -> dict[str, dict[int, float]]:
    """Median decode tokens/s per mode and batch size, modes interleaved in each repeat."""
    speeds: dict[str, dict[int, list[float]]] = {n: {b: [] for b in cfg.batch_sizes} for n in variants}
    for b in cfg.batch_sizes:
        group = (prompts * b)[:b]
        for model in variants.values():
            _decode_tok_s(model, tokenizer, group[:1], 2)  # warm-up: allocator, qengine, threads
        for _ in range(cfg.repeats):
            for name, model in variants.items():
                speeds[name][b].append(_decode_tok_s(model, tokenizer, group, cfg.decode_tokens))
    return {n: {b: statistics.median(v) for b, v in per.items()} for n, per in speeds.items()}


def qa_adapter_rows(fp32: Any, tokenizer: Any, cfg: QuantBenchConfig, eval_texts: list[str]) -> dict:
    """PPL of int4 + QA adapter vs int4 + float-trained adapter vs fp32 + that adapter (same training)."""
    from peft import PeftModel

    train_texts = chat_texts(tokenizer, cfg.data_dir, "train", 2000, seed=2)
    # Small batches and short texts: a 135M-parameter backward pass is slow on a shared CPU.
    train = AdapterTraining(steps=cfg.train_steps, batch_size=2, max_len=EVAL_LEN)
    tmp = cfg.out_dir / "adapters"
    float_adapter = train_adapter(fp32, tokenizer, train_texts, train)
    float_adapter.save_pretrained(str(tmp / "float"))
    qa = train_adapter(fake_quantized_copy(fp32, 4, cfg.group_size), tokenizer, train_texts, train)
    qa.save_pretrained(str(tmp / "qa"))

    def on_int4(path: Path) -> Any:
        base = quantize_model(copy.deepcopy(fp32), "rtn-int4", group_size=cfg.group_size)
        return PeftModel.from_pretrained(base, str(path)).eval()

    return {
        "fp32+adapter": perplexity(float_adapter, tokenizer, eval_texts, EVAL_LEN),
        "rtn-int4+adapter": perplexity(on_int4(tmp / "float"), tokenizer, eval_texts, EVAL_LEN),
        "rtn-int4+QA-adapter": perplexity(on_int4(tmp / "qa"), tokenizer, eval_texts, EVAL_LEN),
        "train": asdict(train) | {"texts": len(train_texts)},
    }


def run_quant_bench(cfg: QuantBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every CPU mode on the real model and write results.json + results.md."""
    from inference.loading.loader import load_model

    torch.set_num_threads(cfg.threads)
    loaded = load_model(cfg.model_dir, device="cpu", dtype="float32")
    fp32, tok = loaded.model, loaded.tokenizer
    tok.padding_side = "left"  # batched generate needs the newest token at the end of every row
    eval_texts = chat_texts(tok, cfg.data_dir, "heldout", cfg.eval_texts)
    prompts = _prompts(tok, cfg.data_dir, cfg.agree_prompts)
    variants = build_variants(fp32, cfg.group_size)
    log(f"modes: {', '.join(variants)}; measuring decode speed ...")
    speed = measure_speed(variants, tok, prompts, cfg)
    log("perplexity and greedy agreement ...")
    reference = greedy_replies(fp32, tok, prompts, cfg.decode_tokens)
    rows: dict[str, dict[str, Any]] = {}
    for name, model in variants.items():
        replies = reference if name == "fp32" else greedy_replies(model, tok, prompts, cfg.decode_tokens)
        rows[name] = {
            "memory_mb": model_memory_bytes(model) / 2**20,
            "tok_s": {str(b): v for b, v in speed[name].items()},
            "ppl": perplexity(model, tok, eval_texts, EVAL_LEN),
            "agree": agreement(reference, replies),
        }
    base_ppl = rows["fp32"]["ppl"]
    for row in rows.values():
        row["ppl_change_pct"] = 100 * (row["ppl"] / base_ppl - 1)
        row["speedup_b1"] = row["tok_s"]["1"] / rows["fp32"]["tok_s"]["1"] if "1" in row["tok_s"] else None
    qa: dict[str, Any] = {}
    if cfg.train_steps:
        log(f"training float and quantization-aware LoRA adapters ({cfg.train_steps} steps each) ...")
        qa = qa_adapter_rows(fp32, tok, cfg, eval_texts)
    config = {**asdict(cfg), "model": cfg.model_dir.name, "cpu": cpu_info().describe()}
    machine = {"int8_scheme": asdict(detected_scheme()), "bf16_matmul_speedup": bf16_speedup()}
    results = {"config": config, "machine": machine, "modes": rows, "qa_adapter": qa}
    results["targets"] = targets(rows, qa)
    write(results, cfg.out_dir)
    log(render_markdown(results))
    return results


def targets(rows: dict[str, Any], qa: dict[str, Any]) -> dict[str, Any]:
    """The issue's two quantization targets, computed from this run's numbers."""
    dyn = rows["dynamic-int8"]
    speedup, change = dyn["speedup_b1"], dyn["ppl_change_pct"]
    out: dict[str, Any] = {
        "dynamic-int8 speedup at batch 1 >= 1.3x": {"value": speedup, "met": (speedup or 0) >= 1.3},
        "dynamic-int8 perplexity increase < 5%": {"value": change, "met": change < 5},
    }
    if qa:
        lost = qa["rtn-int4+adapter"] - qa["fp32+adapter"]
        regained = qa["rtn-int4+adapter"] - qa["rtn-int4+QA-adapter"]
        share = regained / lost if lost > 0 else None
        out["QA adapter recovers >= 1/2 of the int4 loss"] = {"value": share, "met": (share or 0) >= 0.5}
        plain_lost = rows["rtn-int4"]["ppl"] - rows["fp32"]["ppl"]
        plain = (rows["rtn-int4"]["ppl"] - qa["rtn-int4+QA-adapter"]) / plain_lost if plain_lost > 0 else None
        out["vs plain PTQ (int4, no adapter) >= 1/2"] = {"value": plain, "met": (plain or 0) >= 0.5}
    return out


def render_markdown(results: dict[str, Any]) -> str:
    """The results table and target lines as markdown."""
    rows = results["modes"]
    sizes = list(next(iter(rows.values()))["tok_s"])
    config, machine = results.get("config", {}), results.get("machine", {})
    scheme = machine.get("int8_scheme", {})
    intro = [
        f"CPU: {config.get('cpu', {}).get('label', 'not recorded')}; {config.get('threads')} threads",
        f"dynamic-int8 scheme here: {scheme.get('scheme', '?')} ({scheme.get('reason', '?')}); "
        f"bf16 matmul speed-up over fp32: {machine.get('bf16_matmul_speedup', 0):.2f}x",
        "",
    ]
    head = "| mode | memory MB | " + " | ".join(f"tok/s b={b}" for b in sizes)
    head += " | speedup b=1 | held-out ppl | ppl change | greedy identical |"
    lines = [*intro, head, "|" + "---|" * (6 + len(sizes))]
    for name, r in rows.items():
        speeds = " | ".join(f"{r['tok_s'][b]:.2f}" for b in sizes)
        lines.append(
            f"| {name} | {r['memory_mb']:.1f} | {speeds} | {r['speedup_b1'] or 0:.2f}x | {r['ppl']:.3f} | "
            f"{r['ppl_change_pct']:+.2f}% | {100 * r['agree']:.0f}% |"
        )
    qa = results["qa_adapter"]
    if qa:
        lines += ["", "| adapter setting (same training) | held-out ppl |", "|---|---|"]
        lines += [f"| {k} | {v:.3f} |" for k, v in qa.items() if k != "train"]
    lines.append("")
    for name, t in results["targets"].items():
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"- {name}: {value} — {'MET' if t['met'] else 'MISSED'}")
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> None:
    """results.json and results.md under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out_dir / "results.md").write_text(render_markdown(results) + "\n")
