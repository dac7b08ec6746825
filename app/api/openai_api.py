"""OpenAI-compatible API: /v1/chat/completions, /v1/completions (streaming SSE or not), /v1/models.

Thin routes: parsing and its 400s in openai_schema, the plan in openai_plan, the reply's shape in
openai_replies, errors in OpenAI's shape in openai_errors; storing goes through ChatService.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.api.openai_errors import ApiError
from app.api.openai_limits import RequestTooLarge, check_request_size, context_tokens
from app.api.openai_plan import AUTO, max_tokens_of, plan_request, route_header
from app.api.openai_replies import ReplyShape, collect, fixed_reply, stream_sse
from app.api.openai_schema import MAX_USER_CHARS, ChatCompletionIn, CompletionIn, SamplingFields, parse_body
from app.auth.api_keys import verify_api_key
from app.chat.api_threads import remember_api_user, thread_id
from app.chat.handoff import NOTICE_TEXTS
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.protocol import ProtocolError, check_text
from app.chat.service import ChatService, ConversationWithStaff, ReplyNotStarted
from app.chat.text_turns import start_text_reply
from app.limits.api_limits import ApiKeyLimited

router = APIRouter(prefix="/v1", tags=["openai"])
THREAD_HEADER = "x-switchboard-conversation"  # a caller's label: calls naming it share a conversation
CONVERSATION_ID_HEADER = "x-switchboard-conversation-id"  # the stored conversation (staff search)
ROUTE_HEADER = "x-switchboard-route"


def model_ids(request: Request) -> list[str]:
    """What `model` may name: the adapters, the base model id, and `auto`."""
    return [*request.app.state.chat.planner.loaded_adapters, base_model_id(request), AUTO]


def base_model_id(request: Request) -> str:
    """The base model's id (its folder name)."""
    return str(request.app.state.settings.model_dir.name)


def _authenticate(request: Request) -> int:
    """The calling API key's id, or a 401."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    with request.app.state.sessions() as session:
        row = verify_api_key(session, key)
    if row is None:
        raise ApiError(
            401, "Incorrect or missing API key (send Authorization: Bearer <key>)", code="invalid_api_key"
        )
    return int(row.id)


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "switchboard"}


@router.get("/models")
async def list_models(request: Request) -> JSONResponse:
    """The models this server answers as."""
    _authenticate(request)
    return JSONResponse({"object": "list", "data": [_model(m) for m in model_ids(request)]})


@router.get("/models/{model_id}")
async def retrieve_model(request: Request, model_id: str) -> JSONResponse:
    """One model, or a 404 naming it."""
    _authenticate(request)
    if model_id not in model_ids(request):
        raise ApiError(404, f"The model {model_id!r} does not exist", param="model", code="model_not_found")
    return JSONResponse(_model(model_id))


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None


@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
    """Chat completion with an adapter, the base model, or `auto` (the router picks)."""
    key_id = _authenticate(request)
    req: ChatCompletionIn = parse_body(await _json(request), ChatCompletionIn)
    if req.messages[-1]["role"] != "user":
        raise ApiError(400, "the last message must have role 'user'", param="messages")
    return await _answer(request, key_id, req, req.messages, "chat")


@router.post("/completions", response_model=None)
async def completions(request: Request) -> JSONResponse | StreamingResponse:
    """Text completion: the prompt continued as written (no chat template) by the adapter `model` names."""
    key_id = _authenticate(request)
    req: CompletionIn = parse_body(await _json(request), CompletionIn)
    prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
    if len(prompts) != 1:
        raise ApiError(400, "exactly one prompt is supported per request", param="prompt")
    return await _answer(request, key_id, req, [{"role": "user", "content": prompts[0]}], "text")


def _checked(request: Request, req: SamplingFields, messages: list[dict[str, str]]) -> None:
    settings = request.app.state.settings
    param = "messages" if isinstance(req, ChatCompletionIn) else "prompt"
    try:
        check_text(messages[-1]["content"], settings.max_message_chars)
        contents = [m["content"] for m in messages]
        check_request_size(
            contents, max_tokens_of(req), settings.max_message_chars, context_tokens(request.app.state)
        )
    except ProtocolError as exc:
        raise ApiError(400, str(exc), param=param) from None
    except RequestTooLarge as exc:
        raise ApiError(400, str(exc), param=exc.param if exc.param != "messages" else param) from None


def _thread(request: Request, req: SamplingFields, key_id: int) -> str | None:
    """The conversation this call continues: its header's label, else its `user`, else none."""
    label = request.headers.get(THREAD_HEADER) or req.user
    if not label:
        return None
    if len(label) > MAX_USER_CHARS:
        raise ApiError(
            400, f"{THREAD_HEADER} must be at most {MAX_USER_CHARS} characters", param=THREAD_HEADER
        )
    return thread_id(request.app.state.settings.secret_key, key_id, label)


