"""`switchboard bench ...`: each benchmark module contributes one command here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from app.knowledge.cli import bench_retrieval

bench_app = typer.Typer(help="Benchmarks: each compares a technique against its baseline in one run.")
bench_app.command("retrieval")(bench_retrieval)


@contextmanager
def _exit_on(*errors: type[Exception]) -> Iterator[None]:
    """A benchmark's expected failures (bad options, a missing model) end as one red line and exit 1."""
    try:
        yield
    except errors as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc


@bench_app.command("engine")
def engine(
    requests: int = typer.Option(32, min=1, help="Requests in the synthetic chat trace."),
    rate: float = typer.Option(2.0, min=0.001, help="Mean Poisson arrival rate (requests/s)."),
    seed: int = typer.Option(0, help="Trace seed."),
    dummy: str = typer.Option(
        None, help="Random weights of a shape: smollm2-135m, llama-3.2-1b, llama-3-8b, tiny."
    ),
    device: str = typer.Option("cpu", help="cpu, cuda or auto."),
    dtype: str = typer.Option("auto", help="auto, float32, bfloat16 or float16."),
    sequential: int = typer.Option(
        16, min=0, help="Requests merged HF generate runs one at a time (stratified sample; 0 = all)."
    ),
    static_batch: int = typer.Option(32, min=1, help="Batch size of the PEFT static-batch baseline."),
    max_batch: int = typer.Option(64, min=1, help="Engine max running sequences."),
    step_tokens: int = typer.Option(512, min=1, help="Engine token budget per step (chunked prefill)."),
    profile_steps: int = typer.Option(0, min=0, help="Also profile this many engine decode steps."),
    threads: int = typer.Option(
        1, min=0, help="torch CPU threads (0 = torch's default; 1 avoids OpenMP stalls on a shared box)."
    ),
    only_engine: bool = typer.Option(False, help="Skip every other system."),
    small_gemm: bool = typer.Option(
        True, help="Steps of at most 4 tokens through the compiled few-row CPU matmul (where built)."
    ),
    systems: str = typer.Option(
        "engine,peft_static_batch,hf_sequential,vllm",
        help="Comma-separated systems; vllm needs scripts/setup_vllm.sh (skipped with a line otherwise).",
    ),
    out: Path = typer.Option(Path("bench-results/engine"), help="Where results.json and the PNG go."),
) -> None:
    """Engine vs PEFT static batches, merged HF one at a time and vLLM CPU on one seeded chat trace."""
    from app.config import settings
    from inference.bench.engine_bench import EngineBenchConfig, run_benchmark
    from inference.bench.trace import TraceSpec
    from inference.loading.loader import ModelLoadError

    with _exit_on(ValueError, ModelLoadError, KeyError):
        cfg = EngineBenchConfig(
            model_dir=None if dummy else settings.model_dir,
            dummy=dummy,
            tokenizer_dir=settings.model_dir,
            adapters_dir=settings.adapters_dir,
            device=device,
            dtype=dtype,
            trace=TraceSpec(num_requests=requests, rate=rate, seed=seed),
            sequential_requests=sequential,
            static_batch_size=static_batch,
            max_batch_size=max_batch,
            max_tokens_per_step=step_tokens,
            out_dir=out,
            systems=("engine",) if only_engine else tuple(s.strip() for s in systems.split(",") if s.strip()),
            profile_steps=profile_steps,
            threads=threads,
            small_gemm=small_gemm,
        )
        run_benchmark(cfg, log=typer.echo)


@bench_app.command("quant")
def quant(
    group_size: int = typer.Option(64, min=1, help="RTN group size (inputs per scale)."),
    decode_tokens: int = typer.Option(24, min=1, help="Tokens generated per speed measurement."),
    repeats: int = typer.Option(3, min=1, help="Interleaved repeats per mode (median kept)."),
    eval_texts: int = typer.Option(32, min=1, help="Held-out chat transcripts for perplexity."),
    agree_prompts: int = typer.Option(16, min=1, help="Prompts whose greedy replies are compared."),
    train_steps: int = typer.Option(30, min=0, help="LoRA steps per adapter for the QA rows (0 skips)."),
    threads: int = typer.Option(1, min=1, help="torch threads (1 is steadiest on a shared CPU)."),
    out: Path = typer.Option(Path("bench-results/quant"), help="Where results.json and results.md go."),
) -> None:
    """Quantization modes on the real model: memory, decode tok/s, perplexity, greedy agreement."""
    from app.config import settings
    from inference.bench.quant_bench import QuantBenchConfig, run_quant_bench
    from inference.loading.loader import ModelLoadError

    with _exit_on(ValueError, ModelLoadError):
        cfg = QuantBenchConfig(
            model_dir=settings.model_dir, data_dir=settings.adapters_dir / "data", out_dir=out,
            group_size=group_size, decode_tokens=decode_tokens, repeats=repeats, eval_texts=eval_texts,
            agree_prompts=agree_prompts, train_steps=train_steps, threads=threads,
        )
        run_quant_bench(cfg, log=typer.echo)


