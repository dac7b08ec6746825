"""The customer's side of the desk: rate a resolved conversation (CSAT), leave an email when nobody is in.

The chat page sends its conversation token as a bearer token (no cookie, so no CSRF to guard).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.auth.deps import SessionDep
from app.chat.tokens import InvalidToken
from app.decoding.policy import field_errors
from app.inbox.events import TOPIC, inbox_event
from app.inbox.queue import customer_label
from app.inbox.satisfaction import ContactEmail, CsatAnswer, RatingNotAsked, leave_email, open_asks, rate
from app.staff.transcript import ConversationNotFound, require_conversation

router = APIRouter(prefix="/api/chat", tags=["chat"])


def conversation_of(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The conversation the bearer token opens; 401 without a valid one."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "send the chat's conversation token as 'Authorization: Bearer <token>'")
    try:
        return str(request.app.state.customer_tokens.verify(token))
    except InvalidToken as exc:
        raise HTTPException(401, str(exc)) from None


ConversationDep = Annotated[str, Depends(conversation_of)]


def _invalid(exc: ValidationError) -> JSONResponse:
    return JSONResponse({"detail": "invalid input", "errors": field_errors(exc)}, status_code=422)


@router.get("/desk")
def desk(session: SessionDep, conversation_id: ConversationDep) -> dict[str, bool]:
    """What the page should still ask for (a rating after a resolve, an email while nobody is in)."""
    try:
        return open_asks(session, conversation_id)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/csat", response_model=None)
def post_csat(session: SessionDep, conversation_id: ConversationDep, body: Any = Body(...)) -> Any:
    """Store the customer's 1-5 rating (and comment) of a resolved conversation; the latest counts."""
    try:
        answer = CsatAnswer.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        return _invalid(exc)
    try:
        row = rate(session, conversation_id, answer)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except RatingNotAsked as exc:
        raise HTTPException(409, str(exc)) from None
    return {"score": row.score, "comment": row.comment}


def _store_contact(session: Any, conversation_id: str, contact: ContactEmail) -> tuple[str, str]:
    email = leave_email(session, conversation_id, contact)
    return email, customer_label(require_conversation(session, conversation_id))


@router.post("/contact", response_model=None)
async def post_contact(
    request: Request, session: SessionDep, conversation_id: ConversationDep, body: Any = Body(...)
) -> Any:
    """Store the email the customer leaves so the team can answer outside the chat."""
    try:
        contact = ContactEmail.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        return _invalid(exc)
    try:
        email, label = await asyncio.to_thread(_store_contact, session, conversation_id, contact)
    except ConversationNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    await request.app.state.hub.publish(TOPIC, inbox_event("email", conversation_id, customer=label))
    return {"email": email}
