"""A /v1 request -> the reply's plan: which adapter (`model`), and the request's sampling fields
applied over the intent's live decoding policy (recorded on the row as API overrides)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from app.api.openai_errors import ApiError
from app.api.openai_schema import SamplingFields
from app.chat.planning import ReplyPlan, ReplyPlanner
from inference import SamplingParams

AUTO = "auto"
OVERRIDABLE = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed")


def max_tokens_of(req: SamplingFields) -> int | None:
    """The reply's token cap: max_completion_tokens (chat) wins over max_tokens."""
    return getattr(req, "max_completion_tokens", None) or req.max_tokens


def plan_request(
    req: SamplingFields,
    text: str,
    planner: ReplyPlanner,
    session: Session,
    base_model: str,
    previous_intent: str | None,
) -> ReplyPlan:
    """The plan for ``req`` answering ``text`` (auto: routed, sticky to the thread's intent)."""
    if req.model == AUTO:
        plan = planner.plan(session, text, previous_intent, None)
    elif req.model in planner.loaded_adapters:
        plan = planner.for_intent(session, req.model)
    elif req.model == base_model:
        plan = dataclasses.replace(planner.for_intent(session, "general"), adapter=None, reason="base_model")
    else:
        raise ApiError(
            404,
            f"The model {req.model!r} does not exist; see GET /v1/models",
            param="model",
            code="model_not_found",
        )
    return _with_request_params(plan, req)


def _params(plan: ReplyPlan, req: SamplingFields) -> SamplingParams:
    values = plan.params.to_dict()
    if req.temperature is not None:  # the caller chose sampling or greedy: the policy's beams no longer apply
        values |= {"temperature": req.temperature, "do_sample": None, "num_beams": 1}
    if req.top_p is not None:
        values["top_p"] = req.top_p
    max_tokens = max_tokens_of(req)
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


def _with_request_params(plan: ReplyPlan, req: SamplingFields) -> ReplyPlan:
    """The plan with the request's sampling fields applied, recorded as API overrides of the policy."""
    params = _params(plan, req)
    overrides = sorted(k for k in OVERRIDABLE if k in req.model_fields_set and getattr(req, k) is not None)
    if params.num_beams > 1:
        strategy = "beam"
    else:
        strategy = "sampling" if params.do_sample else "greedy"
    decoding = {**plan.decoding, "strategy": strategy, "params": params.to_dict(), "api_overrides": overrides}
    return dataclasses.replace(plan, params=params, decoding=decoding)


def route_header(plan: ReplyPlan) -> str:
    """`x-switchboard-route`: how the reply was routed (intent, confidence, adapter, reason)."""
    confidence = "" if plan.confidence is None else f"{plan.confidence:.3f}"
    adapter = plan.adapter or "base"
    return f"intent={plan.intent}; confidence={confidence}; adapter={adapter}; reason={plan.reason}"
