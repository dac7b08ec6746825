"""How a reply is made: route the text, pick the adapter, system prompt and live decoding policy."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from adapters.intents import TRAINED_BUSINESS_NAME, system_prompt
from app.decoding.policy import DecodingPolicy
from app.decoding.store import live_policy
from app.router import HANDOFF, RouteDecision
from inference import SamplingParams

log = logging.getLogger(__name__)
FALLBACK_INTENT = "general"


class Router(Protocol):
    """What the planner asks of a router: app.router.IntentRouter, or UntrainedRouter."""

    def route(
        self,
        text: str,
        previous_intent: str | None = None,
        pinned: str | None = None,
        *,
        threshold: float | None = None,
        ambiguity_threshold: float | None = None,
    ) -> RouteDecision: ...


class UntrainedRouter:
    """Stands in while no router model is trained: pinned > previous intent > general, and says so."""

    def route(
        self, text: str, previous_intent: str | None = None, pinned: str | None = None, **_: float | None
    ) -> RouteDecision:
        """Never classifies: confidence 0 and reason 'router_missing' make that visible on every row."""
        intent = pinned or previous_intent or FALLBACK_INTENT
        return RouteDecision(intent, 0.0, {}, None, "pinned" if pinned else "router_missing")


def load_router(path: Path) -> Router:
    """The trained IntentRouter at ``path``, or UntrainedRouter (with a warning) if there is none."""
    from app.router import IntentRouter

    if not path.is_file():
        log.warning(
            "no router model at %s (run `switchboard router train`); routing to %s", path, FALLBACK_INTENT
        )
        return UntrainedRouter()
    return IntentRouter.load(path)


@dataclass(frozen=True)
class ReplyPlan:
    """Everything the assistant row records about how its reply is produced."""

    intent: str
    adapter: str | None
    system_prompt: str
    params: SamplingParams
    decoding: dict[str, Any]
    decoding_version: int
    priority: int = 0
    confidence: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    overridden_from: str | None = None
    reason: str = "classified"

    def route_frame(self) -> dict[str, Any]:
        """The `route` websocket frame body."""
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "adapter": self.adapter,
            "overridden_from": self.overridden_from,
            "reason": self.reason,
        }


class ReplyPlanner:
    """Router decision -> adapter + per-intent system prompt + live decoding policy -> SamplingParams."""

    def __init__(
        self, router: Router, loaded_adapters: list[str], business_name: str = TRAINED_BUSINESS_NAME
    ) -> None:
        self.router = router
        self.loaded_adapters = set(loaded_adapters)
        self.business_name = business_name

    def system_prompt(self, intent: str, business_name: str | None = None) -> str:
        """The intent's trained system prompt, speaking for ``business_name`` (default: this
        deployment's business; a widget site's own name for its conversations)."""
        return system_prompt(intent, business_name or self.business_name)

    def route(
        self, session: Session, text: str, previous_intent: str | None, pinned: str | None
    ) -> RouteDecision:
        """Route ``text`` (sticky to ``previous_intent``, ``pinned`` wins) with the live thresholds."""
        # Thresholds are read from the fallback intent's live policy: routing must happen before
        # the target intent is known, and low-confidence traffic lands on the fallback anyway.
        fallback, _ = live_policy(session, FALLBACK_INTENT)
        return self.router.route(
            text,
            previous_intent=previous_intent,
            pinned=pinned,
            threshold=fallback.router_threshold,
            ambiguity_threshold=fallback.ambiguity_threshold,
        )

    def plan(self, session: Session, text: str, previous_intent: str | None, pinned: str | None) -> ReplyPlan:
        """Route ``text`` and plan the reply."""
        decision = self.route(session, text, previous_intent, pinned)
        # Hand-off is not an adapter: the chat service starts the hand-off flow on route(); a channel
        # without one (the OpenAI API) gets the fallback adapter's answer.
        intent = decision.intent if decision.intent != HANDOFF else FALLBACK_INTENT
        return self.for_intent(session, intent, decision)

    def for_intent(
        self,
        session: Session,
        intent: str,
        decision: RouteDecision | None = None,
        business_name: str | None = None,
    ) -> ReplyPlan:
        """Plan a reply for a known intent (the OpenAI API's explicit `model`), for ``business_name``."""
        policy, version = live_policy(session, intent)
        params = (
            policy.to_sampling_params()
        )  # ValueError here is a bad stored policy: reported, not raised on
        return ReplyPlan(
            intent=intent,
            adapter=intent if intent in self.loaded_adapters else None,
            system_prompt=policy.system_prompt or self.system_prompt(intent, business_name),
            params=params,
            decoding=_decoding_record(policy, params),
            decoding_version=version,
            priority=policy.priority,
            confidence=decision.confidence if decision else None,
            scores=dict(decision.scores) if decision else {},
            overridden_from=decision.overridden_from if decision else None,
            reason=decision.reason if decision else "explicit",
        )


def _decoding_record(policy: DecodingPolicy, params: SamplingParams) -> dict[str, Any]:
    """What the row stores: the strategy, the parameters it uses, and the full SamplingParams."""
    return {**policy.applied(), "params": params.to_dict()}
