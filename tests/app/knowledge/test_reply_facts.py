"""ReplyFacts: the prompt, the copy bias and the number guard read the same facts, in the same order."""

from __future__ import annotations

import dataclasses

from adapters.grounding import FACTS_HEADER, NO_FACTS_LINE, FactSnippet
from app.knowledge.reply_facts import COVERED, REFUSAL_OPENINGS, ReplyFacts, Steering
from app.knowledge.retrieval import Hit

HITS = (
    Hit("product.nova-x2", 3, "Nova X2", "The Nova X2 costs 499 dollars.", "product", 0.9),
    Hit("policy.returns", 1, "Returns", "Returns are free within   30 days.", "policy", 0.7),
)
NOTE = FactSnippet("note.not-sold", "Not sold", "The store does not sell the Nova X3.")


def test_the_prompt_shows_exactly_the_copy_texts_note_first() -> None:
    facts = ReplyFacts("nova x3 price", HITS, note=NOTE)
    prompt = facts.system_prompt("You are the store's assistant.")
    block = prompt.split("\n\n", 1)[1].splitlines()
    assert block[0] == FACTS_HEADER
    copied = facts.copy_texts()
    assert block[1:] == [f"[{n}] {text}" for n, text in enumerate(copied, start=1)]
    assert copied == [
        "Not sold: The store does not sell the Nova X3.",
        "Nova X2: The Nova X2 costs 499 dollars.",
        "Returns: Returns are free within 30 days.",
    ]
    assert facts.fact_texts() == [NOTE.text, HITS[0].text, HITS[1].text]


def test_a_caller_changing_its_snippets_does_not_change_the_prompt() -> None:
    facts = ReplyFacts("nova x2", HITS)
    before = facts.system_prompt("")
    facts.snippets().clear()  # the snippets are built once and shared: callers get a copy
    assert facts.system_prompt("") == before != NO_FACTS_LINE
    assert len(facts.copy_texts()) == 2


def test_no_hits_and_no_note_say_none_were_found() -> None:
    assert ReplyFacts("anything").system_prompt("") == NO_FACTS_LINE
    assert ReplyFacts("anything").copy_texts() == []


def test_refusals_are_banned_only_when_the_top_entry_was_named_and_no_note_says_it_is_missing() -> None:
    named = (dataclasses.replace(HITS[0], named=True), HITS[1])
    assert ReplyFacts("nova x2 price", named).banned_openings() == REFUSAL_OPENINGS
    assert ReplyFacts("nova x2 price", named).steering() == Steering(
        ("Nova X2: The Nova X2 costs 499 dollars.", "Returns: Returns are free within 30 days."),
        REFUSAL_OPENINGS,
        "Nova X2: The Nova X2 costs 499 dollars.",  # a named product ranked first: its card (quotes.py)
        True,
    )
    assert ReplyFacts("cheap phone price", HITS).banned_openings() == ()  # found by words alone
    assert ReplyFacts("nova x3 price", named, note=NOTE).banned_openings() == ()
    assert ReplyFacts("hello").banned_openings() == ()
    # The second hit being named does not count: the reply answers from the first.
    assert ReplyFacts("returns", (HITS[1], named[0])).banned_openings() == ()


def test_a_top_entry_holding_most_of_the_question_bans_the_refusals_too() -> None:
    covering = (dataclasses.replace(HITS[1], coverage=COVERED), HITS[0])
    assert ReplyFacts("returns policy", covering).banned_openings() == REFUSAL_OPENINGS
    partial = (dataclasses.replace(HITS[1], coverage=COVERED - 0.1), HITS[0])
    assert ReplyFacts("returns for a gift", partial).banned_openings() == ()


def test_a_contact_entry_ranked_first_is_the_forced_opening() -> None:
    phone = Hit("contact.phone", 1, "Support phone", "Call 0800 555 0142.", "contact", 1.2)
    assert ReplyFacts("number pls", (phone, HITS[1])).forced_opening() == "Call 0800 555 0142."
    steering = ReplyFacts("number pls", (phone,)).steering()
    assert (steering.forced_opening, steering.end_after_opening) == ("Call 0800 555 0142.", True)
    assert not ReplyFacts("returns", HITS).steering().end_after_opening
    assert ReplyFacts("returns", (HITS[1], phone)).forced_opening() == ""  # not first: no quote
    assert ReplyFacts("nova x3", (phone,), note=NOTE).forced_opening() == ""

