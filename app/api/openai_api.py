"""OpenAI-compatible API: /v1/chat/completions (streaming SSE or not) and /v1/models."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from app.api.openai_limits import RequestTooLarge, check_request_size, context_tokens
from app.auth.api_keys import verify_api_key
from app.chat.planning import ReplyPlan, ReplyPlanner
from app.chat.protocol import ProtocolError, check_text
from app.chat.service import ChatService, ReplyNotStarted
from inference import SamplingParams

router = APIRouter(prefix="/v1", tags=["openai"])
AUTO = "auto"
FINISH = {"stop": "stop", "length": "length", "cancelled": "stop"}


class ApiError(Exception):
    """An error answered in OpenAI's format."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        kind: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.kind, self.code = status, message, param, kind, code

    def response(self) -> JSONResponse:
        """The JSON error body OpenAI clients parse."""
        error = {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}
        return JSONResponse({"error": error}, status_code=self.status)


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=100)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = 1
    stream: bool = False


def model_ids(request: Request) -> list[str]:
    """What `model` may name: the adapters, the base model id, and `auto`."""
    return [*request.app.state.chat.planner.loaded_adapters, base_model_id(request), AUTO]


def base_model_id(request: Request) -> str:
    """The base model's id (its folder name)."""
    return str(request.app.state.settings.model_dir.name)


def _authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    with request.app.state.sessions() as session:
        if verify_api_key(session, key) is None:
            raise ApiError(
                401, "Incorrect or missing API key (send Authorization: Bearer <key>)", code="invalid_api_key"
            )


@router.get("/models")
async def list_models(request: Request) -> JSONResponse:
    """The models this server answers as."""
    try:
        _authenticate(request)
    except ApiError as exc:
        return exc.response()
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "switchboard"} for m in model_ids(request)]
    return JSONResponse({"object": "list", "data": data})


async def _parse(request: Request) -> ChatCompletionIn:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    try:
        req = ChatCompletionIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise ApiError(400, f"{param}: {first['msg']}", param=param) from None
    if req.n != 1:
        raise ApiError(400, "only n=1 is supported", param="n")
    if req.messages[-1].role != "user":
        raise ApiError(400, "the last message must have role 'user'", param="messages")
    try:
        check_text(req.messages[-1].content, request.app.state.settings.max_message_chars)
        check_request_size(
            [m.content for m in req.messages],
            req.max_completion_tokens or req.max_tokens,
            request.app.state.settings.max_message_chars,
            context_tokens(request.app.state),
        )
    except ProtocolError as exc:
        raise ApiError(400, str(exc), param="messages") from None
    except RequestTooLarge as exc:
        raise ApiError(400, str(exc), param=exc.param) from None
    return req


def _plan(request: Request, req: ChatCompletionIn, planner: ReplyPlanner, session: Session) -> ReplyPlan:
    if req.model == AUTO:
        return planner.plan(session, req.messages[-1].content, None, None)  # type: ignore[no-any-return]
    if req.model in planner.loaded_adapters:
        return planner.for_intent(session, req.model)  # type: ignore[no-any-return]
    if req.model == base_model_id(request):
        plan = planner.for_intent(session, "general")
        return dataclasses.replace(plan, adapter=None, reason="base_model")
    raise ApiError(
        404,
        f"The model {req.model!r} does not exist; see GET /v1/models",
        param="model",
        code="model_not_found",
    )


def _params(plan: ReplyPlan, req: ChatCompletionIn) -> SamplingParams:
    values = plan.params.to_dict()
    if req.temperature is not None:  # the caller chose sampling or greedy: the policy's beams no longer apply
        values |= {"temperature": req.temperature, "do_sample": None, "num_beams": 1}
    if req.top_p is not None:
        values["top_p"] = req.top_p
    max_tokens = req.max_completion_tokens or req.max_tokens
    if max_tokens is not None:
        values["max_new_tokens"] = max_tokens
    if req.stop is not None:
        values["stop"] = [req.stop] if isinstance(req.stop, str) else req.stop
    if req.seed is not None:
        values["seed"] = req.seed
    try:
        return SamplingParams.from_dict(values)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        param = {"max_new_tokens": "max_tokens"}.get(field, field)
        raise ApiError(400, str(exc).replace("max_new_tokens", "max_tokens"), param=param) from None


def _with_request_params(plan: ReplyPlan, req: ChatCompletionIn) -> ReplyPlan:
    """The plan with the request's sampling fields applied, recorded as API overrides of the policy."""
    params = _params(plan, req)
    overrides = sorted(
        k
        for k in ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed")
        if getattr(req, k) is not None
    )
    if params.num_beams > 1:
        strategy = "beam"
    else:
        strategy = "sampling" if params.do_sample else "greedy"
    decoding = {**plan.decoding, "strategy": strategy, "params": params.to_dict(), "api_overrides": overrides}
    return dataclasses.replace(plan, params=params, decoding=decoding)


@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
    """Chat completion with an adapter, the base model, or `auto` (the router picks)."""
    try:
        _authenticate(request)
        req = await _parse(request)
        return await _complete(request, req)
    except ApiError as exc:
        return exc.response()


async def _complete(request: Request, req: ChatCompletionIn) -> JSONResponse | StreamingResponse:
    service: ChatService = request.app.state.chat

    def plan_for(planner: ReplyPlanner, session: Session) -> ReplyPlan:
        return _with_request_params(_plan(request, req, planner, session), req)

    try:
        started = await service.start_reply([m.model_dump() for m in req.messages], plan_for, channel="api")
    except ReplyNotStarted as exc:
        raise ApiError(503, str(exc), kind="server_error", code="unavailable") from None
    model, job_id = req.model, started.job_id
    if req.stream:
        return StreamingResponse(_sse(service, job_id, model), media_type="text/event-stream")
    return JSONResponse({**await _collect(service, job_id, model), "sources": started.sources})


async def _collect(service: ChatService, job_id: str, model: str) -> dict[str, Any]:
    parts: list[str] = []
    final = None
    async for event in service.stream(job_id):  # the final event comes once the row is stored
        parts.append(event.text)
        final = event
    if final is None or final.kind == "error":
        raise ApiError(500, (final.error if final else None) or "generation failed", kind="server_error")
    return {
        "id": f"chatcmpl-{job_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(parts)},
                "finish_reason": FINISH.get(final.finish_reason or "stop", "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": final.prompt_tokens,
            "completion_tokens": final.completion_tokens,
            "total_tokens": final.prompt_tokens + final.completion_tokens,
        },
    }


async def _sse(service: ChatService, job_id: str, model: str) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        body = {
            "id": f"chatcmpl-{job_id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        async for event in service.stream(job_id):  # the final event comes once the row is stored
            if event.kind == "error":
                finished = True
                error = {"message": event.error or "generation failed", "type": "server_error"}
                yield f"data: {json.dumps({'error': error})}\n\n"
                break
            if event.text:
                yield chunk({"content": event.text})
            if event.final:
                finished = True
                yield chunk({}, FINISH.get(event.finish_reason or "stop", "stop"))
        yield "data: [DONE]\n\n"
    finally:
        if not finished:  # the client went away mid-stream: free the engine's resources now
            await service.cancel(job_id)
