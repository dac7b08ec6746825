"""ReplyPlanner: the router's calibrated thresholds apply unless an operator set their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.chat.planning import ReplyPlanner
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.router import RouteDecision


class RecordingRouter:
    """Remembers the thresholds it was called with; always hands off."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def route(self, text: str, **kwargs: Any) -> RouteDecision:
        self.calls.append(kwargs)
        return RouteDecision("handoff", 0.9, {"handoff": 0.9, "general": 0.1})


def test_thresholds_are_the_routers_unless_an_operator_sets_them(db: Session) -> None:
    router = RecordingRouter()
    planner = ReplyPlanner(router, ["general"])
    planner.route(db, "agent please", None, None)
    assert (router.calls[-1]["threshold"], router.calls[-1]["ambiguity_threshold"]) == (None, None)
    save_policy(db, "general", DecodingPolicy(router_threshold=0.7, ambiguity_threshold=0.2), None)
    planner.route(db, "agent please", None, None)
    assert (router.calls[-1]["threshold"], router.calls[-1]["ambiguity_threshold"]) == (0.7, 0.2)


def test_a_channel_without_handoff_gets_the_fallback_adapter(db: Session) -> None:
    plan = ReplyPlanner(RecordingRouter(), ["general"]).plan(db, "agent please", None, None)
    assert (plan.intent, plan.adapter, plan.confidence) == ("general", "general", 0.9)


def test_prompts_speak_for_the_configured_business(db: Session) -> None:
    plan = ReplyPlanner(RecordingRouter(), ["sales"], "Acme Audio").for_intent(db, "sales")
    assert plan.system_prompt.startswith("You are Acme Audio's sales assistant")
    assert "Voltline" not in plan.system_prompt
    assert (
        "Voltline's sales" in ReplyPlanner(RecordingRouter(), ["sales"]).for_intent(db, "sales").system_prompt
    )
    save_policy(db, "sales", DecodingPolicy(system_prompt="Operator's own words."), None)
    assert (
        ReplyPlanner(RecordingRouter(), [], "Acme").for_intent(db, "sales").system_prompt
        == "Operator's own words."
    )
