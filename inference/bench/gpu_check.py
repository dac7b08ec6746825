"""`python3 -m inference.bench.gpu_check`: the CUDA path's smoke and equivalence checks.

Run by scripts/gpu_check.sh on the lent GPU machine (torch, transformers and peft only), before
the engine bench: (1) the bf16 engine generates, and bitsandbytes int8/NF4 too where that package
is importable; (2) on one engine, each decode step of a mixed-adapter batch is run twice on the
same cache — once through the CUDA-graph replay of paged flex attention, once through the plain
eager SDPA forward — and their logits compared; (3) decode step time of each path at a few batch
sizes. Everything printed is also written to ``--out/gpu_check.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from inference.bench.adapters import write_random_adapter
from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.model_runner import BatchItem
from inference.params import SamplingParams
from inference.request import GenerationRequest

DEVICE = ["cuda"]  # --device cpu: a dry run of this script's logic on the tiny shape


def _sync() -> None:
    if DEVICE[0] == "cuda":
        torch.cuda.synchronize()


def _prompt(seed: int, n: int, vocab: int) -> tuple[int, ...]:
    return tuple(torch.randint(3, vocab, (n,), generator=torch.Generator().manual_seed(seed)).tolist())


def smoke(shape: str, tokenizer: Any, log: Any) -> dict[str, str]:
    """Generate 8 tokens with the bf16 engine in each quantization mode this machine can run."""
    from inference.quantization import quantize_model

    out = {}
    for mode in ("none", "int8", "nf4"):
        try:
            model = build_random_llama(shape, dtype=torch.bfloat16, device=DEVICE[0])
            model = quantize_model(model, mode) if mode != "none" else model
            engine = LLMEngine(model, tokenizer, EngineConfig(kv_budget_tokens=4096))
            engine.add_request(GenerationRequest((1, 2, 3), SamplingParams.greedy(8, ignore_eos=True)))
            n = 0
            while engine.has_unfinished():
                n += sum(len(e.token_ids) for e in engine.step())
            runner = engine.runner
            out[mode] = f"ok: {n} tokens, attention={runner.attention}, graphs={runner.graphs is not None}"
        except Exception as exc:  # report and go on: one missing package must not hide the rest
            out[mode] = f"skipped/failed: {type(exc).__name__}: {exc}"
        log(f"smoke {shape} bf16 {mode}: {out[mode]}")
    return out


def _decode_items(engine: LLMEngine) -> list[BatchItem]:
    items = []
    for state in engine.scheduler.running:
        seq = state.seqs[0]
        assert engine.pool.prepare_write(seq, seq.num_computed, seq.num_computed + 1)
        items.append(BatchItem(seq.token_ids[-1:], seq.num_computed, seq.block_table, state.adapter, True))
    return items


def _plain(engine: LLMEngine, items: list[BatchItem]) -> torch.Tensor:
    runner = engine.runner
    graphs, flex = runner.graphs, runner.flex
    runner.graphs, runner.flex = None, None  # eager forward, SDPA buckets: the CPU path
    try:
        return runner.forward(items)
    finally:
        runner.graphs, runner.flex = graphs, flex


def _engine(shape: str, tokenizer: Any, adapters: dict[str, Path], batch: int) -> LLMEngine:
    model = build_random_llama(shape, dtype=torch.bfloat16, device=DEVICE[0], initializer_range=0.05)
    # What 'auto' picks on CUDA, named so that a CPU dry run takes the same path (uncaptured).
    config = EngineConfig(max_batch_size=batch, kv_budget_tokens=65536, attention="flex", decode_graphs=True)
    engine = LLMEngine(model, tokenizer, config)
    for name, path in adapters.items():
        engine.load_adapter(name, path)
    engine.warm_up()
    return engine


def _prefill(engine: LLMEngine, batch: int, context: int, names: list[str | None]) -> None:
    model: Any = engine.model
    vocab = int(model.config.vocab_size)
    for i in range(batch):
        params = SamplingParams.greedy(1000, ignore_eos=True)
        prompt = _prompt(i, context + 7 * i, vocab)
        adapter = names[i % len(names)]
        engine.add_request(GenerationRequest(prompt, params, adapter=adapter, request_id=f"q{i}"))
    running = engine.scheduler.running
    while engine.scheduler.waiting or any(s.seqs[0].num_computed < s.seqs[0].prompt_len for s in running):
        engine.step()


def equivalence(shape: str, tokenizer: Any, log: Any, batch: int = 12, steps: int = 6) -> dict[str, Any]:
    """Graph-replayed flex decode vs the plain eager forward, step by step on one cache."""
    with tempfile.TemporaryDirectory() as scratch:
        model = build_random_llama(shape, dtype=torch.bfloat16, device=DEVICE[0], initializer_range=0.05)
        names = ("a", "b")
        adapters = {n: write_random_adapter(model, Path(scratch) / n, 16, seed=i)
                    for i, n in enumerate(names)}
        del model
        engine = _engine(shape, tokenizer, adapters, 64)  # adapters are read in while loading
    _prefill(engine, batch, 200, [None, "a", "b"])
    worst, agree, rows = 0.0, 0, 0
    for _ in range(steps):
        items = _decode_items(engine)
        fast = engine.runner.forward(items).clone()
        plain = _plain(engine, items)
        scale = float(plain.abs().max())
        worst = max(worst, float((fast - plain).abs().max()) / scale)
        agree += int((fast.argmax(-1) == plain.argmax(-1)).sum())
        rows += len(items)
        for it, token in zip(items, plain.argmax(-1).tolist(), strict=True):
            seq = next(s.seqs[0] for s in engine.scheduler.running if s.seqs[0].block_table is it.block_table)
            seq.num_computed += 1
            seq.token_ids.append(int(token))
    result = {"shape": shape, "batch": batch, "steps": steps, "max_rel_logit_diff": worst,
              "argmax_agreement": agree / rows, "graphs_captured": engine.runner.graphs.captures,
              "ok": worst < 5e-2 and agree / rows >= 0.95}
    log(f"equivalence {shape}: {json.dumps(result)}")
    return result


def _decode_once(engine: LLMEngine, items: list[BatchItem], fast: bool) -> torch.Tensor:
    return engine.runner.forward(items) if fast else _plain(engine, items)


def step_times(
    shape: str, tokenizer: Any, log: Any, batches: tuple[int, ...] = (1, 8, 32, 64),
    on_row: Callable[[dict], None] = lambda row: None,
) -> list[dict]:
    """Mean decode step (ms) at ~500 tokens of context: plain eager SDPA vs flex + CUDA graphs."""
    rows = []
    engine = _engine(shape, tokenizer, {}, max(batches))
    for batch in batches:
        engine.abort_all()
        engine.step()
        _prefill(engine, batch, 500, [None])
        items = _decode_items(engine)
        row: dict[str, Any] = {"shape": shape, "batch": batch}
        for name, fast in (("plain_ms", False), ("flex_graphs_ms", True)):
            _decode_once(engine, items, fast)
            _sync()
            start = time.perf_counter()
            for _ in range(20):
                _decode_once(engine, items, fast).argmax(-1).tolist()  # what a step reads back
            row[name] = (time.perf_counter() - start) / 20 * 1000
        row["speedup"] = row["plain_ms"] / row["flex_graphs_ms"]
        log(f"decode step {json.dumps(row)}")
        rows.append(row)
        on_row(row)
    return rows


def to_markdown(report: dict[str, Any]) -> str:
    """The checks as short tables (the device run's README starts with them)."""
    lines = [f"GPU: {report['gpu']}, torch {report['torch']}", "", "| smoke | result |", "| --- | --- |"]
    lines += [f"| {mode} | {text} |" for mode, text in report["smoke"].items()]
    lines += ["", "| equivalence | max rel. logit diff | argmax agreement | graphs captured | ok |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {e['shape']} | {e['max_rel_logit_diff']:.2e} | {e['argmax_agreement']:.3f} | "
              f"{e['graphs_captured']} | {e['ok']} |" for e in report["equivalence"]]
    lines += ["", "| decode step | batch | plain eager SDPA ms | flex + CUDA graphs ms | speed-up |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['shape']} | {r['batch']} | {r['plain_ms']:.2f} | {r['flex_graphs_ms']:.2f} | "
              f"{r['speedup']:.2f}x |" for r in report["step_times"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run every check; exit 1 if the equivalence check fails."""
    from transformers import AutoTokenizer

    p = argparse.ArgumentParser(prog="python3 -m inference.bench.gpu_check")
    p.add_argument("--tokenizer-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--shapes", default="smollm2-135m,llama-3-8b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--batches", default="1,8,32,64", help="decode batch sizes to time")
    a = p.parse_args(argv)
    DEVICE[0] = a.device
    tokenizer = AutoTokenizer.from_pretrained(str(a.tokenizer_dir))
    log = print  # noqa: T201 - this module's output is its report
    gpu = torch.cuda.get_device_name() if a.device == "cuda" else "none (dry run)"
    log(f"torch {torch.__version__}, {gpu}")
    shapes = [s for s in a.shapes.split(",") if s]
    report: dict[str, Any] = {"torch": torch.__version__, "gpu": gpu, "smoke": {}, "equivalence": [],
                              "step_times": []}
    a.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every stage, so a run cut short by its timeout keeps what it did
        (a.out / "gpu_check.json").write_text(json.dumps(report, indent=2))
        (a.out / "gpu_check.md").write_text(to_markdown(report))

    report["smoke"] = smoke(shapes[0], tokenizer, log)
    save()
    for shape in shapes:
        report["equivalence"].append(equivalence(shape, tokenizer, log))
        save()
    ok = all(e["ok"] for e in report["equivalence"])
    batches = tuple(int(b) for b in a.batches.split(","))

    def keep(row: dict) -> None:
        report["step_times"].append(row)
        save()

    for shape in shapes:
        step_times(shape, tokenizer, log, batches, on_row=keep)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
