"""The baselines the engine is measured against: HF generate one request at a time with its
adapter merged, and PEFT mixed-adapter static batches. Both replay the trace's arrivals against
the wall clock."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from inference.bench.report import RequestTiming, SystemResult
from inference.bench.trace import TraceRequest


class TraceClock:
    """Seconds since the replay started; waits until a request's arrival time."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def now(self) -> float:
        """Seconds since the replay started."""
        return time.perf_counter() - self.start

    def wait_until(self, t: float) -> None:
        """Sleep until trace time ``t`` (returns at once if it has passed)."""
        delay = t - self.now()
        if delay > 0:
            time.sleep(delay)


class StepTimes:
    """A ``generate`` streamer that only notes when each decoding step's tokens came out."""

    def __init__(self, clock: TraceClock) -> None:
        self.clock = clock
        self.times: list[float] = []
        self._seen_prompt = False

    def put(self, value: torch.Tensor) -> None:
        """Called by generate: first with the prompt, then once per new token (per batch)."""
        if not self._seen_prompt:
            self._seen_prompt = True
            return
        self.times.append(self.clock.now())

    def end(self) -> None:
        """Called by generate when it finishes."""


def load_peft_adapters(model: torch.nn.Module, adapters: dict[str, Path]) -> Any:
    """Wrap ``model`` in a PeftModel holding every adapter (this injects LoRA layers into it)."""
    from peft import PeftModel

    names = list(adapters)
    peft_model = PeftModel.from_pretrained(model, str(adapters[names[0]]), adapter_name=names[0])
    for name in names[1:]:
        peft_model.load_adapter(str(adapters[name]), adapter_name=name)
    return peft_model.eval()


def _generate(
    model: Any,
    prompts: list[tuple[int, ...]],
    new_tokens: int,
    pad_id: int,
    streamer: StepTimes,
    **kwargs: Any,
) -> None:
    width = max(len(p) for p in prompts)
    device = next(model.parameters()).device
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):  # left padding: every row's last prompt token lines up
        ids[row, width - len(p) :] = torch.tensor(p)
        mask[row, width - len(p) :] = 1
    with torch.inference_mode():
        model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            do_sample=False,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,  # EOS is ignored, as in the trace
            pad_token_id=pad_id,
            streamer=streamer,
            **kwargs,
        )


def _timings(batch: list[TraceRequest], times: list[float]) -> list[RequestTiming]:
    longest = max(r.max_new_tokens for r in batch)
    if len(times) < longest:
        raise RuntimeError(f"generate stopped after {len(times)} steps, {longest} were requested")
    # A request's answer is complete at its own last token, even if its batch runs on.
    return [
        RequestTiming(
            index=r.index,
            adapter=r.adapter,
            arrival_s=r.arrival_s,
            first_token_s=times[0],
            finish_s=times[r.max_new_tokens - 1],
            prompt_tokens=len(r.prompt_ids),
            output_tokens=r.max_new_tokens,
            requested_tokens=r.max_new_tokens,
        )
        for r in batch
    ]


def merged_models(model: torch.nn.Module, adapters: dict[str, Path], names: set[str]) -> dict[str, Any]:
    """One copy of the base model per adapter in ``names`` with that adapter merged into its weights.

    Serving one request at a time, a user would merge (merge_and_unload): unmerged PEFT pays the
    LoRA matmuls on every token for nothing. Call this before PEFT injects layers into ``model``.
    """
    from peft import PeftModel

    merged = {}
    for name in sorted(names):
        copy_ = copy.deepcopy(model)
        merged[name] = PeftModel.from_pretrained(copy_, str(adapters[name])).merge_and_unload().eval()
    return merged


def run_hf_sequential(
    models: dict[str, Any],
    trace: list[TraceRequest],
    pad_id: int,
    note: str = "",
    progress: Callable[[str], None] | None = None,
) -> SystemResult:
    """Baseline (a): one request at a time, in arrival order, on its adapter's merged model."""
    clock = TraceClock()
    timings: list[RequestTiming] = []
    for r in trace:
        clock.wait_until(r.arrival_s)
        steps = StepTimes(clock)
        _generate(models[r.adapter], [r.prompt_ids], r.max_new_tokens, pad_id, steps)
        timings.extend(_timings([r], steps.times))
        if progress:
            progress(f"hf_sequential {len(timings)}/{len(trace)}")
    return SystemResult("hf_sequential", timings, note=note)


def run_peft_static_batches(
    peft_model: Any,
    trace: list[TraceRequest],
    pad_id: int,
    batch_size: int = 32,
    progress: Callable[[str], None] | None = None,
) -> SystemResult:
    """Baseline (c): batches of ``batch_size`` in arrival order, adapters mixed per row.

    A batch starts once all its requests have arrived (the last batch when the trace ends) and
    the previous batch is done; it runs until its longest answer is complete.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    clock = TraceClock()
    timings: list[RequestTiming] = []
    for lo in range(0, len(trace), batch_size):
        batch = trace[lo : lo + batch_size]
        clock.wait_until(batch[-1].arrival_s)
        steps = StepTimes(clock)
        _generate(
            peft_model,
            [r.prompt_ids for r in batch],
            max(r.max_new_tokens for r in batch),
            pad_id,
            steps,
            adapter_names=[r.adapter for r in batch],
        )
        timings.extend(_timings(batch, steps.times))
        if progress:
            progress(f"peft_static_batch {len(timings)}/{len(trace)}")
    return SystemResult("peft_static_batch", timings, extra={"batch_size": batch_size})
