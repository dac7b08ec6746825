"""Threshold calibration on a hand-built classifier whose scores are known exactly."""

from __future__ import annotations

import math

import numpy as np

from app.router import IntentRouter
from app.router.classifier import IntentClassifier
from app.router.features import TextFeaturizer
from app.router.training.calibrate import GRID, calibrate, continuations
from app.router.training.labelled import Labelled

LABELS = ("general", "handoff", "out_of_scope", "sales", "tech_support")
WORDS = {  # word -> probabilities over LABELS
    "wifi": (0.05, 0.01, 0.04, 0.10, 0.80),
    "price": (0.05, 0.01, 0.04, 0.80, 0.10),
    "refund": (0.80, 0.01, 0.04, 0.10, 0.05),
    "hmm": (0.30, 0.01, 0.04, 0.35, 0.30),  # an unsure sales: its gold is general
}


def _router() -> IntentRouter:
    features = [f"w:{w}" for w in WORDS]
    featurizer = TextFeaturizer({f: i for i, f in enumerate(features)}, np.ones(len(features)), (9, 9))
    coef = np.array([[math.log(p) for p in WORDS[w]] for w in WORDS]).T
    return IntentRouter(IntentClassifier(LABELS, featurizer, coef, np.zeros(len(LABELS))))


def test_threshold_sends_unsure_messages_to_general_and_keeps_sure_ones() -> None:
    items = [
        Labelled("wifi", "tech_support", "t"),
        Labelled("price", "sales", "t"),
        Labelled("refund", "general", "t"),
        Labelled("hmm", "general", "t"),
    ]
    cal = calibrate(_router(), items)
    # Any threshold in (0.35, 0.80] routes all four right; ties go to the largest such grid value.
    assert cal.threshold == max(x for x in GRID if 0.35 < x <= 0.80)
    assert cal.report["routed_accuracy"] == 1.0 and cal.report["messages"] == 4
    assert set(cal.thresholds()) == {"threshold", "ambiguity_threshold", "switch_threshold"}


def test_switch_threshold_lets_clear_changes_switch() -> None:
    items = [Labelled("wifi", "tech_support", "t"), Labelled("price", "sales", "t")]
    cal = calibrate(_router(), items)
    # Clear messages (0.80) must leave another intent's conversation: the switch bar is at most 0.80.
    assert cal.switch_threshold <= 0.80
    assert cal.report["follow_ups"] == 2 + 3 * len(continuations())
