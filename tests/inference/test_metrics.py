"""EngineMetrics: recorded figures come back in snapshot() and in the Prometheus exposition."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inference.engine import EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from inference.metrics import EngineMetrics
from inference.params import SamplingParams
from inference.request import GenerationRequest


def test_snapshot_aggregates_per_adapter() -> None:
    m = EngineMetrics()
    m.record_step(batch_size=3, queue_length=2, kv_used=5, kv_total=10, tokens_computed=30,
                  tokens_generated=3, seconds=0.5)
    m.record_step(batch_size=4, queue_length=0, kv_used=6, kv_total=10, tokens_computed=4,
                  tokens_generated=4, seconds=0.5)
    m.record_first_token("sales", 0.2)
    m.record_first_token(None, 0.4)
    m.record_finish("sales", "stop", completion_tokens=5, decode_seconds=0.8)
    m.record_finish(None, "length", completion_tokens=1, decode_seconds=0.0)
    snap = m.snapshot()
    json.dumps(snap)  # plain data only
    assert snap["steps"] == 2 and snap["tokens_generated"] == 7
    assert snap["tokens_per_second"] == pytest.approx(7.0)
    assert snap["batch_size"] == 4 and snap["queue_length"] == 0 and snap["kv_blocks_used"] == 6
    assert snap["adapters"]["sales"]["tpot_avg"] == pytest.approx(0.2)
    assert snap["adapters"]["base"]["tpot_avg"] is None  # one token has no inter-token time
    assert snap["ttft_avg"] == pytest.approx(0.3)


def test_prometheus_exposition_parses() -> None:
    m = EngineMetrics()
    m.record_step(batch_size=2, queue_length=1, kv_used=3, kv_total=8, tokens_computed=2,
                  tokens_generated=2, seconds=0.1)
    m.record_first_token("tech_support", 0.05)
    m.record_finish("tech_support", "stop", completion_tokens=3, decode_seconds=0.1)
    families = {f.name: f for f in text_string_to_metric_families(m.to_prometheus())}
    assert families["switchboard_engine_batch_size"].samples[0].value == 2
    assert families["switchboard_engine_kv_blocks_total"].samples[0].value == 8
    assert families["vllm:num_requests_waiting"].samples[0].value == 1
    ttft = families["vllm:time_to_first_token_seconds"]
    count = next(s for s in ttft.samples if s.name.endswith("_count"))
    assert count.labels == {"adapter": "tech_support", "model_name": "model"} and count.value == 1
    assert EngineMetrics().to_prometheus() != m.to_prometheus()  # private registry per engine


def test_engine_reports_real_run(tokenizer) -> None:
    ticks = iter(range(1000))
    engine = LLMEngine(
        build_random_llama("tiny", seed=0, initializer_range=0.5), tokenizer,
        EngineConfig(clock=lambda: float(next(ticks)), model_name="tiny-test"),
    )
    for i in range(3):
        engine.add_request(GenerationRequest([5 + i] * (4 + i), SamplingParams.greedy(4), request_id=str(i)))
    while engine.has_unfinished():
        engine.step()
    snap = engine.metrics()
    assert snap["tokens_generated"] == 12 and snap["adapters"]["base"]["requests"] == 3
    assert snap["ttft_avg"] is not None and snap["ttft_avg"] > 0  # deterministic clock ticks
    assert snap["kv_blocks_total"] == engine.pool.num_blocks
    families = {f.name: f for f in text_string_to_metric_families(engine.to_prometheus())}
    assert "vllm:time_per_output_token_seconds" in families

    def value(family: str, sample: str, **labels: str) -> float:
        want = {"model_name": "tiny-test", **labels}
        return next(s.value for s in families[family].samples if s.name == sample and s.labels == want)

    assert value("vllm:prompt_tokens", "vllm:prompt_tokens_total", adapter="base") == 4 + 5 + 6
    assert value("vllm:generation_tokens", "vllm:generation_tokens_total", adapter="base") == 12
    ended = {"adapter": "base", "finished_reason": "length"}
    assert value("vllm:request_success", "vllm:request_success_total", **ended) == 3
    queue = value("vllm:request_queue_time_seconds", "vllm:request_queue_time_seconds_count", adapter="base")
    e2e = value("vllm:e2e_request_latency_seconds", "vllm:e2e_request_latency_seconds_sum", adapter="base")
    assert queue == 3 and e2e > snap["ttft_avg"] * 3  # each ends after its first token
    assert value("vllm:num_requests_running", "vllm:num_requests_running") == 0  # all finished


def test_prefix_cache_lookups_are_counters_that_only_grow() -> None:
    m = EngineMetrics(model_name="m")
    m.record_prefix_cache(queries=4, hits=1)
    m.record_prefix_cache(queries=4, hits=1)  # the engine reports its totals every step
    m.record_prefix_cache(queries=10, hits=7)
    families = {f.name: f for f in text_string_to_metric_families(m.to_prometheus())}
    assert families["vllm:prefix_cache_queries"].type == "counter"
    assert families["vllm:prefix_cache_queries"].samples[0].value == 10
    assert families["vllm:prefix_cache_hits"].samples[0].value == 7
