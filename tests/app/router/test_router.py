"""IntentRouter rules on a hand-built classifier whose scores are known exactly."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from app.router import IntentRouter, RouterThresholds
from app.router.classifier import IntentClassifier
from app.router.features import TextFeaturizer

LABELS = ("general", "handoff", "out_of_scope", "sales", "tech_support")

# One word per case: the normalised feature vector is exactly 1.0 on that word, so its column of
# coefficients are the logits and softmax gives back these probabilities.
WORDS: dict[str, tuple[float, float, float, float, float]] = {
    "refund": (0.90, 0.02, 0.02, 0.03, 0.03),
    "wifi": (0.03, 0.01, 0.01, 0.05, 0.90),
    "price": (0.05, 0.01, 0.01, 0.90, 0.03),
    "maybe": (0.05, 0.01, 0.09, 0.60, 0.25),  # sales, but not clearly
    "tie": (0.05, 0.01, 0.04, 0.46, 0.44),  # sales by a hair
    "weather": (0.10, 0.02, 0.78, 0.05, 0.05),
    "human": (0.03, 0.90, 0.01, 0.03, 0.03),
    "person": (0.30, 0.40, 0.10, 0.10, 0.10),  # hand-off, not confidently
}


@pytest.fixture()
def router() -> IntentRouter:
    features = [f"w:{w}" for w in WORDS]
    featurizer = TextFeaturizer(
        vocab={f: i for i, f in enumerate(features)}, idf=np.ones(len(features)), char_range=(9, 9)
    )
    coef = np.array([[math.log(p) for p in WORDS[w]] for w in WORDS]).T
    return IntentRouter(IntentClassifier(LABELS, featurizer, coef, np.zeros(len(LABELS))))


def test_scores_are_the_classifier_probabilities(router: IntentRouter) -> None:
    d = router.route("wifi")
    assert d.intent == "tech_support" and d.reason == "classified" and d.overridden_from is None
    assert d.confidence == pytest.approx(0.90)
    assert set(d.scores) == set(LABELS) and sum(d.scores.values()) == pytest.approx(1.0)


def test_low_confidence_falls_back_to_general_and_logs(router: IntentRouter, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="app.router.router"):
        d = router.route("maybe", threshold=0.7)
    assert (d.intent, d.reason, d.overridden_from) == ("general", "low_confidence", "sales")
    assert "sales -> general" in caplog.text
    assert router.route("maybe", threshold=0.5).intent == "sales"  # per-call threshold wins over default


def test_near_tie_falls_back_to_general(router: IntentRouter) -> None:
    d = router.route("tie", threshold=0.1)
    assert (d.intent, d.reason, d.overridden_from) == ("general", "ambiguous", "sales")
    assert router.route("tie", threshold=0.1, ambiguity_threshold=0.01).intent == "sales"


def test_out_of_scope_goes_to_general(router: IntentRouter) -> None:
    d = router.route("weather")
    assert (d.intent, d.reason, d.overridden_from) == ("general", "out_of_scope", "out_of_scope")


def test_stickiness_keeps_previous_unless_clearly_other(router: IntentRouter) -> None:
    kept = router.route("maybe", previous_intent="tech_support")
    assert (kept.intent, kept.reason, kept.overridden_from) == ("tech_support", "sticky", "sales")
    assert router.route("weather", previous_intent="sales").intent == "sales"  # "ok thanks"-like turns stay
    switched = router.route("refund", previous_intent="tech_support")  # a clear topic change switches
    assert (switched.intent, switched.reason) == ("general", "classified")
    strict = IntentRouter(router.classifier, RouterThresholds(switch_threshold=0.95))
    assert strict.route("refund", previous_intent="tech_support").intent == "tech_support"


def test_handoff_wins_over_stickiness_when_confident(router: IntentRouter) -> None:
    d = router.route("human", previous_intent="tech_support")
    assert (d.intent, d.reason, d.overridden_from) == ("handoff", "classified", None)
    unsure = router.route("person", threshold=0.5)
    assert (unsure.intent, unsure.reason, unsure.overridden_from) == ("general", "low_confidence", "handoff")


def test_non_english_is_flagged_and_goes_to_general(router: IntentRouter, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="app.router.router"):
        d = router.route("¿Dónde está mi pedido?", previous_intent="sales")
    assert (d.intent, d.reason) == ("general", "non_english")
    assert "non_english" in caplog.text
    assert router.route("wifi", previous_intent="sales").reason != "non_english"


def test_pin_overrides_everything(router: IntentRouter) -> None:
    d = router.route("wifi", previous_intent="tech_support", pinned="sales")
    assert (d.intent, d.reason, d.overridden_from) == ("sales", "pinned", "tech_support")
    same = router.route("price", pinned="sales")
    assert (same.intent, same.reason, same.overridden_from) == ("sales", "pinned", None)
    assert router.route("human", pinned="sales").intent == "sales"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pinned": "billing"}, "pinned"),
        ({"pinned": "handoff"}, "pinned"),
        ({"previous_intent": "x"}, "previous_intent"),
        ({"threshold": 1.5}, "threshold"),
        ({"ambiguity_threshold": -0.1}, "ambiguity_threshold"),
    ],
)
def test_bad_arguments_name_the_field(router: IntentRouter, kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        router.route("wifi", **kwargs)


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="switch_threshold"):
        RouterThresholds(switch_threshold=2.0)
