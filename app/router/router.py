"""IntentRouter: classifier scores + language, hand-off, fallback, stickiness and pinning rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.router.asks import CONTACT, PERSON, asked_for
from app.router.classifier import IntentClassifier
from app.router.language import is_english

INTENTS: tuple[str, ...] = ("general", "tech_support", "sales")  # the adapters
HANDOFF = "handoff"  # the customer asks for a person: no bot reply, the conversation waits for staff
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "general"
ROUTES: tuple[str, ...] = (*INTENTS, HANDOFF)  # what RouteDecision.intent can be
LABELS: tuple[str, ...] = (*ROUTES, OUT_OF_SCOPE)  # what the classifier scores
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
    the conversation's previous intent. `router train` chooses them on the calibration split and stores
    them in the model file; the defaults only serve hand-built classifiers."""

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

    intent: str  # general | tech_support | sales | handoff
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    overridden_from: str | None = None
    # classified | pinned | sticky | low_confidence | ambiguous | out_of_scope | non_english
    # | asks_for_person | contact_details
    reason: str = "classified"


class IntentRouter:
    """Routes customer messages to an adapter name (or hand-off); thresholds can be overridden per call."""

    def __init__(self, classifier: IntentClassifier, thresholds: RouterThresholds | None = None) -> None:
        missing = set(INTENTS) - set(classifier.labels)
        if missing:
            raise ValueError(f"router classifier lacks labels {sorted(missing)}")
        self.classifier = classifier
        self.thresholds = thresholds or RouterThresholds()

    @classmethod
    def load(cls, path: Path) -> IntentRouter:
        """Load the JSON model written by `switchboard router train`, with its calibrated thresholds."""
        classifier, thresholds = IntentClassifier.load(path)
        return cls(classifier, RouterThresholds(**thresholds) if thresholds else None)

    def route(
        self,
        text: str,
        previous_intent: str | None = None,
        pinned: str | None = None,
        threshold: float | None = None,
        ambiguity_threshold: float | None = None,
    ) -> RouteDecision:
        """Pin > language > hand-off > stickiness > out-of-scope / confidence / ambiguity fallback."""
        _check_intent("pinned", pinned)
        _check_intent("previous_intent", previous_intent)
        t = self.thresholds
        low = _check_unit("threshold", t.threshold if threshold is None else threshold)
        gap = _check_unit(
            "ambiguity_threshold",
            t.ambiguity_threshold if ambiguity_threshold is None else ambiguity_threshold,
        )
        scores = self.classifier.scores(text)
        decision = decide(
            scores, is_english(text), previous_intent, pinned, low, gap, t.switch_threshold, asked_for(text)
        )
        if decision.overridden_from is not None or decision.reason == "non_english":
            log.info(
                "router: %s -> %s (%s, confidence %.2f)",
                decision.overridden_from or decision.intent,
                decision.intent,
                decision.reason,
                decision.confidence,
            )
        return decision


def decide(
    scores: dict[str, float],
    english: bool,
    previous_intent: str | None,
    pinned: str | None,
    threshold: float,
    ambiguity_threshold: float,
    switch_threshold: float,
    asked: str | None = None,
) -> RouteDecision:
    """The rules, in order, on known scores (pure, so calibration can replay them on cached scores).

    ``asked`` is app.router.asks.asked_for(text): an explicit request for a person is a hand-off
    whatever the scores; one for the store's phone number or email is answered (general) even where
    the classifier leaned to hand-off, since the knowledge base holds the answer.
    """
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    top, second = ranked[0], ranked[1]
    confidence, margin = scores[top], scores[top] - scores[second]

    def ruled(intent: str, reason: str) -> RouteDecision:
        return RouteDecision(intent, confidence, scores, top if top != intent else None, reason)

    if pinned is not None:
        return ruled(pinned, "pinned")
    if not english:
        # The adapters only know English: the caller answers honestly and offers a person.
        return ruled(FALLBACK, "non_english")
    if asked == PERSON:
        return (
            ruled(HANDOFF, "asks_for_person")
            if top != HANDOFF
            else RouteDecision(HANDOFF, confidence, scores)
        )
    if asked == CONTACT:
        return ruled(FALLBACK, "contact_details")
    if top == HANDOFF and confidence >= threshold:
        return RouteDecision(HANDOFF, confidence, scores)
    if previous_intent is not None:
        clearly_other = top in INTENTS and confidence >= switch_threshold and margin >= ambiguity_threshold
        if top == previous_intent or clearly_other:
            return RouteDecision(top, confidence, scores)
        return ruled(previous_intent, "sticky")
    if top == OUT_OF_SCOPE:
        return ruled(FALLBACK, "out_of_scope")
    if confidence < threshold:
        return ruled(FALLBACK, "low_confidence")
    if margin < ambiguity_threshold:
        return ruled(FALLBACK, "ambiguous")
    return RouteDecision(top, confidence, scores)
