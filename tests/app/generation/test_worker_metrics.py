"""A worker's /metrics over HTTP: the engine's vLLM-named series after a job, and the worker's own."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.generation.redis_backend import RedisBackend
from app.generation.worker import Worker, WorkerConfig
from app.generation.worker_metrics import MetricsServer
from tests.app.chat_support import make_adapters, make_engine
from tests.app.scaleout_support import collect, job


@pytest.fixture()
async def backend(redis_url: str) -> AsyncIterator[RedisBackend]:
    be = RedisBackend(redis_url, block_ms=200)
    await be.start()
    yield be
    await be.stop()


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers["content-type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def _sample(families: dict[str, Any], family: str, sample: str, **labels: str) -> float:
    return sum(
        s.value
        for s in families[family].samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_a_worker_serves_vllm_named_metrics_over_http(
    tokenizer: Any, redis_url: str, backend: RedisBackend, tmp_path: Any
) -> None:
    engine = make_engine(tokenizer, make_adapters(tmp_path))
    worker = Worker(engine, WorkerConfig(redis_url, consumer="metrics", heartbeat_s=0.1, metrics_port=0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):  # until it listens
            if worker.metrics_server is not None and worker.metrics_server.port:
                break
            await asyncio.sleep(0.05)
        assert worker.metrics_server is not None
        base = f"http://127.0.0.1:{worker.metrics_server.port}"
        first, second = job(5, adapter="sales"), job(3)
        await backend.submit(first)
        await backend.submit(second)
        assert (await collect(backend, first.job_id))[-1].completion_tokens == 5
        assert (await collect(backend, second.job_id))[-1].completion_tokens == 3
        status, kind, text = await asyncio.to_thread(_get, f"{base}/metrics")
        assert status == 200 and kind.startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        model = {"model_name": "model"}
        for name in (
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:time_to_first_token_seconds",
            "vllm:time_per_output_token_seconds",
            "vllm:request_queue_time_seconds",
            "vllm:e2e_request_latency_seconds",
        ):
            assert name in families and all(s.labels["model_name"] == "model" for s in families[name].samples)
        gen = "vllm:generation_tokens_total"
        assert _sample(families, "vllm:generation_tokens", gen, adapter="sales", **model) == 5
        assert _sample(families, "vllm:generation_tokens", gen, adapter="base", **model) == 3
        assert _sample(families, "vllm:prompt_tokens", "vllm:prompt_tokens_total", **model) > 0
        e2e = "vllm:e2e_request_latency_seconds_count"
        assert _sample(families, "vllm:e2e_request_latency_seconds", e2e, adapter="sales") == 1
        assert families["vllm:prefix_cache_queries"].type == "counter"  # totals, never gauges
        jobs = "switchboard_worker_jobs"
        assert _sample(families, jobs, f"{jobs}_total", outcome="finished") == 2
        assert _sample(families, "switchboard_worker_jobs_running", "switchboard_worker_jobs_running") == 0
        assert (await asyncio.to_thread(_get, f"{base}/"))[0] == 404
    finally:
        stop.set()
        await task
    with pytest.raises(urllib.error.URLError):  # a stopped worker stops listening
        await asyncio.to_thread(_get, f"{base}/metrics")


async def test_the_metrics_server_refuses_what_is_not_a_scrape() -> None:
    server = MetricsServer(lambda: "x 1\n", "127.0.0.1", 0)
    port = await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"404" in (await reader.read()).split(b"\r\n", 1)[0]
        writer.close()
        status, _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics?x=1")
        assert status == 200 and body == "x 1\n"
    finally:
        await server.stop()
