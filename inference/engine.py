"""LLMEngine: the synchronous step core (AsyncEngine, in async_engine.py, runs it in a thread)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inference.beam_search import BeamSearch
from inference.copy_bias import CopyBiasConfig, copy_bias_for
from inference.decode_graphs import DecodeGraphs
from inference.detokenizer import IncrementalDetokenizer
from inference.forced_opening import forced_opening_for
from inference.kv_cache import KVBlockPool, blocks_for_budget
from inference.lora import LoraAdapter, LoraRegistry
from inference.metrics import EngineMetrics
from inference.model_runner import ATTENTION_BACKENDS, BatchItem, ModelRunner, kv_shape, model_device
from inference.number_guard import guard_for
from inference.opening_ban import opening_ban_for
from inference.outputs import OutputProcessor
from inference.policies.base import get_policy
from inference.request import FinishReason, GenerationRequest, TokenEvent
from inference.sampler import make_generator
from inference.scheduler import ScheduledSeq, Scheduler, prefix_key
from inference.sequence import RequestState, Sequence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    """Engine limits; the KV budget is in tokens or bytes (default 16k tokens)."""

    max_batch_size: int = 64
    max_tokens_per_step: int = 512
    kv_budget_tokens: int | None = None
    kv_budget_bytes: int | None = None
    block_size: int = 16
    policy: str = "continuous"
    policy_options: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    model_name: str = "model"  # the ``model_name`` label of every metric (vLLM's served model name)
    # How strongly a request's ``copy_from`` facts pull its reply (strength 0 turns it off).
    copy_bias: CopyBiasConfig = field(default_factory=CopyBiasConfig)
    # Decode attention: 'auto' = paged flex_attention on CUDA, the compiled paged kernel on a CPU
    # that builds it (inference/cpu_decode_kernel.py), else length-bucketed SDPA.
    attention: str = "auto"
    # Decode-only steps as padded static batches, captured as CUDA graphs (None = on exactly
    # when the device is CUDA and attention is flex; True on CPU runs them uncaptured, for tests).
    decode_graphs: bool | None = None
    # Steps of at most 4 tokens through the compiled few-row CPU matmul (inference/cpu_small_gemm.py)
    # where this CPU has one for the weights' dtype; False keeps torch's matmul everywhere.
    small_gemm: bool = True

    def __post_init__(self) -> None:
        for name in ("max_batch_size", "max_tokens_per_step", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"EngineConfig.{name} must be a positive integer, got {value!r}")
        if self.attention not in ATTENTION_BACKENDS:
            raise ValueError(
                f"EngineConfig.attention must be one of {ATTENTION_BACKENDS}, got {self.attention!r}"
            )
        if self.kv_budget_tokens is not None and self.kv_budget_bytes is not None:
            raise ValueError("EngineConfig: give kv_budget_tokens or kv_budget_bytes, not both")
        if self.kv_budget_tokens is None and self.kv_budget_bytes is None:
            # 16k tokens: SmolLM2-135M needs 45 KiB/token in fp32, so about 0.7 GiB of cache.
            object.__setattr__(self, "kv_budget_tokens", 16384)


class LLMEngine:
    """Continuous batching over one model with per-request LoRA adapters; call ``step`` in a loop."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: EngineConfig | None = None) -> None:
        self.config = config = config or EngineConfig()
        self.model = model.eval()
        self.tokenizer = tokenizer
        shape = kv_shape(model)
        blocks = blocks_for_budget(shape, config.block_size, config.kv_budget_tokens, config.kv_budget_bytes)
        self.device = model_device(model)
        self.pool = KVBlockPool(shape, blocks, config.block_size, self.device)
        self.runner = ModelRunner(
            model, self.pool, config.attention, config.max_batch_size, small_gemm=config.small_gemm
        )
        graphs = config.decode_graphs
        if graphs is None:
            graphs = self.device.type == "cuda" and self.runner.attention == "flex"
        if graphs:
            self.runner.graphs = DecodeGraphs(self.runner, capture=self.device.type == "cuda")
        self.adapters = LoraRegistry(model)
        self.scheduler = Scheduler(
            self.pool, get_policy(config.policy, **config.policy_options), config.max_batch_size,
            config.max_tokens_per_step, config.clock,
        )
        self._metrics = EngineMetrics(model_name=config.model_name)
        self._states: dict[str, RequestState] = {}
        self._pending: list[TokenEvent] = []
        self._outputs = OutputProcessor(self)
        self.last_step_tokens = 0  # tokens the last step computed (0: nothing could run)
        self.max_positions = int(getattr(model.config, "max_position_embeddings", 1 << 30))
        self.eos_ids = _eos_ids(model, tokenizer)

    # -- adapters ---------------------------------------------------------------------------------
    def load_adapter(self, name: str, path: str | Path) -> LoraAdapter:
        """Load or replace a PEFT LoRA adapter; running requests keep the weights they started with."""
        return self.adapters.load(name, path)

    def warm_up(self) -> None:
        """Compile the attention kernels and capture the decode graphs now, for the adapters loaded
        so far, so that none of it happens inside a request's step (benchmarks call this)."""
        self.runner.warm_up()
        if self.runner.graphs is not None:
            self.runner.graphs.warm_up([self.adapters.get(n) for n in self.adapters.names()])

    def unload_adapter(self, name: str) -> None:
        """Forget an adapter; new requests naming it get UnknownAdapterError."""
        self.adapters.unload(name)

    # -- requests ---------------------------------------------------------------------------------
    def add_request(self, request: GenerationRequest) -> None:
        """Queue a request; raises UnknownAdapterError / ValueError on bad input, never later."""
        if request.request_id in self._states:
            raise ValueError(f"request_id {request.request_id!r} is already in the engine")
        adapter = self.adapters.get(request.adapter)
        params = request.params
        if len(request.prompt_ids) + params.max_new_tokens > self.max_positions:
            raise ValueError(
                f"prompt ({len(request.prompt_ids)} tokens) + max_new_tokens ({params.max_new_tokens}) "
                f"exceeds the model's {self.max_positions} positions"
            )
        if request.arrival_time is None:
            request = dataclasses.replace(request, arrival_time=self.config.clock())
        prompt = list(request.prompt_ids)
        beam = BeamSearch(params, self.eos_ids, len(prompt)) if params.num_beams > 1 else None
        guard = None
        if request.allowed_values is not None:
            vocab = int(getattr(self.model.config, "vocab_size", 0)) or None
            guard = guard_for(self.tokenizer, request.allowed_values, self.eos_ids, vocab)
        state = RequestState(
            request=request,
            adapter=adapter,
            seqs=[Sequence(token_ids=prompt, prompt_len=len(prompt))],
            detokenizer=IncrementalDetokenizer(self.tokenizer, params.stop),
            generator=make_generator(params.seed, self.device) if params.do_sample else None,
            beam=beam,
            guard=guard,
            copy=copy_bias_for(self.tokenizer, request.copy_from, self.config.copy_bias),
            opening=opening_ban_for(self.tokenizer, request.banned_openings),
            forced=forced_opening_for(
                self.tokenizer, request.forced_opening, self._end_id() if request.end_after_opening else None
            ),
        )
        self._states[request.request_id] = state
        self.scheduler.add(state)

    def _end_id(self) -> int | None:
        """The end-of-sequence id a forced reply ends with: the tokenizer's own if it is one of the
        model's EOS ids, else the lowest of them."""
        own = getattr(self.tokenizer, "eos_token_id", None)
        if own in self.eos_ids:
            return int(own)
        return min(self.eos_ids) if self.eos_ids else None

    def abort(self, request_id: str) -> bool:
        """Cancel a request now, freeing its KV blocks; it gets a final 'cancelled' event."""
        state = self._states.get(request_id)
        if state is None:
            return False
        self.finish_request(state, "cancelled", (), "", None)
        return True

    def abort_all(self) -> None:
        """Cancel every request in the engine; each gets a final 'cancelled' event."""
        for request_id in list(self._states):
            self.abort(request_id)

    def fail_all(self, error: str) -> list[TokenEvent]:
        """Fail every request (e.g. after a step raised) and return the events not yet returned."""
        self.abort_all()
        events, self._pending = self._pending, []
        return [dataclasses.replace(e, finish_reason="error", error=error) for e in events]

    def has_unfinished(self) -> bool:
        """Whether any request is queued, running, or has an event not yet returned."""
        return bool(self._states) or bool(self._pending)

    def metrics(self) -> dict[str, Any]:
        """Plain-data metrics snapshot, including prefix-cache counters."""
        snap = self._metrics.snapshot()
        snap["prefix_cache"] = {"queries": self.pool.prefix_queries, "hits": self.pool.prefix_hits}
        return snap

    def to_prometheus(self) -> str:
        """Prometheus text exposition of this engine's metrics (for the app's /metrics)."""
        return self._metrics.to_prometheus()

    # -- the step ---------------------------------------------------------------------------------
    def step(self) -> list[TokenEvent]:
        """Run one iteration: schedule, one batched forward, sample, and return the new events."""
        started = time.perf_counter()
        plan = self.scheduler.schedule()
        for state in plan.too_large:
            self.finish_request(state, "error", (), "", "prompt does not fit in the KV cache budget")
        for _ in plan.preempted:
            self._metrics.record_preemption()
        generated = 0
        self.last_step_tokens = sum(s.end - s.start for s in plan.items)
        if plan.items:
            generated = self._run(plan.items)
        seconds = time.perf_counter() - started
        self.scheduler.last_step_seconds = seconds
        self._metrics.record_step(
            batch_size=len(plan.items), queue_length=len(self.scheduler.waiting),
            kv_used=self.pool.num_used, kv_total=self.pool.num_blocks,
            tokens_computed=sum(s.end - s.start for s in plan.items), tokens_generated=generated,
            seconds=seconds, running=len(self.scheduler.running),
        )
        self._metrics.record_prefix_cache(self.pool.prefix_queries, self.pool.prefix_hits)
        events, self._pending = self._pending, []
        return events

    def _run(self, items: list[ScheduledSeq]) -> int:
        batch = [
            BatchItem(
                s.seq.token_ids[s.start : s.end], s.start, s.seq.block_table, s.state.adapter, s.samples
            )
            for s in items
        ]
        try:
            logits = self.runner.forward(batch)
        except Exception as exc:  # a failing forward must not take the engine down with it
            log.exception("forward failed")
            for state in {id(s.state): s.state for s in items}.values():
                self.finish_request(state, "error", (), "", f"forward failed: {exc}")
            return 0
        for s in items:
            s.seq.num_computed = s.end
        for s in items:
            self.pool.register_full_blocks(s.seq, prefix_key(s.state))
        return self._outputs.process([s for s in items if s.samples], logits)

    # -- what the output processor reports back ----------------------------------------------------
    def finish_request(
        self, state: RequestState, reason: FinishReason, token_ids: tuple[int, ...], text: str,
        error: str | None,
    ) -> None:
        """End a request: free its blocks, record it, and queue its final event (idempotent)."""
        if self._states.pop(state.request_id, None) is None:
            return  # already finished (e.g. aborted during the step that failed it)
        self.scheduler.remove(state)
        now = self.config.clock()
        decode = now - state.first_token_time if state.first_token_time is not None else None
        completion = state.num_generated if state.beam is None else len(token_ids)
        scheduled = state.first_scheduled_time
        self._metrics.record_finish(
            state.request.adapter, reason, completion, decode,
            prompt_tokens=state.prompt_len,
            queue_seconds=scheduled - state.arrival_time if scheduled is not None else None,
            e2e_seconds=now - state.arrival_time,
        )  # fmt: skip
        self.emit_event(state, token_ids, text, reason, error)

    def emit_event(
        self, state: RequestState, token_ids: tuple[int, ...], text: str,
        reason: FinishReason | None = None, error: str | None = None,
    ) -> None:
        """Queue the request's next event; ``step`` returns it."""
        completion = state.num_generated if state.beam is None else len(token_ids)
        self._pending.append(TokenEvent(
            request_id=state.request_id, index=state.events_sent, token_ids=token_ids, text=text,
            finished=reason is not None, finish_reason=reason, error=error,
            prompt_tokens=state.prompt_len, completion_tokens=completion,
        ))
        state.events_sent += 1

    def record_first_token(self, state: RequestState) -> None:
        """Note the time of the request's first token (once) for the TTFT metric."""
        if state.first_token_time is None:
            state.first_token_time = now = self.config.clock()
            self._metrics.record_first_token(state.request.adapter, now - state.arrival_time)


def _eos_ids(model: torch.nn.Module, tokenizer: Any) -> list[int]:
    """Token ids that end a request: the generation config's EOS ids plus the tokenizer's."""
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None)
    ids = [*(eos if isinstance(eos, list) else [eos]), getattr(tokenizer, "eos_token_id", None)]
    return sorted({int(e) for e in ids if e is not None})
