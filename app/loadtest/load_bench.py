"""`switchboard bench load`: simulated websocket customers against API + worker processes on loopback.

Each customer opens a socket on one of the API nodes (round robin), says hello, and sends its
messages one after another, each after the previous reply is done. The run is bounded by the
number of customers and messages and by ``deadline_s``. Afterwards Postgres is checked: every
customer message and every reply is stored exactly once, and each stored reply equals the text
streamed to the customer.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.loadtest.cluster import Cluster, ClusterSpec
from inference.cpu_features import cpu_info

TOPICS = (
    "My laptop will not turn on after the update",
    "How much is the Premium plan of the security suite?",
    "Where is my order of wireless headphones?",
    "The cloud backup keeps failing with an error",
    "Can I upgrade from Basic to Plus mid-month?",
)


@dataclass(frozen=True)
class LoadSpec:
    """The bounded workload: customers x messages, with an overall deadline."""

    customers: int = 200
    messages: int = 3
    deadline_s: float = 600.0
    reply_timeout_s: float = 300.0

    def __post_init__(self) -> None:
        if self.customers < 1 or self.messages < 1:
            raise ValueError("customers and messages must be >= 1")
        if self.deadline_s <= 0 or self.reply_timeout_s <= 0:
            raise ValueError("deadline_s and reply_timeout_s must be > 0")


@dataclass
class Exchange:
    """One message and its reply as the customer saw them."""

    text: str
    client_id: str
    reply: str = ""
    latency_s: float | None = None
    ttft_s: float | None = None
    busy_events: int = 0
    error: str | None = None


@dataclass
class Customer:
    """One simulated customer's conversation."""

    index: int
    port: int
    conversation_id: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    error: str | None = None


async def run_customer(customer: Customer, spec: LoadSpec) -> None:
    """Hello, then each message after the previous reply finished; failures are recorded, not raised."""
    import websockets

    try:
        async with websockets.connect(f"ws://127.0.0.1:{customer.port}/ws/chat", max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "hello", "token": None}))
            welcome = json.loads(await ws.recv())
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"no welcome: {welcome}")
            customer.conversation_id = welcome["conversation_id"]
            for i in range(spec.messages):
                text = f"{TOPICS[(customer.index + i) % len(TOPICS)]} (customer {customer.index}, #{i})"
                exchange = Exchange(text, f"c{customer.index}-m{i}")
                customer.exchanges.append(exchange)
                await asyncio.wait_for(exchange_one(ws, exchange), spec.reply_timeout_s)
    except Exception as exc:  # noqa: BLE001 - the load report counts every kind of failure
        customer.error = f"{type(exc).__name__}: {exc}"[:300]


async def exchange_one(ws: Any, exchange: Exchange) -> None:
    """Send one message on an open, welcomed socket and read its reply into ``exchange``."""
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "message", "text": exchange.text, "client_id": exchange.client_id}))
    job_id = None
    parts: list[str] = []
    while True:
        frame = json.loads(await ws.recv())
        kind = frame.get("type")
        if kind == "stored" and frame.get("client_id") == exchange.client_id:
            job_id = frame.get("job_id")
        elif kind == "busy":
            exchange.busy_events += 1
        elif kind == "token" and frame.get("job_id") == job_id:
            if exchange.ttft_s is None:
                exchange.ttft_s = time.perf_counter() - started
            parts.append(frame["text"])
        elif kind == "done" and frame.get("job_id") == job_id:
            parts.append(frame.get("text") or "")
            exchange.reply = "".join(parts)
            exchange.latency_s = time.perf_counter() - started
            return
        elif kind == "error" and (frame.get("job_id") in (None, job_id)):
            exchange.error = str(frame.get("message"))
            exchange.latency_s = time.perf_counter() - started
            return


