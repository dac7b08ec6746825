"""Router quality (accuracy, macro-F1, per-class report, confusion) and routing latency."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.router.router import FALLBACK, OUT_OF_SCOPE, ROUTES, IntentRouter, RouteDecision
from app.router.training.labelled import Labelled

NON_ENGLISH = "non_english"  # the outcome "honest English reply + hand-off offer"
OUTCOMES: tuple[str, ...] = (*ROUTES, NON_ENGLISH)


def routed_gold(label: str) -> str:
    """The route a message should take: out-of-scope messages belong to the general adapter."""
    return FALLBACK if label == OUT_OF_SCOPE else label


def gold_outcome(item: Labelled) -> str:
    """What should happen to the message: its route, or the non-English reply for another language."""
    return NON_ENGLISH if item.lang != "en" else routed_gold(item.label)


def outcome(decision: RouteDecision) -> str:
    """What happened to the message."""
    return NON_ENGLISH if decision.reason == NON_ENGLISH else decision.intent


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
    """Classification metrics over ``labels`` (macro-F1 averages the labels that occur in gold)."""
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
    present = [c["f1"] for c in per_class.values() if c["support"]]
    return Metrics(accuracy, float(np.mean(present)), per_class, labels, confusion.tolist())


def evaluate_routing(router: IntentRouter, items: list[Labelled]) -> Metrics:
    """Metrics of what the router does (rules, follow-ups' previous intent and language included)."""
    predicted = [outcome(router.route(i.text, previous_intent=i.previous)) for i in items]
    return metrics([gold_outcome(i) for i in items], predicted, OUTCOMES)


def evaluate_classifier(router: IntentRouter, items: list[Labelled]) -> Metrics:
    """Metrics of the raw classifier's top label over all labels (no rules), English messages only."""
    english = [i for i in items if i.lang == "en"]
    scores = [router.classifier.scores(i.text) for i in english]
    predicted = [max(s, key=s.__getitem__) for s in scores]
    return metrics([i.label for i in english], predicted, router.classifier.labels)


def routing_latency_ms(router: IntentRouter, texts: list[str], repeats: int = 3) -> dict[str, float]:
    """p50/p99/max wall time of one route() call, and p50/p99 of its CPU time (this thread only).

    On a shared machine the wall-time tail is mostly the scheduler running someone else; the CPU
    time is the work route() itself does, so both are reported.
    """
    if not texts:
        raise ValueError("texts must not be empty")
    wall, cpu = [], []
    for _ in range(repeats):
        for t in texts:
            start, start_cpu = time.perf_counter(), time.thread_time()
            router.route(t)
            cpu.append((time.thread_time() - start_cpu) * 1000.0)
            wall.append((time.perf_counter() - start) * 1000.0)
    arr, arr_cpu = np.array(wall), np.array(cpu)
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "max_ms": float(arr.max()),
        "cpu_p50_ms": float(np.percentile(arr_cpu, 50)),
        "cpu_p99_ms": float(np.percentile(arr_cpu, 99)),
        "calls": len(wall),
    }
