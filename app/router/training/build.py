"""`router build-data`: public sets + project-written data -> train.jsonl and calibration.jsonl."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from app.router.training.labelled import (
    EVAL_SETS,
    ROUTER_DATA,
    Labelled,
    dedupe,
    key,
    read_labelled,
    write_labelled,
)
from app.router.training.public import all_public
from app.router.training.written import written

PUBLIC_ROOT = Path("/work/shared/data")


def held(group: str, fraction: float) -> bool:
    """A stable, seed-free split: the same group always lands on the same side."""
    return int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big") / 2**64 < fraction


def build_router_data(
    public_root: Path = PUBLIC_ROOT, out: Path = ROUTER_DATA, fraction: float = 0.2, seed: int = 0
) -> tuple[list[Labelled], list[Labelled]]:
    """Write out/train.jsonl and out/calibration.jsonl (the split thresholds are chosen on).

    No text of an evaluation set is kept in either file, whatever its source.
    """
    groups = [(key(i.text), i) for i in all_public(public_root, seed)] + written(seed)
    banned = {key(i.text) for path in EVAL_SETS if path.is_file() for i in read_labelled(path)}
    train = [i for g, i in groups if not held(g, fraction)]
    calib = [i for g, i in groups if held(g, fraction)]
    train = [i for i in dedupe(train) if key(i.text) not in banned]
    seen = {key(i.text) for i in train}
    calib = [i for i in dedupe(calib) if key(i.text) not in banned | seen]
    random.Random(seed).shuffle(train)
    write_labelled(out / "train.jsonl", train)
    write_labelled(out / "calibration.jsonl", calib)
    return train, calib
