"""Featurizer and classifier: typo-tolerant features, both probability links, JSON round trip, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.router.classifier import IntentClassifier
from app.router.features import ngrams
from app.router.training.featurize import fit_featurizer
from app.router.training.fit import CANDIDATES, fit_classifier, save_model

TEXTS = [
    "my wifi is not working",
    "router keeps disconnecting",
    "how much is the laptop",
    "price of the phone",
    "where is my order",
    "I want a refund",
    "wifi down again",
    "what does the plan cost",
    "talk to a human",
    "get me a person",
] * 3
LABELS = [
    "tech_support", "tech_support", "sales", "sales", "general", "general", "tech_support", "sales",
    "handoff", "handoff",
] * 3  # fmt: skip


def test_char_ngrams_share_features_despite_a_typo() -> None:
    right, typo = set(ngrams("refund")), set(ngrams("refnud"))
    assert {"c: re", "c:ref", "c: ref"} <= right & typo
    assert "w:refund" in right and "w:refund" not in typo


def test_vector_is_unit_length_and_unknown_text_is_empty() -> None:
    f = fit_featurizer(TEXTS, min_df=1)
    idx, values = f.vector("wifi not working")
    assert len(idx) > 0 and abs(float((values**2).sum()) - 1.0) < 1e-9
    assert len(f.vector("§§§")[0]) == 0
    assert f.transform(TEXTS).shape == (len(TEXTS), len(f.vocab))


@pytest.mark.parametrize("kind", ["logreg-C10", "linearsvc-C0.3+platt"])
def test_fit_predict_and_json_round_trip(tmp_path: Path, kind: str) -> None:
    model = fit_classifier(TEXTS, LABELS, kind=kind)
    for text, want in [("wifi not working", "tech_support"), ("talk to a person", "handoff")]:
        scores = model.scores(text)
        assert max(scores, key=scores.__getitem__) == want
        assert sum(scores.values()) == pytest.approx(1.0)
    save_model(model, tmp_path / "m.json", {"threshold": 0.4}, {"kind": kind})
    loaded, thresholds = IntentClassifier.load(tmp_path / "m.json")
    assert thresholds == {"threshold": 0.4} and loaded.link == model.link
    for text in ["the wifi", "laptop cost", "refund please"]:
        a, b = model.scores(text), loaded.scores(text)
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)


def test_sigmoid_link_normalises_platt_probabilities() -> None:
    f = fit_featurizer(TEXTS, min_df=1)
    model = IntentClassifier(
        ("a", "b"),
        f,
        np.zeros((2, len(f.vocab))),
        np.zeros(2),
        "sigmoid",
        np.array([-1.0, -1.0]),
        np.zeros(2),
    )
    # Both labels score 0 -> sigmoid 0.5 each -> normalised 0.5 / 0.5.
    assert model.scores("wifi") == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}
    with pytest.raises(ValueError, match="link"):
        IntentClassifier(("a",), f, np.zeros((1, 1)), np.zeros(1), "tanh")


def test_load_and_fit_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        IntentClassifier.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="format"):
        IntentClassifier.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="equal length"):
        fit_classifier(["a"], [])
    with pytest.raises(ValueError, match="kind"):
        fit_classifier(TEXTS, LABELS, kind="magic")
    assert "logreg-C10" in CANDIDATES