async def drive(ports: list[int], spec: LoadSpec) -> list[Customer]:
    """All customers at once (round robin over the API nodes), bounded by the deadline."""
    customers = [Customer(i, ports[i % len(ports)]) for i in range(spec.customers)]
    tasks = [asyncio.create_task(run_customer(c, spec)) for c in customers]
    done, pending = await asyncio.wait(tasks, timeout=spec.deadline_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for customer, task in zip(customers, tasks, strict=True):
        if task in pending and customer.error is None:
            customer.error = "deadline reached"
    return customers


def verify_storage(database_url: str, customers: list[Customer]) -> dict[str, Any]:
    """Count, per sent message, the customer rows and reply rows stored (each must be exactly 1)."""
    from sqlalchemy import select

    from app.db.models import Message
    from app.db.session import session_factory

    problems: list[str] = []
    checked = 0
    with session_factory(database_url)() as session:
        for customer in customers:
            if customer.conversation_id is None:
                continue
            rows = list(
                session.scalars(select(Message).where(Message.conversation_id == customer.conversation_id))
            )
            mine = [r for r in rows if r.role == "customer"]
            replies = [r for r in rows if r.role == "assistant"]
            for ex in customer.exchanges:
                checked += 1
                stored = [r for r in mine if r.text == ex.text]
                if len(stored) != 1:
                    problems.append(f"{ex.client_id}: message stored {len(stored)} times")
                    continue
                answer = [r for r in replies if r.reply_to_id == stored[0].id]
                if ex.latency_s is not None and ex.error is None:
                    if len(answer) != 1:
                        problems.append(f"{ex.client_id}: reply stored {len(answer)} times")
                    elif answer[0].text != ex.reply or answer[0].status != "done":
                        problems.append(f"{ex.client_id}: stored reply differs from the streamed one")
            if len(mine) != len(customer.exchanges) or len(replies) > len(mine):
                problems.append(f"conversation {customer.conversation_id}: extra rows")
    return {"checked_messages": checked, "storage_problems": problems}


def summarize(customers: list[Customer], wall_s: float, storage: dict[str, Any]) -> dict[str, Any]:
    """Latency percentiles, throughput and error counts."""
    exchanges = [ex for c in customers for ex in c.exchanges]
    ok = [ex for ex in exchanges if ex.error is None and ex.latency_s is not None]
    lat = sorted(ex.latency_s for ex in ok if ex.latency_s is not None)
    ttft = sorted(ex.ttft_s for ex in ok if ex.ttft_s is not None)

    def pct(values: list[float], q: float) -> float | None:
        return round(values[min(len(values) - 1, int(q * len(values)))], 4) if values else None

    return {
        "customers": len(customers),
        "messages_sent": len(exchanges),
        "replies_ok": len(ok),
        "reply_errors": sum(1 for ex in exchanges if ex.error is not None),
        "customer_errors": sum(1 for c in customers if c.error is not None),
        "busy_events": sum(ex.busy_events for ex in exchanges),
        "latency_s": {
            "p50": pct(lat, 0.5),
            "p99": pct(lat, 0.99),
            "mean": round(statistics.fmean(lat), 4) if lat else None,
        },
        "ttft_s": {"p50": pct(ttft, 0.5), "p99": pct(ttft, 0.99)},
        "wall_s": round(wall_s, 2),
        "replies_per_s": round(len(ok) / wall_s, 2) if wall_s > 0 else None,
        "error_samples": sorted(
            {c.error for c in customers if c.error} | {ex.error for ex in exchanges if ex.error}
        )[:10],
        **storage,
    }


def run_load(
    cluster_spec: ClusterSpec, spec: LoadSpec, out_dir: Path | None, log: Any = print
) -> dict[str, Any]:
    """Start the cluster, drive the customers, verify Postgres, write results.json/results.md."""
    with Cluster(cluster_spec) as cluster:
        log(f"cluster up: APIs on {cluster.api_ports}, {cluster_spec.workers} worker(s)")
        log(f"process logs in {cluster_spec.log_dir}")
        started = time.perf_counter()
        customers = asyncio.run(drive(cluster.api_ports, spec))
        wall = time.perf_counter() - started
        storage = verify_storage(cluster.database_url, customers)
    result = {"cluster": {k: str(v) for k, v in asdict(cluster_spec).items()}, "load": asdict(spec)}
    result["cpu"] = cpu_info().describe()
    result["result"] = summarize(customers, wall, storage)
    if out_dir is not None:
        write_report(result, out_dir)
    return result


def write_report(result: dict[str, Any], out_dir: Path) -> None:
    """results.json and a markdown table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(result, indent=2))
    r, c = result["result"], result["cluster"]
    lines = [
        "# Load: simulated websocket customers over Redis workers",
        "",
        f"{r['customers']} customers x {result['load']['messages']} messages against "
        f"{c['apis']} API process(es) and {c['workers']} worker(s) "
        f"(model: {c['dummy']}, max_new_tokens {c['max_new_tokens']}).",
        f"CPU: {result.get('cpu', {}).get('label', 'not recorded')}.",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| messages sent | {r['messages_sent']} |",
        f"| replies ok | {r['replies_ok']} |",
        f"| reply errors / customer errors | {r['reply_errors']} / {r['customer_errors']} |",
        f"| busy events | {r['busy_events']} |",
        f"| reply latency p50 / p99 (s) | {r['latency_s']['p50']} / {r['latency_s']['p99']} |",
        f"| first token p50 / p99 (s) | {r['ttft_s']['p50']} / {r['ttft_s']['p99']} |",
        f"| wall time (s) / replies per s | {r['wall_s']} / {r['replies_per_s']} |",
        f"| stored once (checked / problems) | {r['checked_messages']} / {len(r['storage_problems'])} |",
    ]
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")
