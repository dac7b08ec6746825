"""`switchboard bench chaos`: customers keep chatting while the cluster is broken on purpose.

Two API nodes and two workers (tiny random model by default, so it runs on a small CPU) on a
private redis-server and a fresh PostgreSQL database. While the customers of
app.loadtest.chaos_customer chat, the faults run one after another: an API node is killed
(SIGKILL) and restarted on its port, a worker is killed (SIGKILL) and restarted, Redis is
restarted empty, and PostgreSQL is cut for a while. The shared PostgreSQL is never stopped: the
nodes reach it through a TcpProxy this process controls, and the cut refuses and drops its
connections. Afterwards the database alone decides (app.loadtest.chaos_check).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.loadtest.chaos_check import settle, verify
from app.loadtest.chaos_customer import ChaosCustomer, ChaosExchange, exchange
from app.loadtest.chaos_report import summarize, write_report
from app.loadtest.cluster import Cluster, ClusterSpec
from app.loadtest.load_bench import TOPICS
from inference.cpu_features import cpu_info

Mark = Callable[[str], None]


@dataclass(frozen=True)
class ChaosSpec:
    """The customers and the faults; ``gap_s`` is the calm between two faults."""

    customers: int = 200
    think_s: float = 2.0  # between a reply and the customer's next message
    walk_away_every: int = 10  # every n-th customer leaves at its first drop (0: nobody)
    gap_s: float = 10.0
    api_down_s: float = 5.0
    worker_down_s: float = 5.0
    pg_cut_s: float = 10.0
    stall_s: float = 30.0  # a socket silent this long is treated as dropped
    deadline_s: float = 900.0
    settle_s: float = 180.0  # how long the orphan sweep gets to finalise what was left streaming
    faults: tuple[str, ...] = ("api", "worker", "redis", "postgres")

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be >= 1")
        for name in ("think_s", "gap_s", "api_down_s", "worker_down_s", "pg_cut_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("stall_s", "deadline_s", "settle_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; expected some of {', '.join(FAULTS)}")


@dataclass
class Timeline:
    """What was broken when (seconds from the first customer)."""

    t0: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)
    restarting: set[str] = field(default_factory=set)  # API nodes started but not yet seen healthy

    def mark(self, what: str) -> None:
        """Note that ``what`` happened now."""
        self.events.append({"t_s": round(time.monotonic() - self.t0, 2), "event": what})


def _kill_api(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> None:
    name = sorted(cluster.api_port_of)[-1]
    cluster.stop(name, signal.SIGKILL)
    timeline.mark(f"{name} killed (SIGKILL)")
    time.sleep(spec.api_down_s)
    # Not waited for here: the next faults run while it starts (break_things waits before the cut).
    cluster.start_api(name, cluster.api_port_of[name], wait=False)
    timeline.restarting.add(name)
    timeline.mark(f"{name} restarting on port {cluster.api_port_of[name]}")


def _kill_worker(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> None:
    name = f"worker{cluster.spec.workers - 1}"
    cluster.stop(name, signal.SIGKILL)
    timeline.mark(f"{name} killed (SIGKILL)")
    time.sleep(spec.worker_down_s)
    cluster.start_worker(name)
    timeline.mark(f"{name} restarted")


def _restart_redis(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> None:
    cluster.restart_redis()
    timeline.mark("redis restarted (SIGKILL, then an empty redis-server on the same port: no persistence)")


def _cut_postgres(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> None:
    proxy = cluster.pg_proxy
    if proxy is None:
        raise RuntimeError("the cluster was started without its PostgreSQL proxy")
    proxy.cut()
    timeline.mark(f"postgres cut: our TCP proxy refuses and drops every connection for {spec.pg_cut_s:g} s")
    time.sleep(spec.pg_cut_s)
    proxy.restore()
    timeline.mark("postgres reachable again through the proxy")


FAULTS: dict[str, Callable[[Cluster, ChaosSpec, Timeline], None]] = {
    "api": _kill_api,
    "worker": _kill_worker,
    "redis": _restart_redis,
    "postgres": _cut_postgres,
}


def _wait_apis(cluster: Cluster, timeline: Timeline) -> None:
    for name in sorted(timeline.restarting):
        cluster.wait_api(name)
        timeline.restarting.discard(name)
        timeline.mark(f"{name} healthy")


def break_things(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> None:
    """Every fault in turn, ``gap_s`` apart (blocking: run it in a thread)."""
    for name in spec.faults:
        time.sleep(spec.gap_s)
        if name == "postgres":  # a node starting while the database is cut would exit: wait for it
            _wait_apis(cluster, timeline)
        FAULTS[name](cluster, spec, timeline)
    _wait_apis(cluster, timeline)
    time.sleep(spec.gap_s)
    timeline.mark("faults over")


async def run_customer(customer: ChaosCustomer, spec: ChaosSpec, faults_over: asyncio.Event) -> None:
    """Message after message until the faults are over, then one more (recovery), or the deadline."""
    deadline = time.monotonic() + spec.deadline_s
    await asyncio.sleep((customer.index % 50) * 0.1)  # not all 200 hellos in the same millisecond
    i = 0
    while not customer.left and time.monotonic() < deadline:
        last = faults_over.is_set()
        text = f"{TOPICS[(customer.index + i) % len(TOPICS)]} (customer {customer.index}, #{i})"
        ex = ChaosExchange(text, f"chaos-c{customer.index}-m{i}")
        customer.exchanges.append(ex)
        await exchange(customer, ex, spec.stall_s, deadline)
        i += 1
        if last:
            return
        await asyncio.sleep(spec.think_s)


async def drive(cluster: Cluster, spec: ChaosSpec, timeline: Timeline) -> list[ChaosCustomer]:
    """All customers at once while the faults run in a thread."""
    walks = spec.walk_away_every
    customers = [
        ChaosCustomer(i, list(cluster.api_ports), walks_away=bool(walks) and i % walks == walks - 1)
        for i in range(spec.customers)
    ]
    faults_over = asyncio.Event()
    timeline.mark("customers start")
    tasks = [asyncio.create_task(run_customer(c, spec, faults_over)) for c in customers]
    await asyncio.to_thread(break_things, cluster, spec, timeline)
    faults_over.set()
    await asyncio.wait(tasks, timeout=spec.deadline_s)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    timeline.mark("customers done")
    return customers


def run_chaos(
    cluster_spec: ClusterSpec, spec: ChaosSpec, out_dir: Path | None, log: Any = print
) -> dict[str, Any]:
    """Start the cluster, chat through the faults, let the sweep settle, check the database, report."""
    if not cluster_spec.database_via_proxy:
        raise ValueError("a chaos run needs database_via_proxy=True (the PostgreSQL cut goes through it)")
    with Cluster(cluster_spec) as cluster:
        log(f"cluster up: APIs on {cluster.api_ports}, {cluster_spec.workers} worker(s), {cluster.redis_url}")
        log(f"process logs in {cluster_spec.log_dir}")
        timeline = Timeline()
        customers = asyncio.run(drive(cluster, spec, timeline))
        settled = settle(cluster.database_url, spec.settle_s)
        left, waited = settled["streaming_left"], settled["waited_s"]
        timeline.mark(f"sweep settled: {left} rows streaming after {waited} s more")
        for event in timeline.events:
            log(f"  {event['t_s']:>7.1f} s  {event['event']}")
        check = verify(cluster.database_url, customers)
    result: dict[str, Any] = {
        "cluster": {k: str(v) for k, v in asdict(cluster_spec).items()},
        "chaos": asdict(spec),
        "cpu": cpu_info().describe(),
        # 1/5/15-minute load averages at the end: this machine's 2 cores are shared with other work.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "timeline": timeline.events,
        "settle": settled,
        "result": summarize(customers, check),
    }
    if out_dir is not None:
        write_report(result, out_dir)
    return result
