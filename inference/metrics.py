"""Engine metrics: running/waiting/KV gauges, token counters, per-request latency histograms (vLLM names)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_E2E_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)


@dataclass
class _AdapterStats:
    requests: int = 0
    completion_tokens: int = 0
    ttft_sum: float = 0.0
    ttft_count: int = 0
    tpot_sum: float = 0.0
    tpot_count: int = 0


@dataclass
class _Totals:
    steps: int = 0
    tokens_computed: int = 0
    tokens_generated: int = 0
    busy_seconds: float = 0.0
    preemptions: int = 0
    last: dict[str, float] = field(default_factory=dict)


class EngineMetrics:
    """Written by the step loop, read from any thread (snapshot / Prometheus text).

    Prometheus names and labels follow vLLM's (``vllm:num_requests_running``,
    ``vllm:time_to_first_token_seconds``, ...), so dashboards built for vLLM read this engine too;
    every series carries ``model_name``, per-request ones also ``adapter`` ("base" for none).
    What vLLM has no name for keeps a ``switchboard_engine_`` name.
    """

    def __init__(self, window: int = 256, model_name: str = "model") -> None:
        self._lock = threading.Lock()
        self._totals = _Totals()
        self._adapters: dict[str, _AdapterStats] = {}
        self._recent: deque[tuple[float, int]] = deque(maxlen=window)  # (seconds, generated tokens)
        self._prefix_seen = (0, 0)  # cumulative (queries, hits) already counted
        self.model_name = model_name
        self.registry = CollectorRegistry()
        r, m, ma = self.registry, ["model_name"], ["model_name", "adapter"]
        self._running = Gauge("vllm:num_requests_running", "Requests in the running batch", m, registry=r)
        self._waiting = Gauge("vllm:num_requests_waiting", "Requests waiting for admission", m, registry=r)
        self._kv_usage = Gauge("vllm:kv_cache_usage_perc", "KV blocks in use (0..1)", m, registry=r)
        self._prompt = Counter("vllm:prompt_tokens", "Prompt tokens of finished requests", ma, registry=r)
        self._gen = Counter("vllm:generation_tokens", "Generated tokens of finished requests", ma, registry=r)
        self._success = Counter(
            "vllm:request_success", "Finished requests by reason", [*ma, "finished_reason"], registry=r
        )
        self._preempt = Counter("vllm:num_preemptions", "Requests preempted", m, registry=r)
        self._prefix_q = Counter("vllm:prefix_cache_queries", "Prompt blocks looked up", m, registry=r)
        self._prefix_h = Counter("vllm:prefix_cache_hits", "Prompt blocks found in the cache", m, registry=r)

        def histogram(name: str, doc: str, buckets: tuple[float, ...] = _LATENCY_BUCKETS) -> Histogram:
            return Histogram(name, doc, ma, buckets=buckets, registry=r)

        self._ttft = histogram("vllm:time_to_first_token_seconds", "Arrival to first token")
        self._tpot = histogram("vllm:time_per_output_token_seconds", "Time per output token after the first")
        self._queue = histogram("vllm:request_queue_time_seconds", "Arrival to first scheduled")
        self._e2e = histogram("vllm:e2e_request_latency_seconds", "Arrival to finish", _E2E_BUCKETS)
        self._batch = Gauge("switchboard_engine_batch_size", "Sequences in the last step", m, registry=r)
        self._kv_used = Gauge("switchboard_engine_kv_blocks_used", "KV blocks in use", m, registry=r)
        self._kv_total = Gauge("switchboard_engine_kv_blocks_total", "KV blocks in the pool", m, registry=r)
        self._tps = Gauge("switchboard_engine_tokens_per_second", "Generated tokens/s lately", m, registry=r)

    def record_step(
        self,
        *,
        batch_size: int,
        queue_length: int,
        kv_used: int,
        kv_total: int,
        tokens_computed: int,
        tokens_generated: int,
        seconds: float,
        running: int | None = None,
    ) -> None:
        """One engine step happened (``running``: requests in the batch, default ``batch_size``)."""
        with self._lock:
            t = self._totals
            t.steps += 1
            t.tokens_computed += tokens_computed
            t.tokens_generated += tokens_generated
            t.busy_seconds += seconds
            t.last = {
                "batch_size": batch_size,
                "queue_length": queue_length,
                "kv_blocks_used": kv_used,
                "kv_blocks_total": kv_total,
                "step_seconds": seconds,
            }
            self._recent.append((seconds, tokens_generated))
            tps = self._recent_tps()
        name = self.model_name
        self._batch.labels(name).set(batch_size)
        self._running.labels(name).set(batch_size if running is None else running)
        self._waiting.labels(name).set(queue_length)
        self._kv_used.labels(name).set(kv_used)
        self._kv_total.labels(name).set(kv_total)
        self._kv_usage.labels(name).set(kv_used / kv_total if kv_total else 0.0)
        self._tps.labels(name).set(tps)

    def _recent_tps(self) -> float:
        secs = sum(s for s, _ in self._recent)
        return sum(n for _, n in self._recent) / secs if secs > 0 else 0.0

    def record_prefix_cache(self, queries: int, hits: int) -> None:
        """Cumulative prefix-cache lookups and hits (in blocks); the counters grow by what is new."""
        with self._lock:
            self._totals.last["prefix_cache_queries"] = queries
            self._totals.last["prefix_cache_hits"] = hits
            seen_q, seen_h = self._prefix_seen
            self._prefix_seen = (max(queries, seen_q), max(hits, seen_h))
        self._prefix_q.labels(self.model_name).inc(max(0, queries - seen_q))
        self._prefix_h.labels(self.model_name).inc(max(0, hits - seen_h))

    def record_preemption(self) -> None:
        """A running request gave back its KV blocks to be recomputed later."""
        with self._lock:
            self._totals.preemptions += 1
        self._preempt.labels(self.model_name).inc()

    def record_first_token(self, adapter: str | None, ttft: float) -> None:
        """A request produced its first token ``ttft`` seconds after arrival."""
        label = adapter or "base"
        with self._lock:
            s = self._adapters.setdefault(label, _AdapterStats())
            s.ttft_sum += ttft
            s.ttft_count += 1
        self._ttft.labels(self.model_name, label).observe(ttft)

    def record_finish(
        self,
        adapter: str | None,
        reason: str,
        completion_tokens: int,
        decode_seconds: float | None,
        *,
        prompt_tokens: int = 0,
        queue_seconds: float | None = None,
        e2e_seconds: float | None = None,
    ) -> None:
        """A request ended; ``decode_seconds`` is the time from its first to its last token,
        ``queue_seconds`` from arrival to first scheduled, ``e2e_seconds`` from arrival to now."""
        label = adapter or "base"
        with self._lock:
            s = self._adapters.setdefault(label, _AdapterStats())
            s.requests += 1
            s.completion_tokens += completion_tokens
            tpot = None
            if decode_seconds is not None and completion_tokens > 1:
                tpot = decode_seconds / (completion_tokens - 1)
                s.tpot_sum += tpot
                s.tpot_count += 1
        name = self.model_name
        self._success.labels(name, label, reason).inc()
        self._gen.labels(name, label).inc(completion_tokens)
        self._prompt.labels(name, label).inc(prompt_tokens)
        if tpot is not None:
            self._tpot.labels(name, label).observe(tpot)
        if queue_seconds is not None:
            self._queue.labels(name, label).observe(queue_seconds)
        if e2e_seconds is not None:
            self._e2e.labels(name, label).observe(e2e_seconds)

    def snapshot(self) -> dict[str, Any]:
        """Plain-data view (JSON-serialisable) of everything recorded so far."""
        with self._lock:
            t = self._totals
            adapters = {
                name: {
                    "requests": s.requests,
                    "completion_tokens": s.completion_tokens,
                    "ttft_avg": s.ttft_sum / s.ttft_count if s.ttft_count else None,
                    "tpot_avg": s.tpot_sum / s.tpot_count if s.tpot_count else None,
                }
                for name, s in self._adapters.items()
            }
            ttft_n = sum(s.ttft_count for s in self._adapters.values())
            tpot_n = sum(s.tpot_count for s in self._adapters.values())
            return {
                "steps": t.steps,
                "tokens_computed": t.tokens_computed,
                "tokens_generated": t.tokens_generated,
                "busy_seconds": t.busy_seconds,
                "tokens_per_second": t.tokens_generated / t.busy_seconds if t.busy_seconds else 0.0,
                "recent_tokens_per_second": self._recent_tps(),
                "preemptions": t.preemptions,
                "ttft_avg": sum(s.ttft_sum for s in self._adapters.values()) / ttft_n if ttft_n else None,
                "tpot_avg": sum(s.tpot_sum for s in self._adapters.values()) / tpot_n if tpot_n else None,
                **{k: t.last.get(k, 0) for k in (
                    "batch_size", "queue_length", "kv_blocks_used", "kv_blocks_total", "step_seconds"
                )},
                "adapters": adapters,
            }

    def to_prometheus(self) -> str:
        """Prometheus text exposition of this engine's private registry."""
        return generate_latest(self.registry).decode()
