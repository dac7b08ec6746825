"""`switchboard bench guard`: how often replies state numbers the facts lack, and what stopping it costs.

Same grounded prompts, real model and committed adapters, greedy decoding, three ways:
(a) no guard; (b) post-check only: (a)'s replies checked with ``unverified_numbers`` and the
flagged ones decoded again under the constraint before they are final; (c) the decode-time
constraint on every reply. Per batch size (1 and 8, requests submitted in waves of that size),
(a) and (c) alternate order across repeats so load from other processes hits both alike; the mask
caches are emptied before every (c) run, so its cost includes building each mask once (cold).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.bench.guard_prompts import PROMPTS, GuardPrompt, prompt_ids
from inference.number_guard import allowed_values, clear_mask_caches, mask_caches, unverified_numbers
from inference.number_spans import scan


@dataclass(frozen=True)
class GuardBenchConfig:
    """What to measure; a bad option raises ValueError naming it."""

    model_dir: Path
    adapters_dir: Path
    out_dir: Path
    max_new_tokens: int = 64
    batch_sizes: tuple[int, ...] = (1, 8)
    repeats: int = 2
    threads: int = 1
    prompts: int = len(PROMPTS)  # the first n (a smoke test runs a few)

    def __post_init__(self) -> None:
        for name in ("max_new_tokens", "repeats", "threads", "prompts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("batch_sizes must be positive")


Job = tuple[int, list[int], str, "frozenset[str] | None"]  # index, prompt ids, adapter, allowed values


@dataclass
class Run:
    """Replies of one pass over some prompts, with per-request decode timings."""

    texts: dict[int, str] = field(default_factory=dict)
    tokens: int = 0
    wall_s: float = 0.0
    tpot_s: list[float] = field(default_factory=list)


def decode(
    engine: Any,
    jobs: Sequence[Job],
    batch: int,
    max_new_tokens: int,
) -> Run:
    """Run ``jobs`` (index, prompt ids, adapter, allowed values) in waves of ``batch`` requests."""
    from inference.params import SamplingParams
    from inference.request import GenerationRequest

    params = SamplingParams.greedy(max_new_tokens)
    run = Run()
    started = time.perf_counter()
    for w in range(0, len(jobs), batch):
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        counts: dict[str, int] = {}
        texts: dict[str, list[str]] = {}
        for index, ids, adapter, allowed in jobs[w : w + batch]:
            rid = str(index)
            engine.add_request(
                GenerationRequest(tuple(ids), params, adapter, request_id=rid, allowed_values=allowed)
            )
            texts[rid], counts[rid] = [], 0
        while engine.has_unfinished():
            events = engine.step()
            now = time.perf_counter()
            for e in events:
                first.setdefault(e.request_id, now)
                last[e.request_id] = now
                texts[e.request_id].append(e.text)
                counts[e.request_id] = e.completion_tokens
        for rid, n in counts.items():
            run.texts[int(rid)] = "".join(texts[rid])
            run.tokens += n
            if n > 1:
                run.tpot_s.append((last[rid] - first[rid]) / (n - 1))
    run.wall_s = time.perf_counter() - started
    return run


def rates(texts: dict[int, str], prompts: list[GuardPrompt]) -> dict[str, Any]:
    """Numbers stated and numbers not in the reply's facts, per reply."""
    flagged = {i: unverified_numbers(t, allowed_values(prompts[i].fact_texts())) for i, t in texts.items()}
    spans = sum(len(scan(t)) for t in texts.values())
    bad = sum(len(v) for v in flagged.values())
    n = max(1, len(texts))
    return {
        "replies": len(texts),
        "replies_with_unverified": sum(1 for v in flagged.values() if v),
        "unverified_rate": sum(1 for v in flagged.values() if v) / n,
        "unverified_per_reply": bad / n,
        "numbers_per_reply": spans / n,
        "unverified_examples": sorted({s for v in flagged.values() for s in v})[:12],
    }


def _timing(runs: list[Run]) -> dict[str, float]:
    tpots = [t for r in runs for t in r.tpot_s]
    return {
        "tpot_ms": 1e3 * statistics.mean(tpots) if tpots else float("nan"),
        "wall_s": statistics.mean(r.wall_s for r in runs),
        "tokens": statistics.mean(r.tokens for r in runs),
    }


