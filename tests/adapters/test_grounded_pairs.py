"""Two-fact examples (comparisons, follow-ups), fact order and policy-vs-article distractors."""

from __future__ import annotations

import re

from adapters.datasets.grounded import FIRST_SHARE, pick_facts, related
from adapters.datasets.grounded_build import build_grounded
from adapters.datasets.grounded_pairs import overview_tiers, sentence_with
from adapters.datasets.knowledge import Product, load_entries, parse_product
from adapters.examples import ChatExample

BY_KEY = {e.key: e for e in load_entries()}
PRODUCTS = [parse_product(e) for e in load_entries() if e.kind == "product"]


def _examples() -> list[ChatExample]:
    return [e for v in build_grounded(seed=0).values() for e in v]


def _fact_titles(e: ChatExample) -> list[str]:
    return re.findall(r"^\[\d+\] ([^:]+):", e.system, flags=re.M)


def _subject(reply: str) -> Product:
    """The product a one-product reply is about: the one named first."""
    named = [(reply.find(p.name), p) for p in PRODUCTS if p.name in reply]
    assert named, reply
    return min(named, key=lambda t: t[0])[1]


def _answered(examples: list[ChatExample], tag: str) -> list[ChatExample]:
    return [e for e in examples if f":{tag}" in e.group and not e.assistant.startswith("I don't know")]


def test_product_comparisons_state_both_prices_with_both_entries_in_the_facts() -> None:
    pairs = _answered(_examples(), "pair-price:")
    assert len(pairs) > 100
    for e in pairs:
        named = [p for p in PRODUCTS if f"the {p.name} is {p.price}".lower() in e.assistant.lower()]
        assert len(named) == 2, e.assistant
        titles = _fact_titles(e)
        assert all(p.entry.title in titles for p in named)
    # Pairs from different families are compared too ("EchoBuds Pro vs EchoMax ANC").
    assert any("EchoBuds Pro" in e.assistant and "EchoMax ANC" in e.assistant for e in pairs)


def test_plan_comparisons_state_both_plans() -> None:
    plans = _answered(_examples(), "plan-pair:")
    assert len(plans) > 40
    tiers = ("Basic", "Plus", "Premium", "Personal", "Family", "Business")
    for e in plans:
        assert sum(f" {t} " in f" {e.assistant} " or f" {t}:" in e.assistant for t in tiers) == 2, e.assistant
        assert len(re.findall(r"\$\d", e.assistant)) == 2, e.assistant


def test_overview_tiers_parse_every_plan_of_a_service() -> None:
    tiers = overview_tiers(BY_KEY["plan.shieldguard"])
    assert sorted(tiers) == ["Basic", "Plus", "Premium"]
    assert tiers["Plus"] == "Plus $49.99/year (5 devices, VPN and password manager)"


def test_switching_follow_ups_answer_the_last_message_not_the_earlier_turn() -> None:
    switches = _answered(_examples(), "switch-")
    assert len(switches) > 80
    for e in switches:
        assert len(e.history) == 1
        earlier, asked = _subject(e.history[0][1]), _subject(e.assistant)
        assert earlier != asked, (e.history, e.assistant)
        titles = _fact_titles(e)
        assert earlier.entry.title in titles and asked.entry.title in titles


def test_entry_follow_ups_reply_with_the_sentence_the_follow_up_asks_for() -> None:
    follows = [e for e in _answered(_examples(), "follow-policy.") if e.history]
    assert len(follows) > 30
    assert any(e.assistant != e.history[0][1] for e in follows)
    assert sentence_with(BY_KEY["contact.hours"], "Closed on Sundays").startswith("Closed on Sundays")


def test_the_answering_entry_comes_first_most_of_the_time_but_not_always() -> None:
    examples = [e for e in _answered(_examples(), "policy.") if not e.history]
    assert len(examples) > 100
    first = 0
    for e in examples:
        key = e.group.split(":")[1]
        first += _fact_titles(e)[0] == BY_KEY[key].title
    share = first / len(examples)
    assert FIRST_SHARE - 0.15 < share < FIRST_SHARE + 0.15 and share < 1.0, share


def test_policy_questions_meet_help_articles_and_still_state_the_policy() -> None:
    examples = [e for e in _answered(_examples(), "policy.") if not e.history]
    with_article = [e for e in examples if "] " in e.system and re.search(r"\[\d+\] [^:]+: 1\. ", e.system)]
    assert len(with_article) > 0.4 * len(examples)
    assert not any(e.assistant.startswith("Here's how") for e in examples)


def test_pick_facts_keeps_the_right_entries_and_related_finds_the_matching_article() -> None:
    import random

    pool = list(load_entries())
    right = [BY_KEY["policy.returns"]]
    articles = [e for e in pool if e.kind == "article"]
    near = related(right[0], "how do I send it back", articles)
    assert near and near[0].key == "article.start-return"
    rng = random.Random(0)
    for _ in range(50):
        facts = pick_facts(right, [e for e in pool if e.key != "policy.returns"], rng, near)
        assert right[0] in facts and 2 <= len(facts) <= 4
