"""A worker's /metrics: its engine's (vLLM names) and its own queue figures, over a small HTTP server.

API nodes with workers hold no engine, so the engine's figures are only visible where it runs:
each `switchboard worker` serves ``GET /metrics`` on ``--metrics-port`` for Prometheus to scrape
(compose.yaml's ``prometheus`` service finds every worker replica by DNS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 8192  # a scrape's request line and headers; anything longer is not a scraper


class WorkerMetrics:
    """The worker's own series, in a private registry (several workers may share a test process)."""

    def __init__(self, running: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs_running = Gauge("switchboard_worker_jobs_running", "Jobs this worker runs now", registry=r)
        self.jobs_running.set_function(running)
        self.jobs = Counter(
            "switchboard_worker_jobs", "Jobs this worker ended, by outcome", ["outcome"], registry=r
        )
        self.reclaimed = Counter(
            "switchboard_worker_jobs_reclaimed", "Jobs taken over from a dead worker", registry=r
        )

    def render(self) -> str:
        """Prometheus text of the worker's own series."""
        return generate_latest(self.registry).decode()


class MetricsServer:
    """Answers ``GET /metrics`` with ``render()``; anything else gets 404. One request per connection."""

    def __init__(self, render: Callable[[], str], host: str, port: int) -> None:
        self.render = render
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen; the bound port (``port`` 0 picks a free one)."""
        self._server = await asyncio.start_server(self._answer, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("worker metrics on http://%s:%d/metrics", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, path = (head.split(b"\r\n", 1)[0].split(b" ") + [b"", b""])[:2]
            if len(head) > MAX_REQUEST_BYTES:
                status, body, kind = "431 Request Header Fields Too Large", b"", "text/plain"
            elif method == b"GET" and path.split(b"?", 1)[0] == b"/metrics":
                status, body, kind = "200 OK", self.render().encode(), CONTENT_TYPE_LATEST
            else:
                status, body, kind = "404 Not Found", b"only GET /metrics here\n", "text/plain"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # a client that went away or never sent a request: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