@bench_app.command("policies")
def policies(
    dummy: str = typer.Option("tiny", help="Random-weights shape (tiny, smollm2-135m); none = real model."),
    max_batch: int = typer.Option(8, min=2, help="Engine max running sequences."),
    surge_rate: float = typer.Option(40.0, min=0.001, help="Arrivals/s during the surge."),
    quiet_rate: float = typer.Option(3.0, min=0.001, help="Arrivals/s in the quiet phases."),
    seed: int = typer.Option(0, help="Trace seed."),
    threads: int = typer.Option(1, min=1, help="torch threads."),
    real: bool = typer.Option(
        False, "--real",
        help="Each policy on its own trace against continuous, on the real model (ignores --dummy, "
        "--max-batch and the rates).",
    ),
    dtype: str = typer.Option("auto", help="--real: auto (bf16 where faster here), float32, bfloat16."),
    passes: int = typer.Option(2, min=1, help="--real: passes per scenario, in alternating order."),
    only: str = typer.Option("", help="--real: comma-separated scenario names (default all)."),
    out: Path | None = typer.Option(None, help="Output folder (default bench-results/policies[-real])."),
) -> None:
    """Every batching policy on one seeded bursty trace plus a quiet trace; --real: per-policy scenarios."""
    from app.config import settings
    from inference.bench.policy_bench import BurstSpec, PolicyBenchConfig, run_policy_bench
    from inference.bench.policy_real import RealPolicyBenchConfig, run_real_policy_bench
    from inference.loading.loader import ModelLoadError

    with _exit_on(ValueError, ModelLoadError, KeyError):
        if real:
            names = tuple(n.strip() for n in only.split(",") if n.strip())
            real_cfg = RealPolicyBenchConfig(
                model_dir=settings.model_dir, out_dir=out or Path("bench-results/policies-real"),
                dtype=dtype, threads=threads, passes=passes, seed=seed, only=names,
            )
            run_real_policy_bench(real_cfg, log=typer.echo)
            return
        cfg = PolicyBenchConfig(
            model_dir=settings.model_dir, tokenizer_dir=settings.model_dir,
            out_dir=out or Path("bench-results/policies"),
            dummy=None if dummy == "none" else dummy, max_batch_size=max_batch, threads=threads,
            burst=BurstSpec(surge_rate=surge_rate, quiet_rate=quiet_rate, seed=seed),
        )
        run_policy_bench(cfg, log=typer.echo)


@bench_app.command("start")
def start(
    runs: int = typer.Option(2, min=1, help="Starts to time (the first migrates a fresh SQLite file)."),
    port: int = typer.Option(18500, min=1, max=65535, help="Port the started server listens on."),
    timeout: float = typer.Option(300.0, min=1, help="Give up on a start after this many seconds."),
    out: Path = typer.Option(Path("bench-results/start"), help="Where results.json and results.md go."),
) -> None:
    """Time `scripts/run.sh` to a 200 chat page, a loaded engine (/readyz) and the first reply."""
    from app.loadtest.start_bench import StartSpec, run_start_bench

    with _exit_on(ValueError, RuntimeError):
        run_start_bench(StartSpec(runs=runs, port=port, timeout_s=timeout), out, log=typer.echo)
    typer.echo((out / "results.md").read_text())


@bench_app.command("load")
def load(
    customers: int = typer.Option(200, min=1, help="Concurrent simulated websocket customers."),
    messages: int = typer.Option(3, min=1, help="Messages each customer sends (one after another)."),
    apis: int = typer.Option(2, min=1, help="`switchboard serve` processes (customers round robin)."),
    workers: int = typer.Option(2, min=1, help="`switchboard worker` processes."),
    dummy: str = typer.Option("tiny", help="Workers' random weights; 'none' = configured model."),
    max_new_tokens: int = typer.Option(16, min=1, help="Reply length (greedy policy for every intent)."),
    deadline: float = typer.Option(600.0, min=1, help="Stop the run after this many seconds."),
    pg_admin_url: str = typer.Option(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test", help="Where a fresh database is created."
    ),
    out: Path = typer.Option(Path("bench-results/load"), help="Where results.json and results.md go."),
) -> None:
    """Bounded load: N customers x M messages over API + worker processes; checks Postgres after."""
    from app.loadtest.cluster import ClusterSpec
    from app.loadtest.load_bench import LoadSpec, run_load

    with _exit_on(ValueError, TimeoutError):
        cluster = ClusterSpec(
            apis=apis, workers=workers, dummy=None if dummy == "none" else dummy,
            max_new_tokens=max_new_tokens, pg_admin_url=pg_admin_url,
        )  # fmt: skip
        result = run_load(cluster, LoadSpec(customers, messages, deadline), out, log=typer.echo)
    typer.echo((out / "results.md").read_text())
    if result["result"]["storage_problems"]:
        raise typer.Exit(code=1)