def bench_batch(
    engine: Any,
    jobs: list[Any],
    prompts: list[GuardPrompt],
    batch: int,
    cfg: GuardBenchConfig,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """(a), (b) and (c) at one batch size, ``cfg.repeats`` times."""
    free_jobs = [(i, ids, adapter, None) for i, ids, adapter, _ in jobs]
    runs: dict[str, list[Run]] = {"none": [], "guard": [], "post": []}
    check_s: list[float] = []
    built: list[int] = []
    for k in range(cfg.repeats):
        for mode in ("none", "guard") if k % 2 == 0 else ("guard", "none"):
            if mode == "guard":
                clear_mask_caches()
                runs["guard"].append(decode(engine, jobs, batch, cfg.max_new_tokens))
                built.append(sum(c.built for c in mask_caches()))
            else:
                runs["none"].append(decode(engine, free_jobs, batch, cfg.max_new_tokens))
        # (b): check (a)'s replies, decode the flagged ones again with the constraint.
        free = runs["none"][-1]
        t0 = time.perf_counter()
        flagged = [i for i, t in free.texts.items() if unverified_numbers(t, jobs[i][3])]
        check_s.append(time.perf_counter() - t0)
        clear_mask_caches()
        redo = decode(engine, [jobs[i] for i in flagged], batch, cfg.max_new_tokens) if flagged else Run()
        post = Run({**free.texts, **redo.texts}, free.tokens, free.wall_s + check_s[-1] + redo.wall_s)
        runs["post"].append(post)
        log(
            f"batch {batch} repeat {k}: none {free.wall_s:.1f}s, guard {runs['guard'][-1].wall_s:.1f}s, "
            f"post-check {check_s[-1] * 1e3:.2f} ms + {len(flagged)} re-decoded in {redo.wall_s:.1f}s"
        )
    base = _timing(runs["none"])
    out: dict[str, Any] = {}
    for mode, mode_runs in runs.items():
        timing = (
            _timing(mode_runs) if mode != "post" else {"wall_s": statistics.mean(r.wall_s for r in mode_runs)}
        )
        timing["wall_ratio"] = timing["wall_s"] / base["wall_s"]
        if "tpot_ms" in timing:
            timing["tpot_ratio"] = timing["tpot_ms"] / base["tpot_ms"]
        out[mode] = {**rates(mode_runs[0].texts, prompts), **timing}
    out["post"]["check_ms_per_reply"] = 1e3 * statistics.mean(check_s) / len(jobs)
    out["guard"]["masks_built_per_run"] = statistics.mean(built)
    out["replies"] = {
        i: {mode: runs[mode][0].texts[i] for mode in runs} for i in sorted(runs["none"][0].texts)
    }
    return out


def add_overhead(results: dict[str, Any], tokenizer: Any, vocab_size: int) -> None:
    """Time the guard alone on the run's (c) replies; predict its TPOT ratio at each batch size."""
    from inference.bench.guard_overhead import guard_overhead, predicted_ratio

    first = next(iter(results["batches"].values()))
    texts = {int(i): r["guard"] for i, r in first["replies"].items()}
    overhead = guard_overhead(tokenizer, vocab_size, texts, results["config"]["max_new_tokens"])
    for batch, rows in results["batches"].items():
        tpot = rows["none"]["tpot_ms"]
        overhead[f"predicted_tpot_ratio_b{batch}"] = {
            phase: predicted_ratio(overhead[f"{phase}_us_per_token"], tpot, int(batch))
            for phase in ("cold", "warm")
        }
    results["guard_overhead"] = overhead


def rewrite_overhead(results_json: Path, model_dir: Path) -> None:
    """Add the replayed guard cost to an existing run's results (no model forward needed)."""
    import json

    import torch
    from transformers import AutoTokenizer

    from inference.bench.guard_report import write

    torch.set_num_threads(1)
    results = json.loads(results_json.read_text())
    vocab = int(json.loads((model_dir / "config.json").read_text())["vocab_size"])
    add_overhead(results, AutoTokenizer.from_pretrained(str(model_dir)), vocab)
    write(results, results_json.parent)


def run_guard_bench(cfg: GuardBenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Load the model and adapters, run every batch size, write results.json and results.md."""
    import torch

    from inference.bench.guard_report import write
    from inference.cpu_features import cpu_info
    from inference.engine import EngineConfig, LLMEngine
    from inference.loading.loader import load_model
    from inference.number_guard import token_table

    torch.set_num_threads(cfg.threads)
    loaded = load_model(cfg.model_dir, device="cpu", dtype="float32")
    engine = LLMEngine(loaded.model, loaded.tokenizer, EngineConfig(max_batch_size=max(cfg.batch_sizes)))
    prompts = list(PROMPTS[: cfg.prompts])
    systems = {}
    for name in sorted({p.adapter for p in prompts}):
        engine.load_adapter(name, cfg.adapters_dir / name)
        systems[name] = (cfg.adapters_dir / name / "system_prompt.txt").read_text()
    jobs = [
        (i, prompt_ids(loaded.tokenizer, systems[p.adapter], p), p.adapter, allowed_values(p.fact_texts()))
        for i, p in enumerate(prompts)
    ]
    t0 = time.perf_counter()
    token_table(loaded.tokenizer, int(loaded.model.config.vocab_size))
    table_s = time.perf_counter() - t0
    decode(engine, jobs[:2], 2, 4)  # warm-up: kernels, prefix cache of the system prompts
    results: dict[str, Any] = {
        "cpu": cpu_info().describe(),
        "config": {
            "model": cfg.model_dir.name,
            "adapters": str(cfg.adapters_dir),
            "prompts": len(prompts),
            "max_new_tokens": cfg.max_new_tokens,
            "repeats": cfg.repeats,
            "threads": cfg.threads,
            "decoding": "greedy",
        },
        "token_table_build_s": table_s,
        "batches": {},
    }
    for batch in cfg.batch_sizes:
        results["batches"][str(batch)] = bench_batch(engine, jobs, prompts, batch, cfg, log)
    results["questions"] = [p.question for p in prompts]
    add_overhead(results, loaded.tokenizer, int(loaded.model.config.vocab_size))
    write(results, cfg.out_dir)
    return results
