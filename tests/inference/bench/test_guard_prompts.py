"""The guard benchmark's prompts: the facts block is the serving format, and the fixture is consistent."""

from __future__ import annotations

from adapters.grounding import FactSnippet, facts_block
from inference.bench.guard_bench import rates
from inference.bench.guard_prompts import FACTS, PROMPTS
from inference.bench.guard_prompts import facts_block as bench_facts_block
from inference.bench.guard_report import markdown
from inference.number_guard import allowed_values, unverified_numbers


def test_facts_block_is_the_serving_format() -> None:
    for prompt in PROMPTS:
        snippets = [FactSnippet(k, FACTS[k][0], FACTS[k][1]) for k in prompt.facts]
        assert bench_facts_block(prompt.facts) == facts_block(snippets)


def test_every_fact_passes_its_own_guard_and_prompts_name_known_facts() -> None:
    for title, text in FACTS.values():
        assert unverified_numbers(text, allowed_values([text])) == [], title
    assert all(k in FACTS for p in PROMPTS for k in p.facts)
    assert len({p.question for p in PROMPTS}) == len(PROMPTS)


def test_rates_count_unverified_numbers_per_reply() -> None:
    texts = {0: "The Voltbook Pro 15 is $1,499.", 1: "It is $2,499 and ships in 3 days."}
    r = rates(texts, PROMPTS)
    assert r["replies_with_unverified"] == 1 and r["unverified_per_reply"] == 1.0  # 2 in 2 replies
    assert r["unverified_examples"] == ["$2,499", "3"] and r["numbers_per_reply"] == 2.0  # "15" counts


def test_report_names_cpu_and_command() -> None:
    row = {
        "replies": 1,
        "replies_with_unverified": 0,
        "unverified_per_reply": 0.0,
        "numbers_per_reply": 1.0,
        "wall_s": 1.0,
        "wall_ratio": 1.0,
        "tpot_ms": 10.0,
        "tpot_ratio": 1.0,
        "unverified_examples": [],
    }
    results = {
        "cpu": {"label": "Test CPU (avx2)", "usable_cores": 2},
        "config": {
            "model": "m",
            "prompts": 1,
            "decoding": "greedy",
            "max_new_tokens": 8,
            "repeats": 1,
            "threads": 1,
        },
        "token_table_build_s": 0.1,
        "questions": ["q"],
        "batches": {
            "1": {
                "none": row,
                "guard": {**row, "masks_built_per_run": 3},
                "post": {**row, "check_ms_per_reply": 0.01},
                "replies": {"0": {"none": "a 5", "guard": "a", "post": "a"}},
            }
        },
    }
    md = markdown(results)
    assert "Test CPU (avx2)" in md and "switchboard bench guard" in md and "(c) decode-time" in md


def test_guard_overhead_replays_replies_through_the_guard(tokenizer) -> None:
    from inference.bench.guard_overhead import guard_overhead, predicted_ratio

    texts = {0: "The Voltbook Pro 15 is $1,499.", 4: "The Nova X2 is $699."}
    out = guard_overhead(tokenizer, len(tokenizer), texts, max_new_tokens=64)
    assert out["tokens"] > 10 and out["cold_us_per_token"] > 0 and out["warm_us_per_token"] > 0
    assert predicted_ratio(100.0, 10.0, 8) == 1.08
