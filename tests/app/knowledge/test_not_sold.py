"""A model the store does not sell gets a note fact naming the nearest ones; existing models never do."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.knowledge import store
from app.knowledge.entries import SEED_DIR, EntryData, read_entries
from app.knowledge.importer import import_path
from app.knowledge.not_sold import (
    NOTE_KEY,
    CatalogueItem,
    families_of,
    not_sold_note,
    relatives_to_drop,
    unsold_model,
)
from app.knowledge.reply_facts import facts_for_reply

SEED = read_entries(SEED_DIR)
FAMILIES = families_of(CatalogueItem(e.key, e.title, e.text) for e in SEED if e.kind in ("product", "plan"))


# Phrasings written for this test (not from any eval set).
@pytest.mark.parametrize(
    ("message", "name", "nearest"),
    [
        ("how much is the Voltbook Pro 17?", "Voltbook Pro 17", "product.voltbook-pro-15"),
        ("voltbok pro 17 in stock?", "Voltbook Pro 17", "product.voltbook-pro-15"),
        ("is there a voltbook air 15", "Voltbook Air 15", "product.voltbook-air-13"),
        ("do you have the nova x3", "Nova X3", "product.nova-x2"),
        ("meshwave ax5400 price", "MeshWave AX5400", "product.meshwave-ax3000"),
        ("echobuds max or echomax?", "EchoBuds Max", "product.echobuds-pro"),
        ("homecam 4k for the garden", "HomeCam 4K", "product.homecam-2k"),
        ("powercell 10000 price", "PowerCell 10000", "product.powercell-20000"),
        ("how much is shieldguard ultra", "ShieldGuard Ultra", None),
    ],
)
def test_a_model_the_catalogue_lacks_is_named_with_the_nearest(
    message: str, name: str, nearest: str | None
) -> None:
    found = unsold_model(message, FAMILIES)
    assert found is not None
    assert found[0] == name
    keys = [item.key for item in found[1]]
    assert keys and all(k.split(".")[1].split("-")[0] == name.split()[0].lower() for k in keys)
    if nearest is not None:
        assert keys[0] == nearest


def _every_wording_of_the_seed() -> list[str]:
    out = []
    for e in SEED:
        slug = " ".join(e.key.partition(".")[2].split("-"))
        out += [e.title, e.text, slug, *e.keywords, f"how much is the {e.title}?", f"is the {slug} in stock"]
    return out


def test_nothing_the_knowledge_files_name_is_reported_as_not_sold() -> None:
    flagged = [(t, n.text) for t in _every_wording_of_the_seed() if (n := not_sold_note(t, FAMILIES))]
    assert flagged == []


@pytest.mark.parametrize(
    "message",
    [
        "nova x2 2 year warranty?",  # a quantity after a complete name
        "is the nova x2 5g",
        "voltbook 16gb ram",
        "cloudkeep 2 tb plan",
        "meshwave 3000 price",  # the AX3000 written short
        "powercell 20000 mah",
        "how long does the voltbook battery last",
        "cloudkeep family 3 users",
        "I use ShieldGuard. 2 questions about it",
        "will the homecam go on sale",
        "voltbook pro",
    ],
)
def test_specs_quantities_and_partial_names_are_not_models(message: str) -> None:
    assert not_sold_note(message, FAMILIES) is None


def test_the_note_says_not_sold_and_names_the_nearest_titles() -> None:
    note = not_sold_note("how much is the Voltbook Pro 17?", FAMILIES)
    assert note is not None and note.key == NOTE_KEY
    assert "do not sell the Voltbook Pro 17" in note.text
    assert "Voltbook Pro 15 laptop" in note.text and "Voltbook Air 13 laptop" in note.text


@pytest.fixture()
def seeded(any_db: Session) -> Session:
    import_path(any_db)
    return any_db


def test_the_grounded_prompt_carries_the_note_first_and_the_hits_after(seeded: Session) -> None:
    facts = facts_for_reply(seeded, "how much is the Voltbook Pro 17?")
    system = facts.system_prompt("You are the store's assistant.")
    assert facts.note is not None
    assert "[1] Not sold: We do not sell the Voltbook Pro 17" in system
    # The relatives' own entries (and their prices) stay out: the note names them.
    assert not {"product.voltbook-pro-15", "product.voltbook-air-13"} & {h.key for h in facts.hits}
    assert [s["key"] for s in facts.sources()] == [h.key for h in facts.hits]  # the note is no source
    assert facts.copy_texts()[0].startswith("Not sold:")


def test_a_relative_the_customer_names_outright_stays(seeded: Session) -> None:
    facts = facts_for_reply(seeded, "voltbook pro 17 or voltbook pro 15, which is cheaper?")
    keys = [h.key for h in facts.hits]
    assert (
        facts.note is not None and "product.voltbook-pro-15" in keys and "product.voltbook-air-13" not in keys
    )


def test_an_existing_model_gets_no_note_and_a_new_entry_is_seen_at_once(seeded: Session) -> None:
    assert facts_for_reply(seeded, "how much is the Voltbook Pro 15?").note is None
    assert facts_for_reply(seeded, "how much is the Voltbook Pro 17?").note is not None
    store.add_entry(
        seeded,
        EntryData(
            "product.voltbook-pro-17", "product", "Voltbook Pro 17 laptop", "Voltbook Pro 17: $1,899.", ()
        ),
        actor="olga",
    )
    seeded.commit()
    assert facts_for_reply(seeded, "how much is the Voltbook Pro 17?").note is None


@pytest.mark.parametrize(
    ("message", "dropped"),
    [
        ("how much is the Voltbook Pro 17?", {"product.voltbook-pro-15", "product.voltbook-air-13"}),
        ("voltbook pro 17 or pro 15?", {"product.voltbook-air-13"}),  # named outright: it stays
    ],
)
def test_the_unsold_models_relatives_leave_the_facts_unless_the_customer_named_them(
    message: str, dropped: set[str]
) -> None:
    found = unsold_model(message, FAMILIES)
    assert found is not None
    keys = ["product.voltbook-pro-15", "product.voltbook-air-13", "policy.returns"]
    assert relatives_to_drop(message, found, keys, FAMILIES) == dropped
