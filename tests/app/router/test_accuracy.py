"""The committed router model on held-out messages it never trained on (incl. short, misspelt ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.router import IntentRouter, get_router
from app.router.dataset import ROUTER_DATA, read_labelled
from app.router.evaluate import evaluate_routing, metrics

MODEL = Path(__file__).resolve().parents[3] / "app" / "router_model.json"
GOAL = 0.92


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    return IntentRouter.load(MODEL)


def test_heldout_never_seen_in_training() -> None:
    train = {i.text.lower().strip() for i in read_labelled(ROUTER_DATA / "train.jsonl")}
    for name in ("heldout.jsonl", "hard_heldout.jsonl"):
        held = read_labelled(ROUTER_DATA / name)
        assert held and not {i.text.lower().strip() for i in held} & train


@pytest.mark.parametrize("name", ["heldout.jsonl", "hard_heldout.jsonl"])
def test_accuracy_and_macro_f1_meet_the_goal(router: IntentRouter, name: str) -> None:
    m = evaluate_routing(router, read_labelled(ROUTER_DATA / name))
    assert m.accuracy >= GOAL, m.per_class
    assert m.macro_f1 >= GOAL, m.per_class


def test_get_router_is_cached(tmp_path: Path) -> None:
    assert get_router(MODEL) is get_router(MODEL)


def test_metrics_on_known_values() -> None:
    m = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ("a", "b"))
    assert m.accuracy == 0.75
    assert m.per_class["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m.confusion == [[1, 1], [0, 2]]
    with pytest.raises(ValueError, match="equal length"):
        metrics([], [], ("a",))
