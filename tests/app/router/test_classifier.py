"""Featurizer and classifier: typo-tolerant features, JSON round trip, clear load errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.router.classifier import IntentClassifier
from app.router.features import TextFeaturizer, ngrams

TEXTS = [
    "my wifi is not working",
    "router keeps disconnecting",
    "how much is the laptop",
    "price of the phone",
    "where is my order",
    "I want a refund",
    "wifi down again",
    "what does the plan cost",
]
LABELS = ["tech_support", "tech_support", "sales", "sales", "general", "general", "tech_support", "sales"]


def test_char_ngrams_share_features_despite_a_typo() -> None:
    right, typo = set(ngrams("refund")), set(ngrams("refnud"))
    assert {"c: re", "c:ref", "c: ref"} <= right & typo
    assert "w:refund" in right and "w:refund" not in typo


def test_vector_is_unit_length_and_unknown_text_is_empty() -> None:
    f = TextFeaturizer().fit(TEXTS, min_df=1)
    idx, values = f.vector("wifi not working")
    assert len(idx) > 0 and abs(float((values**2).sum()) - 1.0) < 1e-9
    assert len(f.vector("§§§")[0]) == 0
    assert f.transform(TEXTS).shape == (len(TEXTS), len(f.vocab))


def test_fit_predict_and_json_round_trip(tmp_path: Path) -> None:
    model = IntentClassifier.fit(TEXTS, LABELS)
    scores = model.scores("wifi not working")
    assert max(scores, key=scores.__getitem__) == "tech_support"
    model.save(tmp_path / "m.json")
    loaded = IntentClassifier.load(tmp_path / "m.json")
    for text in ["the wifi", "laptop cost", "refund please"]:
        a, b = model.scores(text), loaded.scores(text)
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)


def test_load_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        IntentClassifier.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="format"):
        IntentClassifier.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="equal length"):
        IntentClassifier.fit(["a"], [])
