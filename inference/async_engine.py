"""AsyncEngine: LLMEngine's step loop in a background thread, streamed into asyncio queues."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from inference.engine import LLMEngine
from inference.request import GenerationRequest, TokenEvent

log = logging.getLogger(__name__)


class AsyncEngine:
    """Runs LLMEngine.step in a background thread and streams events into asyncio queues."""

    def __init__(self, core: LLMEngine, idle_wait: float = 0.05) -> None:
        self.core = core
        self._idle_wait = idle_wait
        self._inbox: queue.Queue[Callable[[], object]] = queue.Queue()
        self._queues: dict[str, asyncio.Queue[TokenEvent]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    async def start(self) -> None:
        """Start the step loop (idempotent)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="switchboard-engine", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Cancel everything in flight and stop the step loop."""
        if self._thread is None:
            return
        self._stopping.set()
        self._inbox.put(lambda: None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        # The loop is gone, so this thread may drive the engine: end every open stream cleanly.
        while not self._inbox.empty():
            self._inbox.get_nowait()
        self.core.abort_all()
        for event in self.core.step():
            events = self._queues.get(event.request_id)
            if events is not None:
                events.put_nowait(event)

    def generate(self, request: GenerationRequest) -> AsyncIterator[TokenEvent]:
        """Submit ``request`` and return its event stream; bad input raises here, at submit."""
        if self._loop is None:
            raise RuntimeError("AsyncEngine.start() has not been awaited")
        self.core.adapters.get(request.adapter)  # UnknownAdapterError now, not mid-stream
        if request.request_id in self._queues:
            raise ValueError(f"request_id {request.request_id!r} is already streaming")
        if request.arrival_time is None:  # queueing for the step thread counts towards TTFT
            request = dataclasses.replace(request, arrival_time=self.core.config.clock())
        events: asyncio.Queue[TokenEvent] = asyncio.Queue()
        self._queues[request.request_id] = events
        self._inbox.put(lambda: self._add(request))
        return self._stream(request.request_id, events)

    async def _stream(self, request_id: str, events: asyncio.Queue[TokenEvent]) -> AsyncIterator[TokenEvent]:
        finished = False
        try:
            while not finished:
                event = await events.get()
                finished = event.finished
                yield event
        finally:
            self._queues.pop(request_id, None)
            if not finished:  # the consumer went away: stop spending compute on it
                self._inbox.put(lambda: self.core.abort(request_id))

    def cancel(self, request_id: str) -> None:
        """Abort a request; its stream ends with a 'cancelled' event."""
        self._inbox.put(lambda: self.core.abort(request_id))

    def load_adapter(self, name: str, path: str | Path) -> None:
        """Load or replace an adapter while the engine runs (thread-safe)."""
        self.core.load_adapter(name, path)

    def unload_adapter(self, name: str) -> None:
        """Unload an adapter while the engine runs; requests using it finish normally."""
        self.core.unload_adapter(name)

    @property
    def tokenizer(self) -> Any:
        """The tokenizer of the engine's model (prompts are built with it)."""
        return self.core.tokenizer

    @property
    def max_positions(self) -> int:
        """The model's context length: prompt + new tokens must fit in it."""
        return self.core.max_positions

    def adapters(self) -> list[str]:
        """Names of the loaded adapters."""
        return self.core.adapters.names()

    def metrics(self) -> dict[str, Any]:
        """Plain-data metrics snapshot."""
        return self.core.metrics()

    def to_prometheus(self) -> str:
        """Prometheus text exposition (safe from any thread)."""
        return self.core.to_prometheus()

    def _add(self, request: GenerationRequest) -> None:
        try:
            self.core.add_request(request)
        except ValueError as exc:  # raced with an unload, or a limit check: fail just this stream
            self._deliver(TokenEvent(request.request_id, 0, (), "", True, "error", str(exc)))

    def _deliver(self, event: TokenEvent) -> None:
        events = self._queues.get(event.request_id)
        if events is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(events.put_nowait, event)

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = None if self.core.has_unfinished() else self._idle_wait
            try:
                command = self._inbox.get(timeout=wait) if wait else self._inbox.get_nowait()
            except queue.Empty:
                command = None
            if command is not None:
                self._safely(command)
                continue  # drain every pending command before the next step
            if not self.core.has_unfinished():
                continue
            try:
                events = self.core.step()
            except Exception as exc:  # keep serving: fail what was in flight, not the process
                log.exception("engine step failed")
                events = self.core.fail_all(str(exc))
            for event in events:
                self._deliver(event)
            if not events and self.core.last_step_tokens == 0:
                # Work is queued but the policy held it back (e.g. a time window): do not spin hot,
                # but wake at once for a new command.
                try:
                    self._safely(self._inbox.get(timeout=self._idle_wait / 10))
                except queue.Empty:
                    pass

    def _safely(self, command: Callable[[], object]) -> None:
        try:
            command()
        except Exception:
            log.exception("engine command failed")
