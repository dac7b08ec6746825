"""InboxDesk: assign and resolve with the customer told and every staff console notified live."""

from __future__ import annotations

import asyncio
from typing import Any

from app.chat.desk import ConversationDesk
from app.db.models import StaffUser
from app.inbox import actions

RESOLVED_TEXT = "Our team marked this conversation as resolved. How did we do?"


class InboxDesk:
    """Staff actions over a conversation desk (the app's ChatService): database, then hub events."""

    def __init__(self, desk: ConversationDesk) -> None:
        self.desk = desk

    async def assign(self, conversation_id: str, assignee_id: int) -> dict[str, Any]:
        """Give the conversation to a staff member; the bot stops and the customer hears who answers."""
        conv_id, name, status = await asyncio.to_thread(self._assign, conversation_id, assignee_id)
        await self.desk.stop(conv_id)
        text = f"{name} from our team will answer you here."
        await self.desk.hub.publish(conv_id, {"type": "status", "status": status, "text": text})
        await self.desk.notify_inbox("assigned", conv_id, assigned_to=name)
        return {"id": conv_id, "status": status, "assigned_to": name, "assigned_staff_id": assignee_id}

    def _assign(self, conversation_id: str, assignee_id: int) -> tuple[str, str, str]:
        with self.desk.sessions() as session:
            conv, assignee = actions.assign(session, conversation_id, assignee_id)
            return conv.id, assignee.username, conv.status

    async def resolve(self, conversation_id: str, user: StaffUser) -> dict[str, Any]:
        """Close the conversation as solved; the customer's page asks for a CSAT rating."""
        status = await asyncio.to_thread(self._resolve, conversation_id, user)
        await self.desk.stop(conversation_id)
        event = {"type": "status", "status": status, "text": RESOLVED_TEXT, "csat": True}
        await self.desk.hub.publish(conversation_id, event)
        await self.desk.notify_inbox("resolved", conversation_id)
        return {"id": conversation_id, "status": status}

    def _resolve(self, conversation_id: str, user: StaffUser) -> str:
        with self.desk.sessions() as session:
            return actions.resolve(session, conversation_id, user).status
