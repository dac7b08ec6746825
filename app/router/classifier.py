"""The intent classifier: TF-IDF features + multinomial logistic regression, saved as portable JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.router.features import TextFeaturizer

FORMAT = "switchboard-intent-router/1"


@dataclass
class IntentClassifier:
    """Scores every label for a text; pure numpy at inference (no scikit-learn needed to load)."""

    labels: tuple[str, ...]
    featurizer: TextFeaturizer
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], c: float = 10.0, seed: int = 0) -> IntentClassifier:
        """Fit featurizer and a class-balanced logistic regression on labelled messages."""
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(labels) or not texts:
            raise ValueError("texts and labels must be non-empty and of equal length")
        featurizer = TextFeaturizer().fit(texts)
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
        model.fit(featurizer.transform(texts), labels)
        return cls(
            tuple(str(x) for x in model.classes_), featurizer, model.coef_.copy(), model.intercept_.copy()
        )

    def scores(self, text: str) -> dict[str, float]:
        """Probability of every label (softmax over the linear scores)."""
        idx, vals = self.featurizer.vector(text)
        logits = self.coef[:, idx] @ vals + self.intercept
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}

    def save(self, path: Path) -> None:
        """Write the portable JSON model (rounded floats keep the file small and diff-friendly)."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "labels": list(self.labels),
            "intercept": [round(float(x), 6) for x in self.intercept],
            "coef": [[round(float(x), 5) for x in row] for row in self.coef],
            **self.featurizer.to_json(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> IntentClassifier:
        """Read a model saved by save(); a missing or foreign file is a ValueError naming it."""
        if not path.is_file():
            raise ValueError(f"router model {path} does not exist (run `switchboard router train`)")
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise ValueError(f"router model {path} is not valid JSON: {exc}") from exc
        if data.get("format") != FORMAT:
            raise ValueError(f"router model {path} has format {data.get('format')!r}, expected {FORMAT!r}")
        coef = np.array(data["coef"], dtype=np.float64)
        featurizer = TextFeaturizer.from_json(data)
        if coef.shape != (len(data["labels"]), len(featurizer.vocab)):
            raise ValueError(f"router model {path}: coef shape {coef.shape} does not match labels/features")
        return cls(tuple(data["labels"]), featurizer, coef, np.array(data["intercept"], dtype=np.float64))
