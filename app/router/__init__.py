"""Intent router: which adapter (general, tech_support, sales) answers a customer message."""

from __future__ import annotations

from app.router.router import INTENTS, IntentRouter, RouteDecision, RouterThresholds, get_router

__all__ = ["INTENTS", "IntentRouter", "RouteDecision", "RouterThresholds", "get_router"]
