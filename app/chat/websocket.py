"""The customer websocket `/ws/chat`: one ChatSocket per connection, speaking app.chat.protocol."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocketState

from app.chat import conversations as convs
from app.chat.desk import OpenedConversation
from app.chat.protocol import (
    FIRST_BACKEND_SEQ,
    Feedback,
    Handoff,
    Hello,
    ProtocolError,
    Resume,
    SendMessage,
    Stop,
    error_frame,
    job_frame,
    parse_frame,
)
from app.chat.service import ChatService
from app.chat.tokens import InvalidToken
from app.limits.chat_limits import RateLimited
from app.widget.embedding import origin_refusal
from app.widget.sites import get_site

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])
HUB_TYPES = ("staff_message", "status")
REPLY_NOT_STORED = (
    "The chat cannot reach its database right now, so this reply could not be saved yet; "
    "it will be in the conversation when you come back."
)
DATABASE_DOWN = "the chat cannot reach its database right now; nothing was saved, please try again shortly"


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    """Customer chat: hello, then messages; replies stream as numbered events.

    ``?site=KEY`` names the widget's site. A browser page on another origin is refused unless that
    site allows its origin: accepted, then closed with 1008 and the reason, so the page can say why.
    """
    await ws.accept()
    site_key = ws.query_params.get("site") or None
    try:
        refused = await asyncio.to_thread(_origin_refusal, ws, site_key)
    except SQLAlchemyError:
        log.warning("database error checking a chat socket's site", exc_info=True)
        await ws.close(code=1013, reason=close_reason(DATABASE_DOWN))
        return
    if refused is not None:
        ws.app.state.metrics.errors.labels("origin").inc()
        await ws.close(code=1008, reason=close_reason(refused))
        return
    await ChatSocket(ws, site_key).run()


def _origin_refusal(ws: WebSocket, site_key: str | None) -> str | None:
    site = None
    if site_key:
        with ws.app.state.sessions() as session:
            site = get_site(session, site_key)
    own = ws.app.state.settings.own_origins
    return origin_refusal(site, site_key, ws.headers.get("origin"), ws.headers.get("host"), own)


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a websocket close frame can carry (whole characters)."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


class ChatSocket:
    """One customer connection: receive loop, per-job stream tasks, hub forwarding."""

    def __init__(self, ws: WebSocket, site_key: str | None = None) -> None:
        self.ws = ws
        self.site_key = site_key
        state = ws.app.state
        self.service: ChatService = state.chat
        self.metrics = state.metrics
        self.settings = state.settings
        self.tokens = state.customer_tokens
        self.limits = state.chat_limits
        self.ip = ws.client.host if ws.client else "unknown"
        self.conversation_id: str | None = None
        self.streams: dict[str, asyncio.Task[None]] = {}
        self.hub_task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self.open = True

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame; a failed send means the client is gone (treated as a disconnect)."""
        if not self.open:
            return
        async with self._send_lock:
            try:
                await self.ws.send_json(frame)
            except Exception:
                self.open = False

    async def run(self) -> None:
        """Receive frames until the client leaves, then release its streams (grace-period cancel)."""
        metrics = self.metrics
        metrics.ws_connections.inc()
        try:
            while self.open:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text") if message.get("text") is not None else message.get("bytes")
                try:
                    frame = parse_frame(raw, self.settings.max_frame_bytes, self.settings.max_message_chars)
                    await self.dispatch(frame)
                except (ProtocolError, InvalidToken, convs.ConversationError, RateLimited) as exc:
                    metrics.errors.labels("protocol").inc()
                    await self.send(error_frame(str(exc)))
                except SQLAlchemyError:  # the database is down: say so, keep the socket for a retry
                    log.warning("database error on the chat socket", exc_info=True)
                    metrics.errors.labels("database").inc()
                    await self.send(error_frame(DATABASE_DOWN))
        except Exception:  # noqa: BLE001 - a broken connection ends this socket, never the server
            log.debug("chat socket closed with an error", exc_info=True)
        finally:
            self.open = False
            metrics.ws_connections.dec()
            for task in [*self.streams.values(), self.hub_task]:
                if task is not None:
                    task.cancel()
            if self.ws.client_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await self.ws.close()

    async def dispatch(self, frame: object) -> None:
        """Act on one valid frame."""
        if isinstance(frame, Hello):
            await self.hello(frame)
            return
        if self.conversation_id is None:
            raise ProtocolError("send a hello frame first")
        cid = self.conversation_id
        if isinstance(frame, SendMessage):
            try:
                await asyncio.to_thread(self.limits.message, cid, self.ip)
            except RateLimited as exc:
                await self.service.store_over_limit(cid, frame.text, frame.client_id, self.send, exc)
                return
            job_id = await self.service.send(cid, frame.text, frame.client_id, self.send)
            if job_id is not None:
                self.stream(job_id, -1)
        elif isinstance(frame, Stop):
            stopped = await self.service.stop(cid)
            await self.send({"type": "status", "status": "stopping", "jobs": stopped})
        elif isinstance(frame, Feedback):
            await self.service.feedback(cid, frame.message_id, frame.rating)
            await self.send({"type": "status", "status": "feedback_saved", "message_id": frame.message_id})
        elif isinstance(frame, Handoff):
            await self.service.request_handoff(cid)
        elif isinstance(frame, Resume):
            self.resume(frame.job_id, frame.after)

    async def hello(self, frame: Hello) -> None:
        """Open the token's conversation (or a new one), send history, resume replies in flight."""
        opened, token = await self._open(frame)
        cid = opened.conversation_id
        if cid != self.conversation_id:  # a second hello may switch conversations: drop the old one's feeds
            for task in [*self.streams.values(), self.hub_task]:
                if task is not None:
                    task.cancel()
            self.hub_task = asyncio.create_task(self._forward_hub(cid))
        self.conversation_id = cid
        await self.send(
            {
                "type": "welcome",
                "token": token,
                "conversation_id": cid,
                "status": opened.status,
                "history": opened.history,
            }
        )
        local = self.service.jobs_of(cid)
        elsewhere = await self.service.streaming_elsewhere(cid, list(frame.last_seq))
        for job_id in local:
            self.resume(job_id, frame.last_seq.get(job_id, -1))
        for job_id in elsewhere:  # started on another API node: its events are in the shared backend
            self.stream(job_id, frame.last_seq[job_id])

    async def _open(self, frame: Hello) -> tuple[OpenedConversation, str]:
        """The conversation the hello may open (checked against its token), and its token."""
        if frame.token:
            cid = self.tokens.verify(frame.token)
            if frame.conversation_id and frame.conversation_id != cid:
                raise convs.ConversationError("this token does not open that conversation")
            return await self.service.open(cid), frame.token
        if frame.conversation_id:
            raise convs.ConversationError("a conversation can only be opened with its token")
        await asyncio.to_thread(self.limits.new_conversation, self.ip)  # no way around the limits
        opened = await self.service.open(None, site_key=self.site_key)
        return opened, self.tokens.issue(opened.conversation_id)

    def resume(self, job_id: str, after: int) -> None:
        """Stream the rest of a job after the client's last frame seq (nothing twice)."""
        if job_id not in self.service.jobs_of(self.conversation_id or ""):
            # Finished or unknown: the history (or a reload) has the final text.
            asyncio.get_running_loop().create_task(
                self.send(
                    error_frame(
                        "that reply is no longer streaming; its final text is in the history", job_id=job_id
                    )
                )
            )
            return
        self.stream(job_id, after)

    def stream(self, job_id: str, after_frame_seq: int) -> None:
        """Start (or restart) forwarding a job's events to this socket."""
        old = self.streams.pop(job_id, None)
        if old is not None:
            old.cancel()
        after = max(after_frame_seq - FIRST_BACKEND_SEQ, -1)
        self.streams[job_id] = asyncio.create_task(self._pump(job_id, after))

    async def _pump(self, job_id: str, after: int) -> None:
        try:
            message_id = await asyncio.to_thread(self.service.message_id_for, job_id)
            # aclosing: a socket that leaves mid-reply stops watching the job now, not when collected
            async with contextlib.aclosing(self.service.stream(job_id, after, message_id)) as events:
                async for event in events:
                    frame = job_frame(event, message_id)
                    if frame["type"] == "done" and message_id is not None:
                        frame |= await self._done_notes(message_id)
                    await self.send(frame)
                    if not self.open:
                        break
        except KeyError:
            await self.send(error_frame("that reply is no longer available", job_id=job_id))
        except SQLAlchemyError:  # the reply could not be stored (yet): no `done` that is not true
            log.warning("reply %s not streamed to the end: database unreachable", job_id)
            self.metrics.errors.labels("database").inc()
            await self.send(error_frame(REPLY_NOT_STORED, job_id=job_id))
        finally:
            if self.streams.get(job_id) is asyncio.current_task():
                del self.streams[job_id]

    async def _done_notes(self, message_id: int) -> dict[str, Any]:
        """The `done` frame's sources and hand-off offer; without them if the database is away."""
        try:
            notes: dict[str, Any] = await asyncio.to_thread(self.service.done_notes, message_id)
            return notes
        except SQLAlchemyError:
            log.warning("done notes of reply %s unavailable: database unreachable", message_id)
            return {}

    async def _forward_hub(self, conversation_id: str) -> None:
        async with self.service.subscribe(conversation_id) as events:
            async for event in events:
                if event.get("type") in HUB_TYPES:
                    await self.send(event)
