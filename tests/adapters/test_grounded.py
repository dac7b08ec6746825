"""Grounded training data: facts in the system turn, distractors, short replies, no invented numbers."""

from __future__ import annotations

import json
import re
import statistics

from adapters.datasets.grounded_build import build_grounded
from adapters.datasets.grounded_unknown import not_sold_note
from adapters.datasets.knowledge import load_entries, parse_product
from adapters.examples import DATA_DIR, INTENTS, ChatExample, read_jsonl
from adapters.grounding import FACTS_HEADER, NO_FACTS_LINE

EVAL_QUESTIONS = DATA_DIR.parent / "eval" / "facts_questions.jsonl"
# Also the eighth set's bare greeting "hi", the first turn of e108 (its question is the third turn).
KNOWN_OVERLAP = {"echomax in stock", "can i pay with amex", "hi"}
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def test_build_is_deterministic_and_covers_every_intent() -> None:
    first, second = build_grounded(seed=0), build_grounded(seed=0)
    assert set(first) == set(INTENTS)
    for intent in INTENTS:
        assert len(first[intent]) > 300
        assert [e.to_json() for e in first[intent]] == [e.to_json() for e in second[intent]]


def test_every_reply_number_is_in_its_facts_and_facts_come_with_distractors() -> None:
    examples = [e for v in build_grounded(seed=0).values() for e in v]
    with_facts = [e for e in examples if FACTS_HEADER in e.system]
    assert len(with_facts) > 0.9 * len(examples)
    assert all(FACTS_HEADER in e.system or NO_FACTS_LINE in e.system for e in examples)
    for e in examples:
        extra = _numbers(e.assistant) - _numbers(e.system)
        assert not extra, (e.user, e.assistant, extra)
    multi = sum(e.system.count("\n[") >= 2 for e in with_facts)
    assert multi == len(with_facts)  # the right entry is never alone: 1-2 distractors


def test_replies_are_short_and_unknowns_say_so(tokenizer) -> None:
    examples = [e for v in build_grounded(seed=0).values() for e in v]
    lengths = [len(tokenizer(e.assistant)["input_ids"]) for e in examples]
    assert statistics.median(lengths) <= 60
    own = [e for e in examples if ":own:" in e.group or ":off:" in e.group or ":missing:" in e.group]
    assert own and all(e.assistant.startswith("I don't know") for e in own)
    people = [e for e in own if ":missing:" not in e.group]
    assert all("talk to a person" in e.assistant for e in people)


def test_models_the_store_lacks_are_not_answered_with_the_nearest_models_price() -> None:
    examples = [e for e in build_grounded(seed=0)["sales"] if ":missing:" in e.group]
    assert len(examples) > 30
    for e in examples:
        assert e.assistant.startswith("I don't know of that model") and "don't sell" in e.assistant
        assert "$" not in e.assistant  # the nearest model is only a distractor
        assert FACTS_HEADER in e.system and "$" in e.system


def test_history_and_system_round_trip_through_json() -> None:
    ex = ChatExample("sales", "and the price?", "It is $5.", "t", "g", "sys + facts", (("hi", "hello"),))
    back = ChatExample.from_json(json.loads(json.dumps(ex.to_json())))
    assert back == ex
    assert [m["role"] for m in ex.messages()] == ["system", "user", "assistant", "user", "assistant"]


def test_products_parse_into_price_stock_and_specs() -> None:
    products = [parse_product(e) for e in load_entries() if e.kind == "product"]
    assert products and all(p.price.startswith("$") and "stock" in p.stock for p in products)
    by_name = {p.name: p for p in products}
    assert by_name["Voltbook Pro 15"].price == "$1,499"
    assert by_name["Nova Lite"].stock == "out of stock now, back in stock next week"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$%]+", text.lower()))


def test_no_eval_question_appears_in_the_training_data() -> None:
    eval_turns = {
        _norm(t)
        for path in EVAL_QUESTIONS.parent.glob("facts_questions*.jsonl")  # every set, v2 and later too
        for line in path.read_text().splitlines()
        if line.strip()
        for t in json.loads(line)["turns"]
    }
    assert len(eval_turns) >= 150 + 100
    built = [e for v in build_grounded(seed=0).values() for e in v]
    committed = [e for i in (*INTENTS, "mixed") for e in read_jsonl(DATA_DIR / i / "train.jsonl")]
    train_texts = {_norm(t) for e in built + committed for t in (e.user, *(u for u, _ in e.history))}
    # Two short questions of the later sets (g014 "echomax in stock?", h038 "can i pay with amex"),
    # written without sight of the training data, happen to equal training phrasings word for word;
    # they are named in docs/benchmarks/facts/README.md, as is the greeting "hi" that opens one
    # eighth-set chat. Any other overlap fails.
    assert eval_turns & train_texts <= KNOWN_OVERLAP, sorted(eval_turns & train_texts - KNOWN_OVERLAP)[:5]


def test_the_not_sold_note_matches_the_one_serving_writes() -> None:
    from app.knowledge.not_sold import CatalogueItem, families_of
    from app.knowledge.not_sold import not_sold_note as serving_note

    entries = [e for e in load_entries() if e.kind in ("product", "plan")]
    families = families_of(CatalogueItem(e.key, e.title, e.text) for e in entries)
    for name in ("Voltbook Pro 17", "Nova X3", "MeshWave AX6000", "HomeCam 4K"):
        served = serving_note(f"how much is the {name}?", families)
        ours = not_sold_note(name, [e for e in entries if e.kind == "product"])
        assert served is not None and ours is not None
        assert (ours.title, ours.text) == (served.title, served.text)
    notes = [e for e in build_grounded(seed=0)["sales"] if ":missing-note:" in e.group]
    assert len(notes) > 30
    assert all("[1] Not sold: We do not sell the" in e.system for e in notes)
    assert all(e.assistant.startswith("We do not sell the") for e in notes)
