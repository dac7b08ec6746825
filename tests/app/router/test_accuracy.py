"""The committed router model on the independent evaluation set, which training never saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.router import IntentRouter
from app.router.training.evaluate import evaluate_routing, metrics
from app.router.training.labelled import EVAL_SET, EVAL_SETS, ROUTER_DATA, key, read_labelled

MODEL = Path(__file__).resolve().parents[3] / "app" / "router_model.json"
GOAL = 0.92  # the floor; the target is 0.95 (README figures)


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    return IntentRouter.load(MODEL)


def test_eval_set_is_big_varied_and_never_trained_on() -> None:
    items = read_labelled(EVAL_SET)
    assert len(items) >= 400
    labels = {i.label for i in items}
    assert labels == {"general", "tech_support", "sales", "handoff", "out_of_scope"}
    assert sum(i.lang != "en" for i in items) >= 20 and sum(i.previous is not None for i in items) >= 20
    trained = {
        key(i.text)
        for name in ("train.jsonl", "calibration.jsonl")
        for i in read_labelled(ROUTER_DATA / name)
    }
    for path in EVAL_SETS:
        assert not {key(i.text) for i in read_labelled(path)} & trained, path


def test_accuracy_and_macro_f1_meet_the_goal(router: IntentRouter) -> None:
    m = evaluate_routing(router, read_labelled(EVAL_SET))
    assert m.accuracy >= GOAL, m.per_class
    assert m.macro_f1 >= GOAL, m.per_class


def test_model_file_carries_calibrated_thresholds(router: IntentRouter) -> None:
    # The defaults (0.5 / 0.1 / 0.7) are for hand-built classifiers only; `router train` stores its own.
    import json

    data = json.loads(MODEL.read_text())
    assert data["thresholds"] == router.thresholds.__dict__
    assert data["training"]["calibration"]["split"] == "calibration.jsonl"


def test_a_return_question_leaves_a_tech_support_conversation(router: IntentRouter) -> None:
    d = router.route("Still broken, can I return them?", previous_intent="tech_support")
    assert d.intent == "general", d


def test_metrics_on_known_values() -> None:
    m = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ("a", "b", "c"))
    assert m.accuracy == 0.75
    assert m.per_class["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m.confusion == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)  # "c" never occurs: not averaged in
    with pytest.raises(ValueError, match="equal length"):
        metrics([], [], ("a",))
