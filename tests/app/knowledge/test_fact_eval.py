"""Factual eval scoring: the committed question set, fact matching, invented-number counting."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.knowledge.entries import read_entries
from app.knowledge.fact_eval import (
    FactQuestion,
    Outcome,
    _local_unverified,
    load_questions,
    normalise,
    states_fact,
    summarise,
)

# Every committed set: the first (191) and the later independent ones (facts_questions_v2.jsonl, ...).
QUESTION_SETS = sorted(Path(__file__).parents[3].joinpath("adapters", "eval").glob("facts_questions*.jsonl"))


def test_question_set_is_large_varied_and_agrees_with_the_knowledge() -> None:
    questions = load_questions()
    kinds = Counter(q.kind for q in questions)
    assert len(questions) >= 150 and len({q.id for q in questions}) == len(questions)
    assert kinds["not_covered"] >= 15 and kinds["followup"] >= 10 and kinds["comparison"] >= 10
    assert len(QUESTION_SETS) >= 4


@pytest.mark.parametrize("path", QUESTION_SETS, ids=lambda p: p.name)
def test_every_question_set_agrees_with_the_knowledge(path: Path) -> None:
    questions = load_questions(path)
    assert questions and len({q.id for q in questions}) == len(questions)
    texts = {e.key: normalise(f"{e.title} {e.text}") for e in read_entries()}
    for q in questions:
        if q.kind == "not_covered":
            continue
        facts = " ".join(texts[k] for k in q.keys)  # every key names a real entry
        assert all(normalise(s) in facts for s in q.must_contain_all), q.id
        assert not q.must_contain_any or any(normalise(s) in facts for s in q.must_contain_any), q.id


def test_states_fact_ignores_case_spacing_and_thousands_commas() -> None:
    q = FactQuestion("x", "price", ("pro 15?",), must_contain_any=("$1,499",))
    assert states_fact("The Voltbook Pro 15 is $1499.", q)
    assert not states_fact("The Voltbook Pro 15 is $2,499.", q)
    both = FactQuestion("y", "comparison", ("a or b",), must_contain_all=("$89", "$199"))
    assert states_fact("Mini $89, AX3000 $199", both) and not states_fact("Mini $89", both)
    assert normalise("40-hour  Battery") == "40hourbattery"


def test_numbers_not_in_the_facts_are_counted() -> None:
    facts = ["Voltbook Air 13 laptop: $899, in stock. 16 GB RAM."]
    assert _local_unverified("The Air 13 is $899 with 16 GB RAM.", facts) == []
    assert _local_unverified("The Air 13 is $999, 2 left.", facts) == ["999", "2"]
    q = FactQuestion("z", "price", ("air?",), must_contain_any=("$899",))
    good = Outcome(q, "It is $899.", "sales", "sales", ["product.voltbook-air-13"], facts, 5, "stop")
    bad = Outcome(q, "It is $999.", "sales", "sales", ["product.voltbook-air-13"], facts, 5, "length")
    summary = summarise([good, bad], facts)
    assert summary["right_pct"] == 50.0 and summary["invented_numbers"] == 1
    assert summary["hit_max_new_tokens"] == 1 and summary["right_pct_by_kind"] == {"price": 50.0}
