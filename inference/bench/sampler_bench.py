"""Sampler cost per row, today's fast paths against the whole-row sort and draw, in one run.

    python -m inference.bench.sampler_bench [--rows 32] [--repeats 20] [--vocab 49152]
    python -m inference.bench.sampler_bench --engine MODEL_DIR --adapters adapters  # + engine steps

Rows are random logits at the spread of a real model's (std 3); each policy is timed on the same
rows both ways, alternating, and the ratio is reported (the machine's load cancels out of it).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

import inference.sampler as sampler_module
from inference.cpu_features import cpu_info
from inference.params import SamplingParams
from inference.sampler import apply_temperature, apply_top_k, sample_row, top_p_full_sort

POLICIES = {
    "nucleus top_p 0.9": SamplingParams(temperature=0.7, top_p=0.9),
    "top_k 50": SamplingParams(temperature=0.7, top_k=50),
    "top_k 50 + top_p 0.9": SamplingParams(temperature=0.7, top_k=50, top_p=0.9),
}


def whole_row(row: torch.Tensor, params: SamplingParams) -> int:
    """The previous path: nucleus by sorting the whole row, then a draw over the whole vocabulary."""
    scores = apply_top_k(apply_temperature(row, params.temperature), params.top_k)
    scores = top_p_full_sort(scores, params.top_p) if params.top_p < 1.0 else scores
    return int(torch.multinomial(scores.softmax(dim=-1), 1).item())


def _time(fn, rows: torch.Tensor, params: SamplingParams) -> float:
    start = time.perf_counter()
    for row in rows:
        fn(row, params, None) if fn is sample_row else fn(row, params)
    return (time.perf_counter() - start) / len(rows)


def engine_step_ms(model_dir: Path, adapters_dir: Path, path: str, batch: int = 32) -> float:
    """Median batch-``batch`` decode step (bf16, nucleus 0.9, mixed adapters) with one sampler path."""
    from inference import EngineConfig, GenerationRequest, LLMEngine
    from inference.loading.loader import load_model

    fast = sampler_module.sample_row

    def old_row(row: torch.Tensor, params: SamplingParams, _gen: torch.Generator | None) -> int:
        return whole_row(row, params)

    sampler_module.sample_row = fast if path == "fast" else old_row  # type: ignore[assignment]
    try:
        loaded = load_model(model_dir, device="cpu", dtype="bfloat16")
        engine = LLMEngine(loaded.model, loaded.tokenizer, EngineConfig(max_batch_size=64))
        names = ("general", "tech_support", "sales")
        for name in names:
            engine.load_adapter(name, adapters_dir / name)
        rng = random.Random(0)
        params = SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=300, ignore_eos=True)
        for i in range(batch):
            prompt = [rng.randint(100, 40000) for _ in range(rng.randint(30, 400))]
            engine.add_request(GenerationRequest(tuple(prompt), params, adapter=names[i % 3]))
        for _ in range(200):  # until every prompt is in and each step is decode only
            engine.step()
            running = engine.scheduler.running
            if len(running) == batch and all(q.num_uncomputed <= 1 for r in running for q in r.seqs):
                break
        times = []
        for _ in range(8):
            start = time.perf_counter()
            engine.step()
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2] * 1e3
    finally:
        sampler_module.sample_row = fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--vocab", type=int, default=49152)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engine", type=Path, help="model folder: also time whole engine steps")
    parser.add_argument("--adapters", type=Path, default=Path("adapters"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = torch.randn(args.rows, args.vocab, generator=torch.Generator().manual_seed(0)) * 3
    print(f"CPU: {cpu_info().label()}; {args.threads} thread(s), vocab {args.vocab}, {args.rows} rows")
    print(f"{'policy':24} {'whole row ms':>13} {'fast path ms':>13} {'ratio':>7}")
    for name, params in POLICIES.items():
        old, new = [], []
        for _ in range(args.repeats):
            old.append(_time(whole_row, rows, params))
            new.append(_time(sample_row, rows, params))
        old_ms, new_ms = sorted(old)[len(old) // 2] * 1e3, sorted(new)[len(new) // 2] * 1e3
        print(f"{name:24} {old_ms:13.3f} {new_ms:13.3f} {old_ms / new_ms:6.1f}x")
    if args.engine is not None:
        for _ in range(2):  # alternated, so load drift does not favour either path
            for path in ("whole", "fast"):
                ms = engine_step_ms(args.engine, args.adapters, path)
                print(f"batch-32 decode step, nucleus 0.9, bf16, {path} row path: {ms:.1f} ms")


if __name__ == "__main__":
    main()
