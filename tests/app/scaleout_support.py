"""Shared pieces for the scale-out tests: jobs, in-process workers, subprocesses, a private Redis.

The database cut of the fault tests is app.loadtest.tcp_proxy.TcpProxy (the chaos bench uses it too)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT
from app.generation.backend import GenerationJob, JobEvent
from app.generation.redis_backend import RedisBackend
from app.generation.worker import Worker, WorkerConfig
from inference import SamplingParams
from tests.app.chat_support import make_engine

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "my router drops wifi"}]


def job(tokens: int, adapter: str | None = None, messages: list[dict[str, str]] = CHAT) -> GenerationJob:
    """A greedy job that always runs ``tokens`` tokens (EOS ignored), so its length is known."""
    params = SamplingParams(temperature=0, max_new_tokens=tokens, ignore_eos=True).to_dict()
    return GenerationJob(uuid.uuid4().hex, "conv", messages, adapter, params)


async def collect(backend: RedisBackend, job_id: str, after: int = -1) -> list[JobEvent]:
    """Every event of a job after ``after`` up to the final one."""
    return [e async for e in backend.events(job_id, after)]


class MortalWorker(Worker):
    """A worker that hangs for good after writing ``die_after`` events of its second job (a crash)."""

    def __init__(self, *args: Any, die_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.die_after = die_after
        self.died = asyncio.Event()
        self.jobs: set[str] = set()

    async def write(self, event: JobEvent) -> bool:
        self.jobs.add(event.job_id)
        if len(self.jobs) > 1 and event.seq >= self.die_after:
            self.died.set()
            await asyncio.Event().wait()  # never returns: killed in this state
        return await super().write(event)


class RunningWorker:
    """A Worker on a tiny engine running in this event loop; ``kill`` drops it without acknowledging."""

    def __init__(self, tokenizer: Any, redis_url: str, name: str, adapters: dict[str, Path] | None = None,
                 claim_idle_ms: int = 1000, die_after: int | None = None) -> None:  # fmt: skip
        config = WorkerConfig(redis_url, consumer=name, claim_idle_ms=claim_idle_ms, heartbeat_s=0.1)
        engine = make_engine(tokenizer, adapters or {})
        self.worker = (
            Worker(engine, config) if die_after is None else MortalWorker(engine, config, die_after=die_after)
        )
        self.dies_after = self.worker.died if isinstance(self.worker, MortalWorker) else asyncio.Event()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.worker.run(self.stop))

    async def kill(self) -> None:
        """Vanish mid-job like a crashed process: nothing acknowledged, no more heartbeats."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def close(self) -> None:
        """Stop cleanly."""
        self.stop.set()
        await self.task


async def eventually(check: Any, timeout: float = 30.0) -> None:
    """Await ``check()`` until it is truthy (state reached), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def private_redis(port: int | None = None) -> Iterator[tuple[str, int]]:
    """Our own redis-server on a spare port (so restarting it never touches the shared one)."""
    port = port or free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0", port
    finally:
        proc.kill()
        proc.wait()


def flushed(url: str) -> str:
    """Empty the database behind ``url`` and return the url."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """Start redis-server without persistence on ``port`` and wait until it answers."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Run ``switchboard <args>`` as a subprocess (own process group), output to ``log``."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", **env}
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args], env=full_env, stdout=out, stderr=subprocess.STDOUT,
        cwd=str(REPO_ROOT), start_new_session=True,
    )  # fmt: skip


def terminate(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a subprocess we started (and wait for it)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
