"""`switchboard bench start`: from `scripts/run.sh` to a chat page, to a loaded engine, to a first reply.

Each run starts the command the README tells a new user to type (set up already, so nothing is
installed), then polls ``GET /`` until it answers 200. At that moment a customer sends one
message over ``/ws/chat``: while the engine still loads, the message is stored and its reply
queued, so the time to the first reply is what that customer waits. ``/readyz`` is polled
meanwhile for the moment the engine runs. Times are seconds from starting the command.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT
from app.loadtest.load_bench import Exchange, exchange_one

POLL_S = 0.05  # page polls: cheap refused connects until the server listens
READY_POLL_S = 0.25  # /readyz hits the database: rarer, not to slow the load it waits for


@dataclass(frozen=True)
class StartSpec:
    """What to start and how long to wait for it."""

    runs: int = 2
    port: int = 18500
    timeout_s: float = 300.0
    message: str = "Hello! How long does shipping take?"
    command: tuple[str, ...] = ("bash", "scripts/run.sh")

    def __post_init__(self) -> None:
        if self.runs < 1 or not 0 < self.port < 65536 or self.timeout_s <= 0:
            raise ValueError("runs must be >= 1, port in 1..65535 and timeout_s > 0")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, itself and its waited-for children) a process has used, from /proc.

    On a shared machine the wall-clock figures carry everybody's load; this one much less so.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return round(ticks / os.sysconf("SC_CLK_TCK"), 2)


def _status(url: str) -> int | None:
    """The HTTP status of a GET, or None while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, urllib.error.URLError):
        return None


async def _until_status(
    url: str, want: int, t0: float, proc: subprocess.Popen[bytes], timeout: float, every: float = POLL_S
) -> float:
    """Seconds since ``t0`` when ``url`` first answers ``want``; RuntimeError if the server died."""
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before {url} answered")
        if await asyncio.to_thread(_status, url) == want:
            return time.perf_counter() - t0
        await asyncio.sleep(every)
    raise RuntimeError(f"{url} did not answer {want} within {timeout:.0f} s")


async def _first_reply(port: int, text: str, t0: float, timeout: float) -> dict[str, Any]:
    """One customer's message sent as soon as the page answers; when its reply came, from ``t0``."""
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/chat", max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "token": None}))
        json.loads(await ws.recv())
        sent = time.perf_counter() - t0
        exchange = Exchange(text, "start-bench")
        await asyncio.wait_for(exchange_one(ws, exchange), timeout)
    return {
        "sent_s": round(sent, 3),
        "first_token_s": round(sent + exchange.ttft_s, 3) if exchange.ttft_s is not None else None,
        "reply_s": round(sent + exchange.latency_s, 3) if exchange.latency_s is not None else None,
        "reply_chars": len(exchange.reply),
        "error": exchange.error,
    }


async def _measure(spec: StartSpec, t0: float, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    base = f"http://127.0.0.1:{spec.port}"
    page_s = await _until_status(f"{base}/", 200, t0, proc, spec.timeout_s)
    cpu_at_page = cpu_seconds(proc.pid)
    ready_when_page = await asyncio.to_thread(_status, f"{base}/readyz") == 200
    reply = asyncio.create_task(_first_reply(spec.port, spec.message, t0, spec.timeout_s))
    ready_s = await _until_status(f"{base}/readyz", 200, t0, proc, spec.timeout_s, READY_POLL_S)
    cpu_at_ready = cpu_seconds(proc.pid)
    return {
        "page_s": round(page_s, 3),
        "server_cpu_s_at_page": cpu_at_page,
        "server_cpu_s_at_ready": cpu_at_ready,
        "engine_ready_at_page": ready_when_page,
        "engine_ready_s": round(ready_s, 3),
        **await reply,
    }


def time_one_start(spec: StartSpec, env: dict[str, str], log_file: Path) -> dict[str, Any]:
    """Start the command, measure, stop it (SIGTERM to its process group, SIGKILL after 30 s)."""
    load = os.getloadavg()[0]
    with log_file.open("ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*spec.command, "--port", str(spec.port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            result = asyncio.run(_measure(spec, t0, proc))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return {"load_avg_1m_before": round(load, 2), **result}


def run_start_bench(spec: StartSpec, out_dir: Path, log: Any = print) -> dict[str, Any]:
    """``spec.runs`` starts on one SQLite file in ``out_dir`` (the first migrates it); results.json/md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": f"sqlite:///{out_dir.resolve() / 'start-bench.db'}"}
    runs = []
    for i in range(spec.runs):
        run = time_one_start(spec, env, out_dir / "server.log")
        times = f"page {run['page_s']} s, engine {run['engine_ready_s']} s, reply {run['reply_s']} s"
        log(f"run {i + 1}: {times}")
        runs.append(run)
    from inference.cpu_features import cpu_info  # imports torch: only after the servers are gone

    result = {"spec": asdict(spec), "cpu": cpu_info().describe(), "runs": runs, "summary": _summary(runs)}
    (out_dir / "results.json").write_text(json.dumps(result, indent=2))
    (out_dir / "results.md").write_text(_table(result))
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    def median(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    keys = ["page_s", "engine_ready_s", "first_token_s", "reply_s"]
    keys += ["server_cpu_s_at_page", "server_cpu_s_at_ready"]
    return {k: median(k) for k in keys}


def _table(result: dict[str, Any]) -> str:
    lines = [
        "# Start-up: `scripts/run.sh` to a chat page, a loaded engine and a first reply",
        "",
        f"CPU: {result['cpu']['label']}, {result['cpu']['usable_cores']} usable cores.",
        f"Command: `{' '.join(result['spec']['command'])} --port {result['spec']['port']}` (set up already).",
        "",
        "Wall-clock seconds from starting the command; in brackets the CPU seconds the server had",
        "used by then (setup.sh included), less inflated by other jobs on a shared machine.",
        "",
        "| run | load avg before | page 200 (s) | engine ready (s) | first token (s) | reply done (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(result["runs"], 1):
        lines.append(
            f"| {i} | {r['load_avg_1m_before']} | {r['page_s']} ({r['server_cpu_s_at_page']} CPU) "
            f"| {r['engine_ready_s']} ({r['server_cpu_s_at_ready']} CPU) "
            f"| {r['first_token_s']} | {r['reply_s']} |"
        )
    s = result["summary"]
    lines.append(
        f"| median | | {s['page_s']} ({s['server_cpu_s_at_page']} CPU) "
        f"| {s['engine_ready_s']} ({s['server_cpu_s_at_ready']} CPU) "
        f"| {s['first_token_s']} | {s['reply_s']} |"
    )
    return "\n".join(lines) + "\n"
