"""Shared pieces for the chat tests: a tiny multi-adapter engine, a keyword router, app builders."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.config import Settings
from app.router import RouteDecision
from inference import AsyncEngine, EngineConfig, LLMEngine
from inference.loading.dummy import build_random_llama
from tests.inference.lora_factory import make_adapter

INTENTS = ("general", "tech_support", "sales")


def make_adapters(root: Path) -> dict[str, Path]:
    """Three small random LoRAs for the tiny model, one per intent."""
    return {
        name: make_adapter(root / name, 4, ["q_proj", "v_proj"], seed=i + 1) for i, name in enumerate(INTENTS)
    }


def make_engine(tokenizer: Any, adapters: dict[str, Path], kv_tokens: int = 4096) -> AsyncEngine:
    """A fresh tiny random Llama (own copy: LoRA loading patches the model) with the adapters loaded."""
    model = build_random_llama("tiny", seed=0, initializer_range=0.5)
    engine = LLMEngine(model, tokenizer, EngineConfig(max_batch_size=8, kv_budget_tokens=kv_tokens))
    for name, path in adapters.items():
        engine.load_adapter(name, path)
    return AsyncEngine(engine)


class KeywordRouter:
    """Deterministic stand-in for the trained router: tech words -> tech_support, price words -> sales."""

    def route(
        self, text: str, previous_intent: str | None = None, pinned: str | None = None, **_: float | None
    ) -> RouteDecision:
        lower = text.lower()
        scores = {"general": 0.2, "tech_support": 0.1, "sales": 0.1}
        if "laptop" in lower or "router" in lower:
            scores = {"general": 0.05, "tech_support": 0.9, "sales": 0.05}
        elif "price" in lower or "plan" in lower:
            scores = {"general": 0.1, "sales": 0.8, "tech_support": 0.1}
        top = max(scores, key=scores.__getitem__)
        if pinned:
            return RouteDecision(pinned, scores[top], scores, top if top != pinned else None, "pinned")
        if previous_intent and scores[top] < 0.5:  # nothing clear: stay with the conversation's intent
            return RouteDecision(previous_intent, scores[top], scores, top, "sticky")
        return RouteDecision(top, scores[top], scores)


def settings_for(pg_url: str, **overrides: Any) -> Settings:
    """Settings on the test database with a real secret."""
    values: dict[str, Any] = {
        "database_url": pg_url,
        "secret_key": "test-secret-key",
        "environment": "test",
        # Every test client shares one address; tests of these limits set them low themselves.
        "ip_messages_per_minute": 100_000,
        "system_messages_per_minute": 100_000,
        "ip_conversations_per_minute": 100_000,
        "system_conversations_per_minute": 100_000,
    }
    return Settings(**{**values, **overrides})


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``predicate`` is truthy (state reached), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def read_until(ws: Any, kind: str, job_id: str | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """Receive frames up to and including the first of type ``kind`` (for ``job_id`` if given)."""
    frames = []
    for _ in range(limit):
        frame = ws.receive_json()
        frames.append(frame)
        if frame["type"] == kind and (job_id is None or frame.get("job_id") == job_id):
            return frames
    raise AssertionError(f"no {kind} frame")


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
