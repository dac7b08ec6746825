"""Classifier comparison: each candidate fitted, calibrated and scored the same way."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from app.router.router import IntentRouter, RouterThresholds
from app.router.training.calibrate import calibrate
from app.router.training.evaluate import evaluate_routing, routing_latency_ms
from app.router.training.fit import CANDIDATES, fit_classifier, save_model
from app.router.training.labelled import EVAL_SET, ROUTER_DATA, read_labelled


def compare(kinds: list[str] | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """One row per candidate: routed accuracy / macro-F1 on calibration and eval sets, latency, load."""
    train = read_labelled(ROUTER_DATA / "train.jsonl")
    calib = read_labelled(ROUTER_DATA / "calibration.jsonl")
    evalset = read_labelled(EVAL_SET)
    rows = []
    for kind in kinds or list(CANDIDATES):
        start = time.perf_counter()
        model = fit_classifier([i.text for i in train], [i.label for i in train], kind=kind, seed=seed)
        fit_s = time.perf_counter() - start
        cal = calibrate(IntentRouter(model), calib, seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.json"
            save_model(model, path, cal.thresholds(), {"kind": kind})
            start = time.perf_counter()
            router = IntentRouter.load(path)
            load_s = time.perf_counter() - start
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
