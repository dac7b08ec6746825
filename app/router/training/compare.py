"""Classifier comparison: each candidate fitted, calibrated and scored the same way."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from app.router.classifier import IntentClassifier
from app.router.router import IntentRouter, RouterThresholds
from app.router.training.calibrate import calibrate
from app.router.training.evaluate import evaluate_routing, routing_latency_ms
from app.router.training.fit import CANDIDATES, fit_classifier, save_model
from app.router.training.labelled import EVAL_SET, ROUTER_DATA, read_labelled

ENSEMBLE_OF = ("logreg-C30", "linearsvc-C0.3+platt")
ENSEMBLE = f"ensemble({ENSEMBLE_OF[0]},{ENSEMBLE_OF[1]})"


class AveragedClassifier:
    """Mean of two fitted classifiers' probabilities (measured here only: the JSON format has one head)."""

    def __init__(self, a: IntentClassifier, b: IntentClassifier) -> None:
        if a.labels != b.labels:
            raise ValueError("ensemble members must share labels")
        self.a, self.b, self.labels = a, b, a.labels

    def scores(self, text: str) -> dict[str, float]:
        """Average of both members' scores."""
        x, y = self.a.scores(text), self.b.scores(text)
        return {k: (x[k] + y[k]) / 2 for k in x}


def _loaded(model: IntentClassifier, thresholds: dict[str, float], kind: str) -> tuple[IntentRouter, float]:
    """The router as serving would load it from disk, and the load time."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        save_model(model, path, thresholds, {"kind": kind})
        start = time.perf_counter()
        router = IntentRouter.load(path)
        return router, time.perf_counter() - start


def compare(kinds: list[str] | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """One row per candidate: routed accuracy / macro-F1 on calibration and eval sets, latency, load."""
    train = read_labelled(ROUTER_DATA / "train.jsonl")
    calib = read_labelled(ROUTER_DATA / "calibration.jsonl")
    evalset = read_labelled(EVAL_SET)
    rows = []
    texts, labels = [i.text for i in train], [i.label for i in train]
    fitted: dict[str, IntentClassifier] = {}
    for kind in kinds or [*CANDIDATES, ENSEMBLE]:
        start = time.perf_counter()
        if kind == ENSEMBLE:
            members = [fitted.get(k) or fit_classifier(texts, labels, kind=k, seed=seed) for k in ENSEMBLE_OF]
            model: Any = AveragedClassifier(*members)
        else:
            model = fitted[kind] = fit_classifier(texts, labels, kind=kind, seed=seed)
        fit_s = time.perf_counter() - start
        cal = calibrate(IntentRouter(model), calib, seed=seed)
        if kind == ENSEMBLE:
            router = IntentRouter(model, RouterThresholds(**cal.thresholds()))
            load_s = sum(_loaded(m, cal.thresholds(), kind)[1] for m in (model.a, model.b))
        else:
            router, load_s = _loaded(model, cal.thresholds(), kind)
        on_calib, on_eval = evaluate_routing(router, calib), evaluate_routing(router, evalset)
        latency = routing_latency_ms(router, [i.text for i in evalset])
        assert router.thresholds == RouterThresholds(**cal.thresholds())
        rows.append(
            {
                "kind": kind,
                "thresholds": cal.thresholds(),
                "calibration_accuracy": on_calib.accuracy,
                "calibration_macro_f1": on_calib.macro_f1,
                "eval_accuracy": on_eval.accuracy,
                "eval_macro_f1": on_eval.macro_f1,
                "eval_recall": {k: v["recall"] for k, v in on_eval.per_class.items() if v["support"]},
                "fit_s": fit_s,
                "load_s": load_s,
                **latency,
            }
        )
    return rows