async def _answer(
    request: Request, key_id: int, req: SamplingFields, messages: list[dict[str, str]], kind: str
) -> JSONResponse | StreamingResponse:
    _checked(request, req, messages)
    service: ChatService = request.app.state.chat
    thread = _thread(request, req, key_id)
    try:
        request.app.state.api_limits.request(key_id)
    except ApiKeyLimited as exc:  # stored, never answered, like the chat's over-limit messages
        conversation_id = await service.refuse_reply(messages, "api", thread)
        await _remember_user(request, conversation_id, req.user)
        headers = {"Retry-After": str(math.ceil(exc.retry_after)), CONVERSATION_ID_HEADER: conversation_id}
        raise ApiError(429, str(exc), kind="requests", code="rate_limit_exceeded", headers=headers) from None
    base = base_model_id(request)

    def plan_for(planner: ReplyPlanner, session: Session, previous: str | None) -> ReplyPlan:
        return plan_request(req, messages[-1]["content"], planner, session, base, previous)

    try:
        if kind == "chat":
            started = await service.start_reply(messages, plan_for, channel="api", thread=thread)
        else:
            started = await start_text_reply(service, messages[-1]["content"], plan_for, thread)
    except ReplyNotStarted as exc:
        raise ApiError(503, str(exc), kind="server_error", code="unavailable") from None
    except ConversationWithStaff as exc:
        await _remember_user(request, exc.conversation_id, req.user)
        raise ApiError(
            409,
            str(exc),
            code="conversation_with_staff",
            headers={CONVERSATION_ID_HEADER: exc.conversation_id},
        ) from None
    await _remember_user(request, started.conversation_id, req.user)
    shape = ReplyShape("chat" if kind == "chat" else "text", started.job_id, started.plan.adapter or base)
    headers = {ROUTE_HEADER: route_header(started.plan), CONVERSATION_ID_HEADER: started.conversation_id}
    extra: dict[str, Any] = {"sources": started.sources}
    # A question only a person can answer gets the chat page's honest notice, never a generated guess.
    events = None  # None: the reply is the job's stream
    if started.notice is not None:
        headers[ROUTE_HEADER] += f"; notice={started.notice}"
        extra |= {"notice": started.notice, "handoff_offer": True}
        events = fixed_reply(started.job_id, started.notice_text or NOTICE_TEXTS[started.notice])
    if req.stream:
        include_usage = req.stream_options is not None and req.stream_options.include_usage
        return StreamingResponse(
            stream_sse(service, shape, include_usage, events), media_type="text/event-stream", headers=headers
        )
    body = await collect(service, shape, events)
    return JSONResponse({**body, **extra}, headers=headers)


async def _remember_user(request: Request, conversation_id: str, user: str | None) -> None:
    """Keep the caller's `user` on the conversation, where staff read it."""
    if user:
        await asyncio.to_thread(remember_api_user, request.app.state.sessions, conversation_id, user)
