"""A customer that keeps going through faults, as the chat page does: reconnect, resume, re-send.

On a dropped socket (its API node killed) or a silent one (a stall) the customer reconnects to the
next API node with its token and the last frame number it saw of the reply in flight, so the
reply resumes at the exact token. A message the server has not acknowledged (`stored`) is sent
again with the same client id, which the server stores at most once; "nothing was saved" (the
database is down) is retried the same way. A reply that finished while the customer was away is
read from the history the welcome frame carries. Some customers walk away at their first drop
instead (``walks_away``): their replies are then recorded by nobody but the orphan sweep.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

FINAL = ("done", "interrupted", "error")


@dataclass
class ChaosExchange:
    """One message and what became of its reply, as the customer saw it."""

    text: str
    client_id: str
    job_id: str | None = None
    last_seq: int = -1
    parts: list[str] = field(default_factory=list)
    outcome: str | None = None  # done | error | interrupted (streamed or read from the history) | gave_up
    seen_via: str | None = None  # "stream" or "history"
    reconnects: int = 0
    resends: int = 0
    no_reply_checks: int = 0  # reconnects that found the message stored and no reply row yet
    latency_s: float | None = None

    @property
    def reply(self) -> str:
        """The reply text as streamed (token deltas and the final frame's rest)."""
        return "".join(self.parts)


@dataclass
class ChaosCustomer:
    """One simulated customer; ``ports`` are every API node's, tried in turn from its own."""

    index: int
    ports: list[int]
    walks_away: bool = False
    token: str | None = None
    conversation_id: str | None = None
    exchanges: list[ChaosExchange] = field(default_factory=list)
    left: bool = False
    connect_failures: int = 0

    def port(self, attempt: int) -> int:
        """Round robin from this customer's own node."""
        return self.ports[(self.index + attempt) % len(self.ports)]


class Dropped(Exception):
    """The socket went away or fell silent: reconnect."""


async def exchange(customer: ChaosCustomer, ex: ChaosExchange, stall_s: float, deadline: float) -> None:
    """Send ``ex`` and follow its reply to a final state through any number of reconnects."""
    started, attempt = time.monotonic(), 0
    while ex.outcome is None:
        if time.monotonic() > deadline:
            ex.outcome = "gave_up"
            return
        try:
            await _attempt(customer, ex, customer.port(attempt), stall_s)
        except Exception as exc:  # noqa: BLE001 - refused, reset, 503 at the handshake: all mean retry
            if not isinstance(exc, Dropped):
                customer.connect_failures += 1
            if customer.walks_away and ex.job_id is not None:
                customer.left = True  # gone, reply and all: only the sweep can finish its row
                ex.outcome = "left"
                return
            attempt += 1
            ex.reconnects += 1
            await asyncio.sleep(min(2.0, 0.25 * attempt))
    ex.latency_s = time.monotonic() - started


async def _attempt(customer: ChaosCustomer, ex: ChaosExchange, port: int, stall_s: float) -> None:
    import websockets
    from websockets.exceptions import ConnectionClosed

    try:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/chat", open_timeout=stall_s, max_size=2**22
        ) as ws:
            await _converse(ws, customer, ex, stall_s)
    except ConnectionClosed as exc:
        raise Dropped(str(exc)) from exc


async def _recv(ws: Any, stall_s: float) -> dict[str, Any]:
    try:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), stall_s))
    except TimeoutError as exc:
        raise Dropped("no frame for too long") from exc
    return frame


async def _hello(ws: Any, customer: ChaosCustomer, ex: ChaosExchange, stall_s: float) -> bool:
    """Open the conversation, resuming the reply in flight; whether the history settled it."""
    while True:
        asked = ex.job_id
        last_seq = {ex.job_id: ex.last_seq} if ex.job_id else {}
        await ws.send(json.dumps({"type": "hello", "token": customer.token, "last_seq": last_seq}))
        welcome = await _recv(ws, stall_s)
        if welcome.get("type") != "welcome":  # e.g. the database is down: nothing opened, try again
            raise Dropped(f"no welcome: {welcome.get('message', welcome.get('type'))}")
        customer.token, customer.conversation_id = welcome["token"], welcome["conversation_id"]
        if _settled_from_history(ex, welcome["history"]):
            return True
        if ex.job_id == asked:
            return False
        # The history named the reply in flight: hello again with it, so the server streams it.


async def _converse(ws: Any, customer: ChaosCustomer, ex: ChaosExchange, stall_s: float) -> None:
    if await _hello(ws, customer, ex, stall_s):
        return
    if ex.job_id is None:
        await _send(ws, ex)
    while True:
        frame = await _recv(ws, stall_s)
        kind, job = frame.get("type"), frame.get("job_id")
        if kind == "stored" and frame.get("client_id") == ex.client_id:
            if not job:  # stored by an earlier try and answered already: the history has the reply
                raise Dropped("duplicate: read the reply from the history")
            ex.job_id = job
        elif kind == "token" and job == ex.job_id and frame["seq"] > ex.last_seq:
            ex.parts.append(frame["text"])
            ex.last_seq = frame["seq"]
        elif kind == "done" and job == ex.job_id:
            ex.parts.append(frame.get("text") or "")
            ex.outcome, ex.seen_via = "done", "stream"
            return
        elif kind == "error" and job is not None and job == ex.job_id:
            message = str(frame.get("message"))
            if "no longer" in message or "could not be saved yet" in message:  # the history will have it
                raise Dropped("reply finished while away, or not stored yet")
            ex.outcome, ex.seen_via = "error", "stream"
            return
        elif kind == "error" and job is None:  # not stored (database down): same client id again
            await asyncio.sleep(1.0)
            ex.resends += 1
            await _send(ws, ex)


async def _send(ws: Any, ex: ChaosExchange) -> None:
    await ws.send(json.dumps({"type": "message", "text": ex.text, "client_id": ex.client_id}))


def _settled_from_history(ex: ChaosExchange, history: list[dict[str, Any]]) -> bool:
    """Whether the history already holds this message's final reply (then the exchange is over)."""
    mine = [i for i, m in enumerate(history) if m["role"] == "customer" and m["text"] == ex.text]
    if not mine:
        ex.job_id = None  # not stored (or lost): sent again below, with the same client id
        return False
    # One message at a time: the first bot row after the message is its reply, whichever job made it.
    reply = next((m for m in history[mine[0] + 1 :] if m["role"] == "assistant"), None)
    if reply is None:  # stored, no reply row: its node is slow, or died (or lost the database) between
        ex.no_reply_checks += 1
        if ex.no_reply_checks > 3:
            ex.outcome, ex.seen_via = "no_reply", "history"
            return True
        ex.job_id, ex.last_seq, ex.parts = None, -1, []  # sent again: a reply still owed is started
        return False
    if reply["job_id"] != ex.job_id:  # another try's job (or one we never heard of): from its start
        ex.job_id, ex.last_seq, ex.parts = reply["job_id"], -1, []
    if reply["status"] in FINAL:
        ex.outcome, ex.seen_via = reply["status"], "history"
        ex.parts = [reply["text"] or ""]
        return True
    return False