@bench_app.command("guard")
def guard(
    max_new_tokens: int = typer.Option(64, min=1, help="Reply length limit (greedy decoding)."),
    batch: list[int] = typer.Option([1, 8], help="Batch sizes (requests submitted in waves of this size)."),
    repeats: int = typer.Option(2, min=1, help="Repeats; (a) and (c) alternate order across them."),
    threads: int = typer.Option(1, min=1, help="torch threads (1 is steadiest on a shared CPU)."),
    prompts: int = typer.Option(24, min=1, help="Use the first N of the 24 grounded prompts."),
    overhead_from: Path = typer.Option(
        None, help="Only time the guard alone on the replies in this results.json, and rewrite it."
    ),
    out: Path = typer.Option(Path("bench-results/guard"), help="Where results.json and results.md go."),
) -> None:
    """Number guard on the real model: unverified-number rate and latency (none, post-check, decode-time)."""
    from app.config import settings
    from inference.bench.guard_bench import GuardBenchConfig, rewrite_overhead, run_guard_bench
    from inference.loading.loader import ModelLoadError

    if overhead_from is not None:
        rewrite_overhead(overhead_from, settings.model_dir)
        typer.echo((overhead_from.parent / "results.md").read_text())
        return
    with _exit_on(ValueError, ModelLoadError, OSError):
        cfg = GuardBenchConfig(
            model_dir=settings.model_dir,
            adapters_dir=settings.adapters_dir,
            out_dir=out,
            max_new_tokens=max_new_tokens,
            batch_sizes=tuple(batch),
            repeats=repeats,
            threads=threads,
            prompts=prompts,
        )
        run_guard_bench(cfg, log=typer.echo)
    typer.echo((out / "results.md").read_text())


@bench_app.command("chaos")
def chaos(
    customers: int = typer.Option(200, min=1, help="Websocket customers (they reconnect and resume)."),
    apis: int = typer.Option(2, min=2, help="`switchboard serve` processes; one is killed and restarted."),
    workers: int = typer.Option(2, min=1, help="`switchboard worker` processes; one is killed, restarted."),
    dummy: str = typer.Option("tiny", help="Workers' random weights; 'none' = configured model."),
    max_new_tokens: int = typer.Option(16, min=1, help="Reply length (greedy policy for every intent)."),
    gap: float = typer.Option(10.0, min=0, help="Seconds of calm between two faults."),
    pg_cut: float = typer.Option(10.0, min=0, help="Seconds PostgreSQL is cut off (through our TCP proxy)."),
    sweep_min_age: float = typer.Option(10.0, min=0.1, help="Orphan sweep: rows older than this (s)."),
    sweep_interval: float = typer.Option(5.0, min=0.1, help="Orphan sweep: every this many seconds."),
    deadline: float = typer.Option(900.0, min=1, help="Stop the customers after this many seconds."),
    pg_admin_url: str = typer.Option(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test", help="Where a fresh database is created."
    ),
    out: Path = typer.Option(Path("bench-results/chaos"), help="Where results.json and results.md go."),
) -> None:
    """Customers chat while an API node and a worker are killed, Redis restarts and PostgreSQL is cut;
    then every message must be stored once and every reply row final (exit 1 if not)."""
    from app.loadtest.chaos import ChaosSpec, run_chaos
    from app.loadtest.chaos_check import held
    from app.loadtest.cluster import ClusterSpec

    with _exit_on(ValueError, TimeoutError):
        cluster = ClusterSpec(
            apis=apis, workers=workers, dummy=None if dummy == "none" else dummy,
            max_new_tokens=max_new_tokens, pg_admin_url=pg_admin_url, database_via_proxy=True,
            sweep_min_age_s=sweep_min_age, sweep_interval_s=sweep_interval,
        )  # fmt: skip
        spec = ChaosSpec(customers=customers, gap_s=gap, pg_cut_s=pg_cut, deadline_s=deadline)
        result = run_chaos(cluster, spec, out, log=typer.echo)
    typer.echo((out / "results.md").read_text())
    if not held(result["result"]["database"]):
        raise typer.Exit(code=1)
