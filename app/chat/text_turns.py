"""A text completion's turn (/v1/completions): the prompt stored as the customer's message, its
continuation generated from the prompt as written.

Unlike a chat turn there is no chat template, no system prompt and no grounding: the caller asked
for its text to be continued by the adapter it named, so that is what the engine sees. It is stored
like every API call (channel `api`, in the caller's thread when it names one), so staff see it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from app.chat.api_threads import open_thread, peek_thread, store_sent
from app.chat.conversations import BOT_SILENT, assistant_row
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.service import ChatService
from app.chat.stateless import ConversationWithStaff, ReplyNotStarted, StartedReply
from app.chat.turns import PlanFor, Sessions

TEXT_PROMPT = "text"  # the row's decoding record: how the prompt was built


@dataclass(frozen=True)
class StoredTextTurn:
    """The conversation, the reply row (the customer's with ``silent``) and the plan."""

    conversation_id: str
    message_id: int
    plan: ReplyPlan
    silent: bool = False


def store_text_turn(
    sessions: Sessions, planner: ReplyPlanner, prompt: str, job_id: str, plan_for: PlanFor, thread: str | None
) -> StoredTextTurn:
    """Plan (it may refuse before anything is stored), store the prompt and the reply row."""
    with sessions() as session:
        prior = peek_thread(session, thread)
        plan = plan_for(planner, session, prior.current_intent if prior else None)
        plan = dataclasses.replace(plan, decoding={**plan.decoding, "prompt": TEXT_PROMPT})
        conv = open_thread(session, thread, "api")
        customer = store_sent(session, conv.id, [{"role": "user", "content": prompt}])
        if conv.status in BOT_SILENT:
            return StoredTextTurn(conv.id, customer.id, plan, silent=True)
        row = assistant_row(conv.id, customer.id, job_id, plan)
        session.add(row)
        conv.current_intent = plan.intent
        session.commit()
        return StoredTextTurn(conv.id, row.id, plan)


async def _ignore(_: dict[str, Any]) -> None:
    return None


async def start_text_reply(
    service: ChatService, prompt: str, plan_for: PlanFor, thread: str | None
) -> StartedReply:
    """Store the turn and launch the continuation; ConversationWithStaff / ReplyNotStarted as a chat turn."""
    job_id = uuid.uuid4().hex
    turn = await asyncio.to_thread(
        store_text_turn, service.sessions, service.planner, prompt, job_id, plan_for, thread
    )
    service.metrics.messages.labels("customer", "api").inc()
    if turn.silent:
        event = {"type": "customer_message", "message_id": turn.message_id, "text": prompt}
        await service.hub.publish(turn.conversation_id, event)
        raise ConversationWithStaff(turn.conversation_id)
    problem = await service.launch(
        turn.conversation_id, turn.message_id, job_id, turn.plan, [], _ignore, text_prompt=prompt
    )
    if problem is not None:
        raise ReplyNotStarted(problem)
    return StartedReply(job_id, [], turn.conversation_id, turn.plan)
