"""Labelled customer messages for the router, with a held-out split training never sees."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from adapters.datasets.bitext import ROUTER_ONLY, SOURCE_CSV
from adapters.examples import DATA_DIR as ADAPTER_DATA
from adapters.examples import INTENTS, read_jsonl

LABELS: tuple[str, ...] = (*INTENTS, "out_of_scope")
ROUTER_DATA = Path(__file__).resolve().parent / "data"
HARD_HELDOUT = "hard_heldout.jsonl"
# CLINC150 domains that are neither this store nor banking; intents that sound like device help are left out
# so "out of scope" never contradicts tech_support.
CLINC_OOS_DOMAINS = ("kitchen_and_dining", "home", "auto_and_commute", "travel", "utility", "work", "meta")
CLINC_SKIP = {"find_phone", "sync_device", "reset_settings", "smart_home", "make_call", "text"}
# Only the SOFMattress labels whose meaning is the same in this store: "call me back" (LEAD_GEN), pin-code
# delivery checks and distributor questions are not sales here.
SOF_SALES = {
    "MATTRESS_COST",
    "EMI",
    "OFFERS",
    "PRODUCT_VARIANTS",
    "WHAT_SIZE_TO_ORDER",
    "COMPARISON",
    "100_NIGHT_TRIAL_OFFER",
}
SOF_GENERAL = {"ORDER_STATUS", "DELAY_IN_DELIVERY", "CANCEL_ORDER", "RETURN_EXCHANGE", "WARRANTY"}


@dataclass(frozen=True)
class Labelled:
    """One customer message, its gold label and where it came from."""

    text: str
    label: str
    source: str

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}; got {self.label!r}")


def _held(key: str, fraction: float) -> bool:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64 < fraction


def from_adapter_data(adapter_data: Path) -> tuple[list[Labelled], list[Labelled]]:
    """User turns of the adapters' chat data, keeping the adapters' own train/held-out split."""
    train: list[Labelled] = []
    held: list[Labelled] = []
    for intent in INTENTS:
        for name, bucket in (("train", train), ("heldout", held)):
            for ex in read_jsonl(adapter_data / intent / f"{name}.jsonl"):
                bucket.append(Labelled(ex.user, intent, ex.source))
    return train, held


def from_public(root: Path, fraction: float, seed: int) -> tuple[list[Labelled], list[Labelled]]:
    """Bitext router-only intents, CLINC150 small talk / out-of-scope, HINT3 SOFMattress store queries."""
    rng = random.Random(seed)
    train: list[Labelled] = []
    held: list[Labelled] = []
    with (root / SOURCE_CSV).open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["intent"] in ROUTER_ONLY:
                item = Labelled(row["instruction"].strip(), ROUTER_ONLY[row["intent"]], "bitext")
                (held if _held(item.text, fraction) else train).append(item)
    clinc = json.loads((root / "clinc150/data_full.json").read_text())
    domains = json.loads((root / "clinc150/domains.json").read_text())
    label_of = dict.fromkeys(domains["small_talk"], "general")
    label_of.update({i: "out_of_scope" for d in CLINC_OOS_DOMAINS for i in domains[d] if i not in CLINC_SKIP})
    label_of["oos"] = "out_of_scope"
    per_intent = {"train": 20, "test": 6}
    for split, bucket in (("train", train), ("test", held)):
        by_intent: dict[str, list[str]] = {}
        for text, intent in clinc[split] + clinc[f"oos_{split}"]:
            by_intent.setdefault(intent, []).append(text)
        for intent, texts in sorted(by_intent.items()):
            if intent in label_of:
                k = 150 if intent == "oos" else per_intent[split]
                bucket.extend(
                    Labelled(t, label_of[intent], "clinc150") for t in rng.sample(texts, min(k, len(texts)))
                )
    for split, bucket in (("train", train), ("test", held)):
        with (root / f"hint3/sofmattress_{split}.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                label = (
                    "sales"
                    if row["label"] in SOF_SALES
                    else "general"
                    if row["label"] in SOF_GENERAL
                    else None
                )
                if label:
                    bucket.append(Labelled(row["sentence"].strip(), label, "hint3"))
    return train, held


def read_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of {text, label, source}; a bad line is a ValueError naming file and line."""
    if not path.is_file():
        raise ValueError(f"router data {path} does not exist (run `switchboard router build-data`)")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                r = json.loads(line)
                out.append(Labelled(r["text"], r["label"], r.get("source", "unknown")))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return out


def write_labelled(path: Path, items: list[Labelled]) -> None:
    """Write {text, label, source} JSON lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i.__dict__, ensure_ascii=False) + "\n" for i in items))


def dedupe(items: list[Labelled]) -> list[Labelled]:
    """First occurrence of each (case-insensitive) text."""
    seen: set[str] = set()
    out = []
    for i in items:
        key = i.text.lower().strip()
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def build_router_data(
    public_root: Path,
    adapter_data: Path = ADAPTER_DATA,
    out: Path = ROUTER_DATA,
    fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[Labelled], list[Labelled]]:
    """Write out/train.jsonl and out/heldout.jsonl (the hand-written hard set is added at eval time)."""
    from app.router.augment import augmented

    a_train, a_held = from_adapter_data(adapter_data)
    p_train, p_held = from_public(public_root, fraction, seed)
    # The hand-written hard set is test-only: a training text that happens to equal one of its texts goes.
    hard = (
        {i.text.lower().strip() for i in read_labelled(out / HARD_HELDOUT)}
        if (out / HARD_HELDOUT).is_file()
        else set()
    )
    train = [i for i in dedupe(a_train + p_train + augmented(seed)) if i.text.lower().strip() not in hard]
    seen = {i.text.lower().strip() for i in train}
    # Template copies repeat texts: count each message once and never test on a text trained on.
    held = [i for i in dedupe(a_held + p_held) if i.text.lower().strip() not in seen]
    random.Random(seed).shuffle(train)
    write_labelled(out / "train.jsonl", train)
    write_labelled(out / "heldout.jsonl", held)
    return train, held
