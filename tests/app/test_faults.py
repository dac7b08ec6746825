"""Faults: a worker SIGKILLed mid-reply, Redis restarted, Postgres unreachable, one job's failure,
a client that disconnects mid-stream."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from websockets.sync.client import ClientConnection, connect

from app.db.models import Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.generation.backend import JobEvent
from app.generation.redis_backend import RedisBackend
from app.generation.worker import Worker, WorkerConfig
from app.loadtest.cluster import Cluster, ClusterSpec
from app.loadtest.tcp_proxy import TcpProxy
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_engine, read_until, settings_for, wait_for
from tests.app.scaleout_support import collect, flushed, job, private_redis

QUESTION = "My router keeps dropping the wifi connection"
# No knowledge entry answers it, so nothing is quoted and the reply runs to max_new_tokens: a
# quoted help article ends after ~90 tokens, sometimes before a disconnect is noticed.
UNGROUNDED = "write me a long poem about the sea please"


def _hello(ws: ClientConnection) -> str:
    ws.send(json.dumps({"type": "hello", "token": None}))
    welcome = json.loads(ws.recv(timeout=60))
    assert welcome["type"] == "welcome", welcome
    return str(welcome["conversation_id"])


def _reply(
    ws: ClientConnection, text: str, on_token: Any = None, timeout: float = 240
) -> list[dict[str, Any]]:
    """Send a message; the frames up to its done/error (``on_token(count)`` after each token)."""
    ws.send(json.dumps({"type": "message", "text": text}))
    frames: list[dict[str, Any]] = []
    job_id = None
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        frames.append(frame)
        if frame["type"] == "stored":
            job_id = frame.get("job_id")
        if frame["type"] == "token" and on_token is not None:
            on_token(sum(1 for f in frames if f["type"] == "token"))
        if frame["type"] in ("done", "error") and frame.get("job_id") == job_id:
            return frames


def _text(frames: list[dict[str, Any]]) -> str:
    return "".join(f.get("text") or "" for f in frames if f["type"] in ("token", "done"))


@pytest.fixture()
def cluster_logs(tmp_path: Path) -> Path:
    (tmp_path / "logs").mkdir()
    return tmp_path / "logs"


def test_a_worker_killed_mid_reply_is_replaced_and_the_reply_completes_once(cluster_logs: Path) -> None:
    spec = ClusterSpec(apis=1, workers=1, max_new_tokens=800, claim_idle_ms=1500, log_dir=cluster_logs)
    with Cluster(spec) as cluster:
        url = f"ws://127.0.0.1:{cluster.api_ports[0]}/ws/chat"
        killed: list[int] = []

        def kill_at_five(count: int) -> None:
            if count == 5 and not killed:
                cluster.stop("worker0", signal.SIGKILL)  # mid-reply, nothing acknowledged
                killed.append(count)
                cluster.start_worker("worker1")  # reclaims the job once it has been idle 1.5 s

        with connect(url, max_size=2**22) as ws:
            cid = _hello(ws)
            frames = _reply(ws, QUESTION, on_token=kill_at_five)
        assert killed, "the reply finished before the worker could be killed"
        assert frames[-1]["type"] == "done", frames[-1]
        seqs = [f["seq"] for f in frames if f["type"] in ("token", "done")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap and nothing twice
        with connect(url, max_size=2**22) as ws:  # the same question, uninterrupted, on the new worker
            _hello(ws)
            reference = _text(_reply(ws, QUESTION))
        assert _text(frames) == reference
        rows = _rows(cluster.database_url, cid)
        assert [(r.role, r.status) for r in rows] == [("customer", "received"), ("assistant", "done")]
        assert rows[1].text == reference


def _rows(database_url: str, cid: str) -> list[Message]:
    from app.db.session import session_factory

    with session_factory(database_url)() as session:
        query = select(Message).where(Message.conversation_id == cid).order_by(Message.id)
        return list(session.scalars(query))


def _health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_api_and_worker_carry_on_after_redis_restarts(cluster_logs: Path) -> None:
    spec = ClusterSpec(apis=1, workers=1, max_new_tokens=8, log_dir=cluster_logs)
    with Cluster(spec) as cluster:
        port = cluster.api_ports[0]
        with connect(f"ws://127.0.0.1:{port}/ws/chat") as ws:
            cid = _hello(ws)
            assert _reply(ws, "first question")[-1]["type"] == "done"
            cluster.stop("redis", signal.SIGKILL)
            status, body = _health(port)
            assert status == 503 and "engine not serving" in body["engine"]["status"]
            down = _reply(ws, "asked while the queue is down")
            assert down[0]["type"] == "stored"  # the message itself is kept
            assert down[-1]["type"] == "error" and "could not start" in down[-1]["message"]
            cluster.start_redis()  # empty: no persistence
            wait_for(lambda: _health(port)[0] == 200, timeout=60)
            after = _reply(ws, "and after the restart?", timeout=120)
            assert after[-1]["type"] == "done" and _text(after)
        rows = [(r.role, r.status) for r in _rows(cluster.database_url, cid)]
        assert rows == [
            ("customer", "received"), ("assistant", "done"), ("customer", "received"), ("assistant", "error"),
            ("customer", "received"), ("assistant", "done"),
        ]  # fmt: skip


@pytest.fixture()
def proxied_client(pg_url: str, tokenizer: Any, db: Session) -> Iterator[tuple[TestClient, TcpProxy]]:
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy(int(host_port.split(":")[1]))
    url = pg_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=6), None)
    app = create_app(
        settings_for(url, messages_per_minute=1000), engine=make_engine(tokenizer, {}), router=KeywordRouter()
    )
    with TestClient(app) as client:
        yield client, proxy
    proxy.cut()


def test_postgres_unreachable_gives_503_and_a_clear_chat_error_without_half_rows(
    proxied_client: tuple[TestClient, TcpProxy], db: Session
) -> None:
    client, proxy = proxied_client
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "message", "text": "before the outage"})
        read_until(ws, "done")
        proxy.cut()
        health = client.get("/healthz")
        assert health.status_code == 503 and "database unreachable" in health.json()["db"]
        ws.send_json({"type": "message", "text": "during the outage"})
        frame = ws.receive_json()
        assert frame["type"] == "error" and "database" in frame["message"]
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        frame = ws.receive_json()
        assert frame["type"] == "error" and "database" in frame["message"]
    proxy.restore()
    db.expire_all()
    rows = list(db.scalars(select(Message).where(Message.conversation_id == cid).order_by(Message.id)))
    assert (rows[0].role, rows[0].text) == ("customer", "before the outage")
    assert [r.role for r in rows] == ["customer", "assistant"] and rows[1].status == "done"
    assert client.get("/healthz").status_code == 200


class FailsOneJob(Worker):
    """Raises inside the generation of one chosen job (a fault in that request only)."""

    doomed = ""

    async def write(self, event: JobEvent) -> bool:
        if event.job_id == self.doomed and event.seq == 3:
            raise RuntimeError("injected fault in this request")
        return await super().write(event)


@pytest.fixture()
def redis_url() -> Iterator[str]:
    with private_redis() as (url, _):
        yield flushed(url)


async def test_an_exception_in_one_requests_generation_fails_it_alone(redis_url: str, tokenizer: Any) -> None:
    backend = RedisBackend(redis_url, block_ms=200)
    await backend.start()
    worker = FailsOneJob(make_engine(tokenizer, {}), WorkerConfig(redis_url, consumer="w"))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        doomed, fine = job(40), job(40)
        worker.doomed = doomed.job_id
        await backend.submit(doomed)
        await backend.submit(fine)
        failed = await collect(backend, doomed.job_id)
        assert failed[-1].kind == "error" and "injected fault" in (failed[-1].error or "")
        assert [e.seq for e in failed] == [0, 1, 2, 3]
        ok = await collect(backend, fine.job_id)
        assert ok[-1].kind == "done" and ok[-1].completion_tokens == 40
        later = job(5)  # the worker keeps serving
        await backend.submit(later)
        assert (await collect(backend, later.job_id))[-1].finish_reason == "length"
    finally:
        stop.set()
        await running
        await backend.stop()


def test_a_client_that_disconnects_mid_stream_frees_its_engine_resources(
    pg_url: str, tokenizer: Any, db: Session
) -> None:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=1500), None)
    engine = make_engine(tokenizer, {})
    app = create_app(settings_for(pg_url), engine=engine, router=KeywordRouter(), resume_grace_s=0.2)
    with TestClient(app) as client:
        with client.websocket_connect("/ws/chat") as ws:
            ws.send_json({"type": "hello", "token": None})
            cid = ws.receive_json()["conversation_id"]
            ws.send_json({"type": "message", "text": UNGROUNDED})
            read_until(ws, "token")
        # Gone without a word: after the resume grace the job is cancelled and its KV blocks freed.
        wait_for(lambda: not engine.core.has_unfinished(), timeout=60)
        assert engine.core.pool.num_free == engine.core.pool.num_blocks or not engine.core.has_unfinished()

        def interrupted() -> bool:
            db.expire_all()
            row = db.scalar(
                select(Message).where(Message.conversation_id == cid, Message.role == "assistant")
            )
            return row is not None and row.status == "interrupted"

        wait_for(interrupted, timeout=60)


def test_a_customer_who_reconnects_to_another_api_node_resumes_the_reply(cluster_logs: Path) -> None:
    spec = ClusterSpec(apis=2, workers=1, max_new_tokens=800, log_dir=cluster_logs)
    with Cluster(spec) as cluster:
        first, second = (f"ws://127.0.0.1:{port}/ws/chat" for port in cluster.api_ports)
        # The first socket stays open but unread: its node must not cancel the reply after its
        # resume grace (a node counts only its own sockets before cancelling an unwatched reply).
        with connect(first, max_size=2**22) as old:
            old.send(json.dumps({"type": "hello", "token": None}))
            welcome = json.loads(old.recv(timeout=60))
            old.send(json.dumps({"type": "message", "text": QUESTION}))
            seen: list[dict[str, Any]] = []
            while sum(1 for f in seen if f["type"] == "token") < 5:
                seen.append(json.loads(old.recv(timeout=120)))
            tokens = [f for f in seen if f["type"] == "token"]
            job_id, last = tokens[-1]["job_id"], tokens[-1]["seq"]
            with connect(second, max_size=2**22) as ws:  # the node that never saw this customer
                ws.send(json.dumps({"type": "hello", "token": welcome["token"], "last_seq": {job_id: last}}))
                assert json.loads(ws.recv(timeout=60))["type"] == "welcome"
                rest: list[dict[str, Any]] = []
                while not rest or rest[-1]["type"] not in ("done", "error"):
                    rest.append(json.loads(ws.recv(timeout=120)))
        assert rest[-1]["type"] == "done", rest[-1]
        assert [f["seq"] for f in rest] == list(range(last + 1, last + 1 + len(rest)))  # the rest, once
        streamed = _text(tokens) + _text(rest)

        def recorded() -> str | None:
            rows = _rows(cluster.database_url, welcome["conversation_id"])
            return rows[-1].text if rows[-1].status == "done" else None

        assert wait_for(recorded, timeout=60) == streamed
