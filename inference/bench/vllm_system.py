"""vLLM's CPU build as a bench system: the same trace, adapters and threads, in its own venv.

The venv comes from scripts/setup_vllm.sh (``$SWITCHBOARD_VLLM_VENV``, default
~/.cache/switchboard/vllm-venv). vLLM runs in a subprocess (vllm_worker.py) so its torch and
transformers never meet the project's; where the venv is missing the system is skipped with a
line saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path

from inference.bench.report import RequestTiming, SystemResult
from inference.bench.trace import TraceRequest

WORKER = Path(__file__).with_name("vllm_worker.py")


def vllm_python() -> Path:
    """The vLLM venv's interpreter (it may not exist)."""
    venv = os.environ.get("SWITCHBOARD_VLLM_VENV") or str(Path.home() / ".cache/switchboard/vllm-venv")
    return Path(venv) / "bin" / "python"


def vllm_unavailable(model_dir: Path | None) -> str | None:
    """Why vLLM cannot run in this bench (None when it can)."""
    if model_dir is None:
        return "vllm skipped: it needs a model folder (real weights), not a --dummy shape"
    if not vllm_python().is_file():
        return f"vllm skipped: no vLLM venv at {vllm_python().parent.parent} (run scripts/setup_vllm.sh)"
    return None


def run_vllm(
    model_dir: Path, adapters: dict[str, Path], trace: list[TraceRequest], threads: int, dtype: str,
    max_batch_size: int, max_tokens_per_step: int, timeout_s: float = 1800.0,
) -> SystemResult:
    """Replay ``trace`` through vLLM (same arrivals, adapters, greedy, EOS ignored)."""
    job = {
        "model_dir": str(model_dir),
        "adapters": {name: str(Path(path).resolve()) for name, path in adapters.items()},
        "trace": [asdict(r) for r in trace],
        "dtype": dtype,
        "max_num_seqs": max_batch_size,
        "max_num_batched_tokens": max_tokens_per_step,
        "max_lora_rank": 16,
    }
    threads = max(1, threads)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the project's packages are not for the vLLM venv
    env.update(
        OMP_NUM_THREADS=str(threads),
        # vLLM's CPU backend pins its OpenMP threads; the same cores and count as the engine's.
        VLLM_CPU_OMP_THREADS_BIND="0" if threads == 1 else f"0-{threads - 1}",
        VLLM_CPU_KVCACHE_SPACE=env.get("VLLM_CPU_KVCACHE_SPACE", "2"),
    )
    with tempfile.TemporaryDirectory(prefix="sb-vllm-") as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_path.write_text(json.dumps(job))
        done = subprocess.run(
            [str(vllm_python()), str(WORKER), str(job_path), str(result_path)],
            env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
        )
        if done.returncode != 0 or not result_path.is_file():
            tail = (done.stderr or done.stdout)[-2000:]
            raise RuntimeError(f"vLLM worker failed (exit {done.returncode}):\n{tail}")
        result = json.loads(result_path.read_text())
    timings = []
    for r in trace:
        t = result["timings"][str(r.index)]
        timings.append(RequestTiming(
            index=r.index, adapter=r.adapter, arrival_s=r.arrival_s, first_token_s=t["first_token_s"],
            finish_s=t["finish_s"], prompt_tokens=len(r.prompt_ids), output_tokens=t["output_tokens"],
            requested_tokens=r.max_new_tokens,
        ))
    note = f"vLLM {result['vllm_version']} CPU build, LoRA via enable_lora, {threads} threads"
    return SystemResult("vllm", timings, note=note)
