"""Intent router: which adapter (general, tech_support, sales) answers a message, or a person (handoff).

Serving code only; fitting, data building and evaluation live in app.router.training.
"""

from __future__ import annotations

from app.router.router import (
    FALLBACK,
    HANDOFF,
    INTENTS,
    LABELS,
    OUT_OF_SCOPE,
    ROUTES,
    IntentRouter,
    RouteDecision,
    RouterThresholds,
)

__all__ = [
    "FALLBACK",
    "HANDOFF",
    "INTENTS",
    "LABELS",
    "OUT_OF_SCOPE",
    "ROUTES",
    "IntentRouter",
    "RouteDecision",
    "RouterThresholds",
]
