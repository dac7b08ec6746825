"""allowed_values and the post-check: what a number is, which forms a fact allows, what gets caught."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.number_guard import allowed_values, rules_for, span_variants, unverified_numbers
from inference.number_spans import NUM, START, feed, finish, scan

FACTS = [
    "Voltbook Pro 15 laptop: $1,499, in stock. 15-inch display, 32 GB RAM, 1 TB SSD. 2-year warranty.",
    "Voltline support phone: 0800 555 0142, Monday to Saturday, 8:00-20:00 CET.",
    "Voltline support email: help@voltline.example. We answer within one business day.",
    "Refunds: within 5\u20137 business days. CloudKeep Personal $3.99/month (200 GB). 14-day free trial.",
    "ShieldGuard Plus: $49.99/year, 5 devices; paying yearly gives two months free.",
]
ALLOWED = allowed_values(FACTS)


def spans(text: str) -> list[str]:
    return [e.span for e in scan(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,499, in stock.", ["$1,499"]),
        ("costs 49.99. Then", ["49.99"]),
        ("a 14-day trial and 2 TB", ["14", "2"]),
        ("5-7 days, 24/7, 8:00-20:00", ["5-7", "24/7", "8:00-20:00"]),
        ("call 1-800-555-0199.", ["1-800-555-0199"]),
        ("AX3000, SmolLM2, team24 and x2", []),
        ("write to Help@Voltline.Example.", ["help@voltline.example"]),
        ("1. Open\n2) Tap\n  3. Done", ["1", "2", "3"]),
        ("20% off, 1, 2, 3", ["20", "1", "2", "3"]),
        ("US$299 or $ 5", ["$299", "$", "5"]),  # a "$" with no price after it is checked too
        ("no digits @ all, a@", []),
    ],
)
def test_scan_finds_number_and_email_spans(text: str, expected: list[str]) -> None:
    assert spans(text) == expected


def test_money_allows_its_forms_and_a_plain_number_does_not_become_money() -> None:
    forms = span_variants("$1,499")
    assert {"$1,499", "1,499", "$1499", "1499", "$1,499.00"} <= forms
    assert "$30" not in span_variants("30")
    assert {"5", "7", "5-7"} <= span_variants("5-7")
    assert {"800-555-0199", "555-0199", "1-800-555-0199"} <= span_variants("1-800-555-0199")
    assert "499" not in span_variants("1,499")  # a thousands comma is no list separator


def test_allowed_values_cover_prices_ranges_phones_emails_and_number_words() -> None:
    assert {"$1,499", "1,499", "5-7", "5", "7", "$3.99", "49.99", "0800-555-0142", "08005550142"} <= ALLOWED
    assert "help@voltline.example" in ALLOWED
    assert {"1", "2"} <= ALLOWED  # "one business day", "two months"
    assert "$5" not in ALLOWED


@pytest.mark.parametrize(
    "reply",
    [
        "The Voltbook Pro 15 is $1,499 (1499 dollars), with a 2-year warranty.",
        "Refunds take 5-7 business days (5 to 7), call 0800 555 0142 or 0800-555-0142.",
        "Email help@voltline.example. Hours: 8:00 to 20:00.",
        "Steps:\n1. Open Settings\n2. Tap Reset\n3. Sign in again",
        "ShieldGuard Plus costs $49.99/year for 5 devices, 2 months free.",
        "We sell the MeshWave AX3000 router.",
    ],
)
def test_faithful_replies_pass(reply: str) -> None:
    assert unverified_numbers(reply, ALLOWED) == []


@pytest.mark.parametrize(
    ("reply", "caught"),
    [
        ("The Voltbook Pro 15 is $2,499.", ["$2,499"]),
        ("Plus is $69.99/year and comes with 3 masks.", ["$69.99", "3"]),
        ("Refunds take 30 days.", ["30"]),
        ("Call 0800 555 0199.", ["0199"]),
        ("Write to support@voltline.example.", ["support@voltline.example"]),
        ("It is $15, $15 again, and 1,4", ["$15", "1,4"]),
        ("Step 1. is inline, not a marker", []),  # "1" is a fact value ("1 TB")
        ("Step 9. is inline", ["9"]),
    ],
)
def test_invented_numbers_are_caught(reply: str, caught: list[str]) -> None:
    assert unverified_numbers(reply, ALLOWED) == caught


def test_raw_allowed_values_get_their_forms() -> None:
    assert unverified_numbers("It is 1,499 or $1499.", frozenset({"$1,499"})) == []
    assert unverified_numbers("It is $30.", frozenset({"30"})) == ["$30"]
    assert unverified_numbers("nothing allowed: 7", frozenset()) == ["7"]


numbers = st.builds(
    lambda cur, n, dec: f"{'$' if cur else ''}{n:,}{dec}",
    st.booleans(),
    st.integers(0, 10**7),
    st.sampled_from(["", ".99", ".5"]),
)
filler = st.sampled_from([" costs ", " and ", ", then ", " for ", "\n", " (", ") "])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(filler, numbers), min_size=1, max_size=6))
def test_any_number_from_the_facts_passes_and_a_changed_one_is_caught(parts: list[tuple[str, str]]) -> None:
    fact = "Facts:" + "".join(f"{sep}{num}" for sep, num in parts) + "."
    allowed = allowed_values([fact])
    assert unverified_numbers(fact, allowed) == []
    # The same text with every number's last digit changed: every changed number is reported.
    changed = [num[:-1] + str((int(num[-1]) + 1) % 10) for _, num in parts]
    reply = "Reply:" + "".join(f"{sep}{num}" for (sep, _), num in zip(parts, changed, strict=True)) + "."
    caught = unverified_numbers(reply, allowed)
    for (sep, _), num in zip(parts, changed, strict=True):
        maybe_list_marker = sep == "\n" and num.isdigit() and len(num) <= 2
        if num not in allowed and not maybe_list_marker:
            assert num in caught


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789$,.-/:@ab \n)", max_size=40))
def test_scan_spans_are_well_formed(text: str) -> None:
    for event in scan(text):
        if event.mode == NUM and event.span == "$":
            assert event.end  # a "$" no price followed
        elif event.mode == NUM:
            body = event.span.removeprefix("$")
            assert body[0].isdigit() and body[-1].isdigit()
        else:
            local, _, domain = event.span.partition("@")
            assert local and domain and domain[-1].isalnum()


def test_a_dollar_sign_must_open_an_allowed_price() -> None:
    # With digits masked after "$", the eval's replies wrote "Premium is $XP" and "$B7/year".
    rules = rules_for(allowed_values(["ShieldGuard Premium: $79.99/year."]))
    assert rules.text_ok(START, "Premium is $") and rules.text_ok(START, " $")  # a price may follow
    assert not rules_for(allowed_values(["Premium: 79.99 a year."])).text_ok(START, " $")  # none may
    st = START
    for c in "Premium is $":
        st, _ = feed(st, c)
    assert rules.text_ok(st, "79") and not rules.text_ok(st, "XP") and not rules.text_ok(st, " 5")
    end = finish(st)
    assert end is not None and not rules.ok(end)  # the reply may not end on the "$" either
    assert "$" in unverified_numbers("Premium is $XP.", allowed_values(["$79.99"]))
    assert unverified_numbers("Premium is $79.99.", allowed_values(["$79.99"])) == []
