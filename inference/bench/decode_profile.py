"""Time and profile batch-32 decode steps of the real engine: SmolLM2-135M, the three committed
adapters, 32 random prompts of 30-600 tokens, one torch thread.

    python -m inference.bench.decode_profile bfloat16 [--profile]

Prints the mean step time over 10 steps after the prefills, and with --profile the op table of 5
more (what docs/benchmarks/engine-xeon-amx-bf16/batch32_profile.txt holds).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from inference.engine import EngineConfig, LLMEngine
from inference.loading.loader import load_model
from inference.params import SamplingParams
from inference.request import GenerationRequest

MODEL = Path.home() / ".cache/switchboard/smollm2-135m-instruct"
ADAPTERS = ("general", "tech_support", "sales")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dtype", choices=["bfloat16", "float32"])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaded = load_model(MODEL, device="cpu", dtype=args.dtype)
    config = EngineConfig(max_batch_size=32, clock=time.perf_counter)
    engine = LLMEngine(loaded.model, loaded.tokenizer, config)
    for name in ADAPTERS:
        engine.load_adapter(name, Path("adapters") / name)
    engine.warm_up()
    rng = random.Random(0)
    for i in range(32):
        prompt = tuple(rng.randint(100, 40_000) for _ in range(rng.randint(30, 600)))
        params = SamplingParams.greedy(max_new_tokens=200, ignore_eos=True)
        engine.add_request(GenerationRequest(prompt, params, adapter=ADAPTERS[i % 3], request_id=f"r{i}"))
    for _ in range(45):  # every prefill done (chunked), all 32 decoding
        engine.step()
    start = time.perf_counter()
    for _ in range(10):
        engine.step()
    print(f"{args.dtype} batch-32 decode step ms {(time.perf_counter() - start) / 10 * 1e3:.1f}")
    if args.profile:
        from torch.profiler import profile

        with profile() as prof:
            for _ in range(5):
                engine.step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=22))


if __name__ == "__main__":
    main()
