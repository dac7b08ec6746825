"""IntentRouter: classifier scores + fallback, stickiness and pinning rules -> one RouteDecision."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app.router.classifier import IntentClassifier

INTENTS: tuple[str, ...] = ("general", "tech_support", "sales")
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "general"
log = logging.getLogger(__name__)


def _check_unit(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in 0..1; got {value}")
    return value


def _check_intent(name: str, value: str | None) -> str | None:
    if value is not None and value not in INTENTS:
        raise ValueError(f"{name} must be one of {', '.join(INTENTS)}; got {value!r}")
    return value


@dataclass(frozen=True)
class RouterThresholds:
    """threshold: minimum top score; ambiguity_threshold: minimum top-2 gap; switch_threshold: to leave
    the conversation's previous intent."""

    threshold: float = 0.5
    ambiguity_threshold: float = 0.1
    switch_threshold: float = 0.7

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        _check_unit("ambiguity_threshold", self.ambiguity_threshold)
        _check_unit("switch_threshold", self.switch_threshold)


@dataclass(frozen=True)
class RouteDecision:
    """Where a message goes and why; ``overridden_from`` is the classifier's pick when a rule won."""

    intent: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    overridden_from: str | None = None
    reason: str = "classified"  # classified | pinned | sticky | low_confidence | ambiguous | out_of_scope


class IntentRouter:
    """Routes customer messages to an adapter name; thresholds can be overridden per call."""

    def __init__(self, classifier: IntentClassifier, thresholds: RouterThresholds | None = None) -> None:
        missing = set(INTENTS) - set(classifier.labels)
        if missing:
            raise ValueError(f"router classifier lacks labels {sorted(missing)}")
        self.classifier = classifier
        self.thresholds = thresholds or RouterThresholds()

    @classmethod
    def load(cls, path: Path, thresholds: RouterThresholds | None = None) -> IntentRouter:
        """Load the JSON model written by `switchboard router train`."""
        return cls(IntentClassifier.load(path), thresholds)

    def route(
        self,
        text: str,
        previous_intent: str | None = None,
        pinned: str | None = None,
        threshold: float | None = None,
        ambiguity_threshold: float | None = None,
    ) -> RouteDecision:
        """Pin > stickiness to the previous intent > confidence/ambiguity fallback to general."""
        _check_intent("pinned", pinned)
        _check_intent("previous_intent", previous_intent)
        t = self.thresholds
        low = _check_unit("threshold", t.threshold if threshold is None else threshold)
        gap = _check_unit(
            "ambiguity_threshold",
            t.ambiguity_threshold if ambiguity_threshold is None else ambiguity_threshold,
        )
        scores = self.classifier.scores(text)
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        top, second = ranked[0], ranked[1]
        confidence, margin = scores[top], scores[top] - scores[second]

        if pinned is not None:
            return self._decide(pinned, confidence, scores, top, "pinned")
        if previous_intent is not None:
            clearly_other = top != OUT_OF_SCOPE and confidence >= t.switch_threshold and margin >= gap
            if top == previous_intent:
                return RouteDecision(top, confidence, scores)
            if not clearly_other:
                return self._decide(previous_intent, confidence, scores, top, "sticky")
            return RouteDecision(top, confidence, scores)
        if top == OUT_OF_SCOPE:
            return self._decide(FALLBACK, confidence, scores, top, "out_of_scope")
        if confidence < low:
            return self._decide(FALLBACK, confidence, scores, top, "low_confidence")
        if margin < gap:
            return self._decide(FALLBACK, confidence, scores, top, "ambiguous")
        return RouteDecision(top, confidence, scores)

    def _decide(
        self, intent: str, confidence: float, scores: dict[str, float], top: str, reason: str
    ) -> RouteDecision:
        """A rule decided: log what the classifier wanted when the rule changed it."""
        overridden = top if top != intent else None
        if overridden is not None:
            log.info("router: %s -> %s (%s, confidence %.2f)", top, intent, reason, confidence)
        return RouteDecision(intent, confidence, scores, overridden, reason)


@cache
def get_router(path: Path | None = None) -> IntentRouter:
    """The process-wide router, loaded once from settings.router_path (or ``path``)."""
    from app.config import settings

    return IntentRouter.load(path or settings.router_path)
