"""Conversation and staff work every channel shares: open, feedback, hand-off, staff take-over and replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.chat import conversations as convs
from app.chat.conversations import get_conversation
from app.chat.handoff import handoff_event
from app.chat.hub import ConversationHub
from app.chat.metrics import AppMetrics
from app.chat.over_limit import Emit, store_over_limit
from app.db.models import Conversation, StaffUser
from app.inbox.availability import availability
from app.inbox.events import TOPIC as INBOX_TOPIC
from app.inbox.events import handoff_notice, inbox_event
from app.limits.chat_limits import RateLimited
from app.staff import handoff

WILL_ANSWER = "A member of our team will answer here."


@dataclass(frozen=True)
class HandoffState:
    """Where a conversation stands after staff took it over or handed it back."""

    conversation_id: str
    status: str


@dataclass(frozen=True)
class OpenedConversation:
    """A conversation a channel has opened: its id, history and status."""

    conversation_id: str
    history: list[dict[str, Any]]
    status: str


class ConversationDesk:
    """The stored side of a conversation; ChatService adds the bot's replies on top."""

    def __init__(self, sessions: sessionmaker[Session], hub: ConversationHub, metrics: AppMetrics) -> None:
        self.sessions = sessions
        self.hub = hub
        self.metrics = metrics

    async def stop(self, conversation_id: str) -> list[str]:
        """Cancel the conversation's bot replies in flight; the job ids (none here: no bot)."""
        return []

    async def open(
        self, conversation_id: str | None, channel: str = "web", site_key: str | None = None
    ) -> OpenedConversation:
        """Open a conversation (None: a new one, from the widget of ``site_key`` if given);
        ConversationError when it does not exist."""
        return await asyncio.to_thread(self._open, conversation_id, channel, site_key)

    def _open(self, conversation_id: str | None, channel: str, site_key: str | None) -> OpenedConversation:
        with self.sessions() as session:
            if conversation_id is None:
                conversation_id = convs.create_conversation(session, channel, site_key).id
            status = get_conversation(session, conversation_id).status
            return OpenedConversation(conversation_id, convs.history(session, conversation_id), status)

    async def feedback(self, conversation_id: str, message_id: int, rating: int) -> None:
        """Store the customer's rating of one reply."""
        await asyncio.to_thread(self._in_session, convs.set_feedback, conversation_id, message_id, rating)

    async def request_handoff(self, conversation_id: str) -> str:
        """Ask for a person; every socket of the conversation hears the new status. The status."""
        status: str = await asyncio.to_thread(self._in_session, convs.request_handoff, conversation_id)
        await self.announce_handoff(conversation_id, handoff_event(status))
        return status

    async def announce_handoff(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Publish a hand-off status event: staff consoles are notified live, and the customer is told
        when to expect an answer (and offered the email form) when nobody can answer now."""
        if event.get("status") == "pending":
            found, notice = await asyncio.to_thread(self._in_session, handoff_notice, conversation_id)
            event = {**event, **found.fields()}
            await self.hub.publish(INBOX_TOPIC, {**notice, "away": not found.live})
        await self.hub.publish(conversation_id, event)

    async def notify_inbox(self, kind: str, conversation_id: str, **fields: Any) -> None:
        """Tell every staff console (on every node) that the conversation changed."""
        await self.hub.publish(INBOX_TOPIC, inbox_event(kind, conversation_id, **fields))

    async def waiting_notice(self, conversation_id: str, status: str) -> dict[str, Any]:
        """The status frame for a customer writing while a person is asked for or has the chat."""
        frame: dict[str, Any] = {"type": "status", "status": status, "text": WILL_ANSWER}
        if status == "pending":
            found = await asyncio.to_thread(self._in_session, availability)
            if not found.live:
                frame |= {**found.fields(), "text": found.reminder()}
        return frame

    async def store_over_limit(
        self, conversation_id: str, text: str, client_id: str | None, emit: Emit, exc: RateLimited
    ) -> int:
        """A message over the rate limit: stored as `rate_limited`, never answered; the row id."""
        sessions, metrics = self.sessions, self.metrics
        return await store_over_limit(sessions, metrics, conversation_id, text, client_id, emit, exc)

    def subscribe(self, conversation_id: str) -> Any:
        """The conversation's hub events (staff messages, status changes) while the context is open."""
        return self.hub.subscribe(conversation_id)

    def _in_session(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(session, *args)`` in a fresh session (called in a worker thread)."""
        with self.sessions() as session:
            return fn(session, *args)

    # -- staff -------------------------------------------------------------------------------------
    async def take_over(self, conversation_id: str, user: StaffUser) -> HandoffState:
        """A staff member takes the conversation: the bot stops mid-reply and the customer is told."""
        state = await asyncio.to_thread(self._handoff, handoff.take_over, conversation_id, user)
        await self.stop(state.conversation_id)
        text = f"{user.username} from our team has joined the chat."
        await self.hub.publish(state.conversation_id, {"type": "status", "status": "human", "text": text})
        await self.notify_inbox("taken", state.conversation_id, assigned_to=user.username)
        return state

    async def staff_reply(self, conversation_id: str, user: StaffUser, text: str) -> dict[str, Any]:
        """Store a staff member's reply and push it into the customer's open chat; the message."""
        message: dict[str, Any] = await asyncio.to_thread(self._staff_reply, conversation_id, user, text)
        await self.hub.publish(conversation_id, {"type": "staff_message", **message})
        return message

    async def hand_back(self, conversation_id: str, user: StaffUser) -> HandoffState:
        """Give the conversation back to the bot; the customer is told."""
        state = await asyncio.to_thread(self._handoff, handoff.hand_back, conversation_id, user)
        text = "You are chatting with our assistant again."
        await self.hub.publish(state.conversation_id, {"type": "status", "status": "active", "text": text})
        await self.notify_inbox("handed_back", state.conversation_id)
        return state

    def _handoff(
        self, change: Callable[..., Conversation], conversation_id: str, user: StaffUser
    ) -> HandoffState:
        with self.sessions() as session:
            conv = change(session, conversation_id, user)
            return HandoffState(conv.id, conv.status)

    def _staff_reply(self, conversation_id: str, user: StaffUser, text: str) -> dict[str, Any]:
        with self.sessions() as session:
            row = handoff.reply_as_staff(session, conversation_id, user, text)
            return {
                "message_id": row.id,
                "text": row.text,
                "staff": user.username,
                "created_at": row.created_at.isoformat(),
            }
