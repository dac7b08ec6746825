"""Choose the router's thresholds on the calibration split (never on the evaluation set).

threshold and ambiguity_threshold: a grid search that maximises macro-F1 (then accuracy) of the
routed outcome on calibration messages without context. switch_threshold: the same on simulated
follow-ups: every calibration message with an intent, said in a conversation about another intent
(it should switch), plus the written continuation turns ("still doesn't work", "and then?") said in
each intent's conversation (they should stay). Ties go to the larger value: a fallback to general or
a stay in the current conversation is the cheaper mistake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.router.router import INTENTS, IntentRouter, decide
from app.router.training.evaluate import metrics, routed_gold
from app.router.training.labelled import ROUTER_DATA, Labelled

CONTINUATIONS = ROUTER_DATA / "written" / "continuations.txt"
GRID = tuple(round(x, 3) for x in np.arange(0.0, 0.951, 0.05))
GAP_GRID = tuple(round(x, 3) for x in np.arange(0.0, 0.501, 0.025))


@dataclass(frozen=True)
class Calibration:
    """The chosen thresholds and the calibration-split figures they reached."""

    threshold: float
    ambiguity_threshold: float
    switch_threshold: float
    report: dict[str, Any]

    def thresholds(self) -> dict[str, float]:
        """The values the model file stores (RouterThresholds fields)."""
        return {
            "threshold": self.threshold,
            "ambiguity_threshold": self.ambiguity_threshold,
            "switch_threshold": self.switch_threshold,
        }


def continuations() -> list[str]:
    """The written continuation turns (calibration only)."""
    lines = [ln for ln in CONTINUATIONS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [p.strip() for ln in lines for p in ln.split("|") if p.strip()]


def calibrate(router: IntentRouter, items: list[Labelled], seed: int = 0) -> Calibration:
    """Grid-search the three thresholds for ``router``'s classifier on ``items``."""
    english = [i for i in items if i.lang == "en"]
    scores = [router.classifier.scores(i.text) for i in english]
    gold = [routed_gold(i.label) for i in english]
    best: tuple[float, float, float, float] | None = None
    for low in GRID:
        for gap in GAP_GRID:
            got = [decide(s, True, None, None, low, gap, 1.0).intent for s in scores]
            m = metrics(gold, got, (*INTENTS, "handoff"))
            cand = (m.macro_f1, m.accuracy, low, gap)
            if best is None or cand >= best:
                best = cand
    assert best is not None
    f1, acc, low, gap = best

    rng = random.Random(seed)
    follow: list[tuple[dict[str, float], str, str]] = []  # (scores, previous, gold)
    for s, i in zip(scores, english, strict=True):
        if i.label in INTENTS:
            follow.append((s, rng.choice([x for x in INTENTS if x != i.label]), i.label))
    for text in continuations():
        s = router.classifier.scores(text)
        follow.extend((s, prev, prev) for prev in INTENTS)
    best_switch: tuple[float, float] | None = None
    for switch in GRID:
        got = [decide(s, True, prev, None, low, gap, switch).intent for s, prev, _ in follow]
        acc_switch = float(np.mean([g == p for g, p in zip([f[2] for f in follow], got, strict=True)]))
        if best_switch is None or (acc_switch, switch) >= best_switch:
            best_switch = (acc_switch, switch)
    assert best_switch is not None
    report = {
        "split": "calibration.jsonl",
        "messages": len(english),
        "routed_macro_f1": f1,
        "routed_accuracy": acc,
        "follow_ups": len(follow),
        "follow_up_accuracy": best_switch[0],
        "grid": {"threshold": [GRID[0], GRID[-1], 0.05], "ambiguity_threshold": [0.0, 0.5, 0.025]},
    }
    return Calibration(float(low), float(gap), float(best_switch[1]), report)
