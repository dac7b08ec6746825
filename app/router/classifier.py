"""The intent classifier at serving time: TF-IDF row x linear weights -> calibrated probabilities.

Pure numpy (no scikit-learn needed to load or score); `app.router.training` fits and writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.router.features import TextFeaturizer

FORMAT = "switchboard-intent-router/2"
LINKS = ("softmax", "sigmoid")


@dataclass
class IntentClassifier:
    """Scores every label for a text.

    ``link`` turns the linear scores into probabilities: "softmax" (logistic regression; ``scale`` is a
    temperature-like multiplier) or "sigmoid" (one Platt sigmoid per label, ``scale``/``offset`` per
    label, then normalised: a calibrated one-vs-rest SVM).
    """

    labels: tuple[str, ...]
    featurizer: TextFeaturizer
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)
    link: str = "softmax"
    scale: np.ndarray = field(default_factory=lambda: np.ones(1))
    offset: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ValueError(f"link must be one of {', '.join(LINKS)}; got {self.link!r}")

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from linear scores, for one row (labels,) or many (n, labels)."""
        if self.link == "softmax":
            z = logits * self.scale
            z = z - z.max(axis=-1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=-1, keepdims=True)
        # Platt: p = 1 / (1 + exp(a*s + b)) per label, then normalised to sum to one.
        p = 1.0 / (1.0 + np.exp(self.scale * logits + self.offset))
        return p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-12)

    def scores(self, text: str) -> dict[str, float]:
        """Probability of every label."""
        idx, vals = self.featurizer.vector(text)
        probs = self.probabilities(self.coef[:, idx] @ vals + self.intercept)
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}

    def to_json(self) -> dict[str, Any]:
        """Portable form (rounded floats keep the file small and diff-friendly)."""
        return {
            "format": FORMAT,
            "labels": list(self.labels),
            "link": self.link,
            "scale": [round(float(x), 6) for x in np.atleast_1d(self.scale)],
            "offset": [round(float(x), 6) for x in np.atleast_1d(self.offset)],
            "intercept": [round(float(x), 6) for x in self.intercept],
            "coef": [[round(float(x), 5) for x in row] for row in self.coef],
            **self.featurizer.to_json(),
        }

    @classmethod
    def load(cls, path: Path) -> tuple[IntentClassifier, dict[str, float] | None]:
        """The classifier and the thresholds stored with it; a missing or foreign file is a ValueError."""
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
        model = cls(
            tuple(data["labels"]),
            featurizer,
            coef,
            np.array(data["intercept"], dtype=np.float64),
            data["link"],
            np.array(data["scale"], dtype=np.float64),
            np.array(data["offset"], dtype=np.float64),
        )
        return model, data.get("thresholds")
