"""Engine metrics: per-step batch/queue/KV gauges, throughput, and per-request TTFT/TPOT by adapter."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


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
    """Written by the step loop, read from any thread (snapshot / Prometheus text)."""

    def __init__(self, window: int = 256) -> None:
        self._lock = threading.Lock()
        self._totals = _Totals()
        self._adapters: dict[str, _AdapterStats] = {}
        self._recent: deque[tuple[float, int]] = deque(maxlen=window)  # (seconds, generated tokens)
        self.registry = CollectorRegistry()
        r = self.registry
        self._batch = Gauge("switchboard_engine_batch_size", "Sequences in the last step's batch", registry=r)
        self._queue = Gauge("switchboard_engine_queue_length", "Requests waiting for admission", registry=r)
        self._kv_used = Gauge("switchboard_engine_kv_blocks_used", "KV blocks in use", registry=r)
        self._kv_total = Gauge("switchboard_engine_kv_blocks_total", "KV blocks in the pool", registry=r)
        self._tps = Gauge("switchboard_engine_tokens_per_second", "Generated tokens/s lately", registry=r)
        self._gen = Counter(
            "switchboard_engine_generated_tokens", "Generated tokens", ["adapter"], registry=r
        )
        self._reqs = Counter(
            "switchboard_engine_requests", "Finished requests", ["adapter", "reason"], registry=r
        )
        self._preempt = Counter("switchboard_engine_preemptions", "Requests preempted", registry=r)
        self._prefix_q = Gauge(
            "switchboard_engine_prefix_cache_queries", "Full prompt blocks looked up", registry=r
        )
        self._prefix_h = Gauge(
            "switchboard_engine_prefix_cache_hits", "Prompt blocks reused from the cache", registry=r
        )
        self._ttft = Histogram(
            "switchboard_engine_ttft_seconds", "Time to first token", ["adapter"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self._tpot = Histogram(
            "switchboard_engine_tpot_seconds", "Time per output token after the first", ["adapter"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )

    def record_step(
        self, *, batch_size: int, queue_length: int, kv_used: int, kv_total: int,
        tokens_computed: int, tokens_generated: int, seconds: float,
    ) -> None:
        """One engine step happened."""
        with self._lock:
            t = self._totals
            t.steps += 1
            t.tokens_computed += tokens_computed
            t.tokens_generated += tokens_generated
            t.busy_seconds += seconds
            t.last = {
                "batch_size": batch_size, "queue_length": queue_length, "kv_blocks_used": kv_used,
                "kv_blocks_total": kv_total, "step_seconds": seconds,
            }
            self._recent.append((seconds, tokens_generated))
            tps = self._recent_tps()
        self._batch.set(batch_size)
        self._queue.set(queue_length)
        self._kv_used.set(kv_used)
        self._kv_total.set(kv_total)
        self._tps.set(tps)

    def _recent_tps(self) -> float:
        secs = sum(s for s, _ in self._recent)
        return sum(n for _, n in self._recent) / secs if secs > 0 else 0.0

    def record_prefix_cache(self, queries: int, hits: int) -> None:
        """Cumulative prefix-cache lookups and hits (in blocks)."""
        with self._lock:
            self._totals.last["prefix_cache_queries"] = queries
            self._totals.last["prefix_cache_hits"] = hits
        self._prefix_q.set(queries)
        self._prefix_h.set(hits)

    def record_preemption(self) -> None:
        """A running request gave back its KV blocks to be recomputed later."""
        with self._lock:
            self._totals.preemptions += 1
        self._preempt.inc()

    def record_first_token(self, adapter: str | None, ttft: float) -> None:
        """A request produced its first token ``ttft`` seconds after arrival."""
        label = adapter or "base"
        with self._lock:
            s = self._adapters.setdefault(label, _AdapterStats())
            s.ttft_sum += ttft
            s.ttft_count += 1
        self._ttft.labels(label).observe(ttft)

    def record_finish(
        self, adapter: str | None, reason: str, completion_tokens: int, decode_seconds: float | None
    ) -> None:
        """A request ended; ``decode_seconds`` is the time from its first to its last token."""
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
        self._reqs.labels(label, reason).inc()
        self._gen.labels(label).inc(completion_tokens)
        if tpot is not None:
            self._tpot.labels(label).observe(tpot)

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
