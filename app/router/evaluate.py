"""Router quality (accuracy, macro-F1, per-class report, confusion) and routing latency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.router.dataset import Labelled
from app.router.router import FALLBACK, INTENTS, OUT_OF_SCOPE, IntentRouter


def routed_gold(label: str) -> str:
    """The intent a message should reach: out-of-scope messages belong to the general adapter."""
    return FALLBACK if label == OUT_OF_SCOPE else label


@dataclass(frozen=True)
class Metrics:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    labels: tuple[str, ...]
    confusion: list[list[int]]  # rows: gold, columns: predicted

    def to_json(self) -> dict[str, Any]:
        """Plain dict for eval.json."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": self.per_class,
            "labels": list(self.labels),
            "confusion": self.confusion,
        }


def metrics(gold: list[str], predicted: list[str], labels: tuple[str, ...]) -> Metrics:
    """Classification metrics over ``labels`` (a label absent from gold and predictions scores 0 F1)."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError("gold and predicted must be non-empty and of equal length")
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g], index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    for label, i in index.items():
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i, :].sum() if confusion[i, :].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(confusion[i, :].sum()),
        }
    accuracy = float(np.trace(confusion) / confusion.sum())
    macro = float(np.mean([c["f1"] for c in per_class.values()]))
    return Metrics(accuracy, macro, per_class, labels, confusion.tolist())


def evaluate_routing(router: IntentRouter, items: list[Labelled]) -> Metrics:
    """Metrics of the final routed intent (fallbacks included) against gold mapped to the 3 intents."""
    predicted = [router.route(i.text).intent for i in items]
    return metrics([routed_gold(i.label) for i in items], predicted, INTENTS)


def evaluate_classifier(router: IntentRouter, items: list[Labelled]) -> Metrics:
    """Metrics of the raw classifier over all labels, out_of_scope included (no fallback rules)."""
    scores = [router.classifier.scores(i.text) for i in items]
    predicted = [max(s, key=s.__getitem__) for s in scores]
    return metrics([i.label for i in items], predicted, router.classifier.labels)


def routing_latency_ms(router: IntentRouter, texts: list[str], repeats: int = 3) -> dict[str, float]:
    """p50/p99/max wall time of one route() call, over every text ``repeats`` times."""
    if not texts:
        raise ValueError("texts must not be empty")
    samples = []
    for _ in range(repeats):
        for t in texts:
            start = time.perf_counter()
            router.route(t)
            samples.append((time.perf_counter() - start) * 1000.0)
    arr = np.array(samples)
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "max_ms": float(arr.max()),
        "calls": len(samples),
    }
