"""The seed knowledge agrees with adapters/data/store_facts.json and is well formed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapters.grounding import MAX_FACT_CHARS
from app.knowledge.entries import KINDS, SEED_DIR, EntryData, read_entries, write_jsonl

REPO = Path(__file__).resolve().parents[3]
FACTS = json.loads((REPO / "adapters" / "data" / "store_facts.json").read_text())
SEED_FILES = {
    "product": "products",
    "plan": "plans",
    "policy": "policies",
    "contact": "contacts",
    "offer": "offers",
    "article": "articles",
}


@pytest.fixture(scope="module")
def entries() -> dict[str, EntryData]:
    return {e.key: e for e in read_entries(SEED_DIR)}


def _texts(entries: dict[str, EntryData], kind: str) -> list[str]:
    return [e.text for e in entries.values() if e.kind == kind]


def test_every_kind_has_a_file_and_entries(entries: dict[str, EntryData]) -> None:
    for kind in KINDS:
        assert (SEED_DIR / f"{SEED_FILES[kind]}.jsonl").exists()
        assert _texts(entries, kind), kind


def test_every_catalogue_product_has_its_price_and_stock(entries: dict[str, EntryData]) -> None:
    products = _texts(entries, "product")
    for product in FACTS["products"]:
        matching = [t for t in products if t.startswith(product["name"] + " ")]
        assert len(matching) == 1, product["name"]
        assert f"{product['price']}" in matching[0]
        assert product["stock"] in matching[0]


def test_plans_state_the_store_prices(entries: dict[str, EntryData]) -> None:
    for family in ("cloudkeep", "shieldguard"):
        name = FACTS[family]["name"]
        for plan in FACTS[family]["plans"]:
            key = f"plan.{family}-{plan['name'].lower()}"
            assert entries[key].text.startswith(f"{name} {plan['name']}: {plan['price']}"), key
        assert FACTS[family]["trial"] in entries[f"plan.{family}"].text


def test_policies_contacts_offers_agree(entries: dict[str, EntryData]) -> None:
    policies = FACTS["policies"]
    assert "free on orders over $50" in entries["policy.shipping"].text
    assert "3-5 business days and costs $4.99" in entries["policy.shipping"].text
    assert "1-2 business days and costs $12.99" in entries["policy.shipping"].text
    assert f"within {policies['return_window_days']} days" in entries["policy.returns"].text
    assert policies["refund_days"] in entries["policy.refunds"].text
    assert policies["warranty"] in entries["policy.warranty"].text
    assert policies["cancellation"] in entries["policy.cancellation"].text
    assert policies["payment_methods"] in entries["policy.payment"].text
    store = FACTS["store"]
    assert store["support_phone"] in entries["contact.phone"].text
    assert store["support_hours"] in entries["contact.hours"].text
    assert store["support_email"] in entries["contact.email"].text
    assert store["business_email"] in entries["contact.business"].text
    assert FACTS["offers"]["student"].split(" with")[0] in entries["offer.student"].text
    assert FACTS["offers"]["bundle"] in entries["offer.voltbook-shieldguard"].text


def test_no_phone_or_email_outside_the_store_facts(entries: dict[str, EntryData]) -> None:
    store = FACTS["store"]
    known = {store["support_email"], store["business_email"]}
    for entry in entries.values():
        for email in re.findall(r"[\w.]+@[\w.]+\w", entry.text):
            assert email in known, (entry.key, email)
        for phone in re.findall(r"\d{4} \d{3} \d{4}", entry.text):
            assert phone == store["support_phone"], entry.key


def test_articles_are_short_numbered_steps(entries: dict[str, EntryData]) -> None:
    articles = [e for e in entries.values() if e.kind == "article"]
    assert len(articles) >= 25
    for article in articles:
        assert article.text.startswith("1. ") and " 2. " in article.text, article.key


def test_every_entry_fits_the_prompt_without_cutting(entries: dict[str, EntryData]) -> None:
    for entry in entries.values():
        assert len(entry.text) <= MAX_FACT_CHARS, entry.key


def test_round_trip_and_validation(tmp_path: Path, entries: dict[str, EntryData]) -> None:
    path = tmp_path / "out.jsonl"
    assert write_jsonl(entries.values(), path) == len(entries)
    assert read_entries(path) == list(entries.values())
    with pytest.raises(ValueError, match="kind"):
        EntryData.from_dict({"key": "x.y", "kind": "rumour", "title": "t", "text": "t"})
    with pytest.raises(ValueError, match="key"):
        EntryData.from_dict({"key": "Bad Key", "kind": "policy", "title": "t", "text": "t"})
    with pytest.raises(ValueError, match="unknown"):
        EntryData.from_dict({"key": "a.b", "kind": "policy", "title": "t", "text": "t", "x": 1})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "a.b", "kind": "policy", "title": "t", "text": "t"}\n{"key": "a.b"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_entries(bad)
