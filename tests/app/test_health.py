"""/healthz (DB + engine, 503 naming the failure) and /metrics (engine + app, Prometheus text)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db.session import session_factory
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, read_until, settings_for


@pytest.fixture()
def client(pg_url: str, tokenizer: Any, db: Session) -> Iterator[TestClient]:
    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, {}), router=KeywordRouter())
    with TestClient(app) as test_client:
        yield test_client


def test_healthz_ok_with_db_and_engine(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["db"] == "ok" and body["engine"]["backend"] == "embedded"


def test_healthz_503_when_the_database_is_unreachable(client: TestClient) -> None:
    client.app.state.sessions = session_factory("postgresql+psycopg://postgres@127.0.0.1:9/nowhere")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["db"].startswith("database unreachable")
    assert body["engine"]["status"] == "ok"


def test_healthz_503_when_the_engine_is_stopped(client: TestClient) -> None:
    client.portal.call(client.app.state.backend.stop)  # type: ignore[attr-defined]
    response = client.get("/healthz")
    assert response.status_code == 503 and "engine not serving" in response.json()["engine"]["status"]


def test_metrics_expose_engine_and_app_counters(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        ws.send_json({"type": "message", "text": "hello"})
        read_until(ws, "done")
        ws.send_text("nope")
        ws.receive_json()
        open_metrics = client.get("/metrics").text
    assert "switchboard_ws_connections 1.0" in open_metrics
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "switchboard_engine_batch_size",
        'vllm:num_requests_waiting{model_name="model"}',
        'vllm:num_requests_running{model_name="model"}',
        "switchboard_engine_kv_blocks_used",
        "switchboard_engine_tokens_per_second",
        'vllm:time_to_first_token_seconds_count{adapter="base",model_name="model"} 1.0',
        "vllm:time_per_output_token_seconds",
        'vllm:e2e_request_latency_seconds_count{adapter="base",model_name="model"} 1.0',
        'switchboard_messages_total{channel="web",role="customer"} 1.0',
        'switchboard_replies_total{adapter="base",status="done"} 1.0',
        'switchboard_errors_total{kind="protocol"} 1.0',
        "switchboard_ws_connections 0.0",
    ):
        assert name in text, name
