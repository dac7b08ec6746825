"""Turns the bot does not generate: the router's hand-off to a person, and the honest notices for a
message in a language the adapters were not trained on (English only) and for a question about
the state of the customer's own order or account, which only someone who can open their records
can answer (app.knowledge.handoff_offer.needs_account_lookup)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.chat.conversations import request_handoff
from app.chat.planning import ReplyPlan
from app.chat.reply_notes import NOTICE
from app.db.models import Message
from app.knowledge.handoff_offer import needs_account_lookup
from app.router import FALLBACK, RouteDecision

HANDOFF_TEXT = "A member of our team will join this chat shortly."
NON_ENGLISH = "non_english"
NON_ENGLISH_TEXT = (
    "Sorry, I can only answer in English for now. You can write your question in English, "
    "or talk to a member of our team instead."
)
ACCOUNT_LOOKUP = "account_lookup"
ACCOUNT_LOOKUP_TEXT = (
    "I can't see your orders, payments or account from here, so I can't check that myself. "
    "Choose Talk to a person and a member of our team will look it up for you."
)
NOTICE_TEXTS = {NON_ENGLISH: NON_ENGLISH_TEXT, ACCOUNT_LOOKUP: ACCOUNT_LOOKUP_TEXT}
# Between the notice's two sentences when a policy answers the general question: "when will i get
# my money back, you got the parcel on monday" cannot be checked here, but the refund policy's
# "within 5-7 business days after we receive the item" is what the customer needs meanwhile.
POLICY_BRIDGE = "What our policy says: "


def notice_text(reason: str, policy: str = "") -> str:
    """The notice for ``reason``; an account lookup with the ``policy`` quote that answers the
    general question placed before the offer of a person."""
    if reason != ACCOUNT_LOOKUP or not policy:
        return NOTICE_TEXTS[reason]
    cannot, offer = ACCOUNT_LOOKUP_TEXT.split(" Choose ", 1)
    return f"{cannot} {POLICY_BRIDGE}{policy} Choose {offer}"


def notice_reason(decision: RouteDecision, text: str) -> str | None:
    """Why ``text`` gets a fixed notice instead of a generated reply, or None (the model answers)."""
    if decision.reason == NON_ENGLISH:
        return NON_ENGLISH
    return ACCOUNT_LOOKUP if needs_account_lookup(text) else None


def plan_decision(plan: ReplyPlan) -> RouteDecision:
    """The route a plan records, as a RouteDecision (a stateless channel keeps only the plan)."""
    return RouteDecision(
        plan.intent, plan.confidence or 0.0, dict(plan.scores), plan.overridden_from, plan.reason
    )


def route_fields(decision: RouteDecision) -> dict[str, Any]:
    """What a frame says about the route taken (the `route` frame's fields)."""
    return {
        "intent": decision.intent,
        "confidence": decision.confidence,
        "overridden_from": decision.overridden_from,
        "reason": decision.reason,
    }


def handoff_event(status: str, decision: RouteDecision | None = None) -> dict[str, Any]:
    """The status event the chat publishes when a person is asked for (page link or router)."""
    event: dict[str, Any] = {"type": "status", "status": status, "text": HANDOFF_TEXT}
    if decision is not None:
        event["route"] = route_fields(decision)
    return event


def handoff_by_router(
    session: Session, conversation_id: str, customer_id: int, decision: RouteDecision
) -> str:
    """Store the route on the customer's message and mark the conversation pending; the new status."""
    row = session.get(Message, customer_id)
    if row is not None:
        row.intent, row.router_confidence = decision.intent, decision.confidence
        row.router_scores, row.router_overridden_from = dict(decision.scores), decision.overridden_from
    session.commit()
    return request_handoff(session, conversation_id)


def notice_reply(
    conversation_id: str,
    customer_id: int,
    job_id: str,
    decision: RouteDecision,
    reason: str,
    text: str = "",
) -> Message:
    """The stored notice for ``reason`` (a finished assistant row, no adapter); ``text`` when it
    carries a policy (notice_text), else the fixed text."""
    return Message(
        conversation_id=conversation_id,
        role="assistant",
        text=text or NOTICE_TEXTS[reason],
        status="done",
        job_id=job_id,
        reply_to_id=customer_id,
        intent=FALLBACK,
        router_confidence=decision.confidence,
        router_scores=dict(decision.scores),
        router_overridden_from=decision.overridden_from,
        finish_reason="stop",
        decoding={"strategy": NOTICE, "reason": reason},  # how it was made: no model, a fixed text
    )


def notice_frames(
    job_id: str,
    message_id: int,
    decision: RouteDecision,
    reason: str = NON_ENGLISH,
    text: str = "",
    sources: list[dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The `route` and `done` frames of the notice, numbered like a generated reply's; ``text`` and
    ``sources`` when it quotes a policy."""
    return [
        {"type": "route", "job_id": job_id, "seq": 1, "message_id": message_id, "adapter": None,
         **route_fields(decision)},
        {"type": "done", "job_id": job_id, "seq": 2, "message_id": message_id,
         "text": text or NOTICE_TEXTS[reason], "finish_reason": "stop", "tokens": 0, "latency_ms": 0.0,
         "sources": sources or [], "handoff_offer": True},
    ]  # fmt: skip
