"""`python3 -m inference.bench.engine_main`: the engine bench with no app installed.

`switchboard bench engine` needs the app's settings (pydantic-settings, typer, ...). A machine that
holds only torch, transformers and peft — the lent GPU machine, which cannot install anything —
runs the same benchmark through this entry point, naming every path on the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.bench.engine_bench import SYSTEMS, EngineBenchConfig, run_benchmark
from inference.bench.trace import TraceSpec
from inference.model_runner import ATTENTION_BACKENDS


def parse_args(argv: list[str] | None = None) -> EngineBenchConfig:
    """The benchmark config from command-line options (ValueError on a bad combination)."""
    p = argparse.ArgumentParser(prog="python3 -m inference.bench.engine_main", description=__doc__)
    p.add_argument("--dummy", help="random weights of a shape (inference.loading.dummy.SHAPES)")
    p.add_argument("--model-dir", type=Path, help="real weights instead of --dummy")
    p.add_argument("--tokenizer-dir", type=Path, help="tokenizer folder (default: --model-dir)")
    p.add_argument("--adapters-dir", type=Path, help="trained adapters (real weights only)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16")
    p.add_argument("--requests", type=int, default=32)
    p.add_argument("--rate", type=float, default=2.0, help="mean arrivals per second")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sequential", type=int, default=16, help="merged HF one-at-a-time sample (0 = all)")
    p.add_argument("--static-batch", type=int, default=32)
    p.add_argument("--max-batch", type=int, default=64)
    p.add_argument("--step-tokens", type=int, default=512)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--attention", default="auto", choices=ATTENTION_BACKENDS)
    p.add_argument("--decode-graphs", default="auto", choices=("auto", "on", "off"))
    p.add_argument("--no-small-gemm", action="store_true", help="keep torch's matmul at small batches")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--systems", default=",".join(s for s in SYSTEMS if s != "vllm"))
    p.add_argument("--out", type=Path, default=Path("bench-results/engine"))
    a = p.parse_args(argv)
    return EngineBenchConfig(
        model_dir=a.model_dir, dummy=a.dummy, tokenizer_dir=a.tokenizer_dir or a.model_dir,
        adapters_dir=a.adapters_dir, device=a.device, dtype=a.dtype,
        trace=TraceSpec(num_requests=a.requests, rate=a.rate, seed=a.seed),
        sequential_requests=a.sequential, static_batch_size=a.static_batch, max_batch_size=a.max_batch,
        max_tokens_per_step=a.step_tokens, out_dir=a.out, threads=a.threads,
        systems=tuple(s.strip() for s in a.systems.split(",") if s.strip()), block_size=a.block_size,
        attention=a.attention, decode_graphs={"auto": None, "on": True, "off": False}[a.decode_graphs],
        small_gemm=not a.no_small_gemm,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 2 on a bad option."""
    try:
        cfg = parse_args(argv)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - a CLI's own error line
        return 2
    run_benchmark(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
