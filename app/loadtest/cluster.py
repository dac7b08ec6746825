"""A loopback Switchboard cluster for load and fault runs: own Redis, fresh Postgres DB, API + workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.config import REPO_ROOT
from app.loadtest.tcp_proxy import TcpProxy

DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class ClusterSpec:
    """What to start; ``dummy`` is the workers' random-weight shape (None = the configured model)."""

    apis: int = 2
    workers: int = 2
    dummy: str | None = "tiny"
    max_new_tokens: int = 16
    worker_max_jobs: int = 32
    claim_idle_ms: int = 3000
    max_queue_depth: int = 1024
    pg_admin_url: str = DEFAULT_PG_ADMIN
    redis_url: str | None = None  # None: start a private redis-server on a free port
    # Nodes reach PostgreSQL through a TcpProxy this process controls, so a run can cut it off.
    database_via_proxy: bool = False
    sweep_min_age_s: float | None = None  # the orphan sweep's settings (None: the app's defaults)
    sweep_interval_s: float | None = None
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="switchboard-load-")))

    def __post_init__(self) -> None:
        for name in ("apis", "workers", "max_new_tokens", "worker_max_jobs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


def _wait(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


class Cluster:
    """Start with ``with Cluster(spec) as c``; every process and the database go away on exit."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.api_ports: list[int] = []
        self.api_port_of: dict[str, int] = {}
        self.database_url = ""  # direct, for creating, checking and dropping the database
        self.node_database_url = ""  # what the nodes use (through ``pg_proxy`` when asked)
        self.pg_proxy: TcpProxy | None = None
        self.redis_url = spec.redis_url or ""
        self._db_name = f"sb_load_{uuid.uuid4().hex[:12]}"
        self._redis_port = 0

    def __enter__(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        names = sorted(self.processes, key=lambda n: n == "redis")  # Redis last: nodes stop quietly
        for name in names:
            self.stop(name)
        if self.pg_proxy is not None:
            self.pg_proxy.close()
        if self.database_url:
            self._drop_database()

    def _start(self) -> None:
        if not self.redis_url:
            self._redis_port = free_port()
            self.start_redis()
        self.database_url = self.node_database_url = self._create_database()
        if self.spec.database_via_proxy:
            pg = urlsplit(self.database_url.replace("+psycopg", ""))
            self.pg_proxy = TcpProxy(pg.port or 5432, pg.hostname or "127.0.0.1")
            self.node_database_url = self.database_url.replace(
                pg.netloc.split("@")[-1], f"127.0.0.1:{self.pg_proxy.port}"
            )
        for i in range(self.spec.workers):
            self.start_worker(f"worker{i}")
        for i in range(self.spec.apis):
            self.start_api(f"api{i}")
        for name in [n for n in self.processes if n.startswith("worker")]:
            _wait(lambda n=name: (self.spec.log_dir / f"{n}.alive").exists(), name, 180)

    def restart_redis(self) -> None:
        """Stop the private redis-server and start an empty one on the same port (no persistence)."""
        self.stop("redis", signal.SIGKILL)
        self.start_redis()

    def start_redis(self) -> None:
        """(Re)start the private redis-server, without persistence, on its port."""
        cmd = ["redis-server", "--port", str(self._redis_port), "--bind", "127.0.0.1"]
        self._spawn("redis", [*cmd, "--save", "", "--appendonly", "no"], {})
        self.redis_url = f"redis://127.0.0.1:{self._redis_port}/0"
        _wait(lambda: _accepts(self._redis_port), "redis", 30)

    def start_worker(self, name: str) -> None:
        """A `switchboard worker` process (consumer name = process name)."""
        alive = str(self.spec.log_dir / f"{name}.alive")
        args = ["worker", "--max-jobs", str(self.spec.worker_max_jobs), "--alive-file", alive]
        args += ["--claim-idle-ms", str(self.spec.claim_idle_ms)]
        if self.spec.dummy:
            args += ["--dummy", self.spec.dummy]
        self._spawn(name, [sys.executable, "-m", "app.cli", *args], self._app_env())

    def start_api(self, name: str, port: int | None = None, wait: bool = True) -> None:
        """A `switchboard serve` process (on ``port``: a restart; else a free one); waits for /healthz."""
        port = port or free_port()
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self._spawn(name, cmd, self._app_env())
        if port not in self.api_ports:
            self.api_ports.append(port)
            self.api_port_of[name] = port
        if wait:
            self.wait_api(name)

    def wait_api(self, name: str, timeout: float = 180) -> None:
        """Wait until the API node answers /healthz with 200."""
        url = f"http://127.0.0.1:{self.api_port_of[name]}/healthz"
        _wait(lambda: urllib.request.urlopen(url, timeout=5).status == 200, name, timeout)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one process we started (SIGKILL to simulate a crash)."""
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _app_env(self) -> dict[str, str]:
        return {
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.node_database_url,
            "SWITCHBOARD_SECRET_KEY": "load-test-secret-key-0123456789",
            "SWITCHBOARD_ENVIRONMENT": "test",
            "SWITCHBOARD_MESSAGES_PER_MINUTE": "1000",
            # Every simulated customer connects from loopback: one address, so lift its budgets.
            "SWITCHBOARD_IP_MESSAGES_PER_MINUTE": "1000000",
            "SWITCHBOARD_SYSTEM_MESSAGES_PER_MINUTE": "1000000",
            "SWITCHBOARD_IP_CONVERSATIONS_PER_MINUTE": "1000000",
            "SWITCHBOARD_SYSTEM_CONVERSATIONS_PER_MINUTE": "1000000",
            "SWITCHBOARD_MAX_QUEUE_DEPTH": str(self.spec.max_queue_depth),
            "SWITCHBOARD_MAX_BATCH_SIZE": str(self.spec.worker_max_jobs),
            "SWITCHBOARD_KV_CACHE_TOKENS": "32768",
            **{
                f"SWITCHBOARD_ORPHAN_SWEEP_{name.upper()}_S": str(value)
                for name, value in (
                    ("min_age", self.spec.sweep_min_age_s),
                    ("interval", self.spec.sweep_interval_s),
                )
                if value is not None
            },
        }

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        log = (self.spec.log_dir / f"{name}.log").open("ab")
        full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", **env}
        self.processes[name] = subprocess.Popen(
            cmd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(REPO_ROOT),
            start_new_session=True,
        )

    def _create_database(self) -> str:
        from sqlalchemy import create_engine, text

        from adapters.intents import INTENTS
        from app.db.models import Base  # noqa: F401 - the models the migration creates
        from app.db.session import session_factory, upgrade_database
        from app.decoding.policy import DecodingPolicy
        from app.decoding.store import save_policy

        admin = create_engine(self.spec.pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self._db_name}"'))
        admin.dispose()
        url = self.spec.pg_admin_url.rsplit("/", 1)[0] + f"/{self._db_name}"
        upgrade_database(url)  # once, before the API nodes start (they would race to migrate)
        with session_factory(url)() as session:
            for intent in INTENTS:
                policy = DecodingPolicy(strategy="greedy", max_new_tokens=self.spec.max_new_tokens)
                save_policy(session, intent, policy, None, "load run")
        return url

    def _drop_database(self) -> None:
        from sqlalchemy import create_engine, text

        from app.db.session import get_engine

        get_engine.cache_clear()
        admin = create_engine(self.spec.pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._db_name}" WITH (FORCE)'))
        admin.dispose()
        self.database_url = ""
