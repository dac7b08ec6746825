"""Router training data: label mapping, topic coverage, splits, file round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.router.training.build import PUBLIC_ROOT, build_router_data, held
from app.router.training.labelled import ROUTER_DATA, Labelled, dedupe, key, read_labelled, write_labelled
from app.router.training.written import fill, read_topics, written

TOPICS = json.loads((ROUTER_DATA / "topics.json").read_text())


def test_inventory_has_forty_topics_per_intent_each_covered_by_training_data() -> None:
    train = read_labelled(ROUTER_DATA / "train.jsonl")
    covered = {(i.label, i.source.removeprefix("written:")) for i in train if i.source.startswith("written:")}
    for intent in ("general", "tech_support", "sales", "handoff"):
        if intent != "handoff":
            assert len(TOPICS[intent]) >= 40, intent
        missing = [t for t in TOPICS[intent] if (intent, t) not in covered]
        assert not missing, (intent, missing)


def test_every_public_set_is_used() -> None:
    sources = {i.source.split(":")[0] for i in read_labelled(ROUTER_DATA / "train.jsonl")}
    assert {"bitext", "clinc150", "banking77", "hint3", "natcs", "sebis", "abcd", "written"} <= sources


def test_written_phrases_fill_slots_and_keep_groups_together() -> None:
    import random

    assert "{" not in fill("is the {laptop} in stock, order {n}", random.Random(0))
    with pytest.raises(ValueError, match="unknown slot"):
        fill("{spaceship}", random.Random(0))
    pairs = written(seed=0, per_phrase=2)
    assert all(len({held(g, 0.2)}) == 1 for g, _ in pairs)
    assert {t.label for t in read_topics()} == {"general", "tech_support", "sales", "handoff", "out_of_scope"}


def test_labelled_validation_dedupe_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label"):
        Labelled("hi", "billing", "x")
    items = [Labelled("Hi  there", "general", "a"), Labelled("hi there", "general", "b"),
             Labelled("wifi", "tech_support", "a"), Labelled("WIFI", "sales", "b")]  # fmt: skip
    assert [i.source for i in dedupe(items)] == ["a"]  # the conflicting "wifi" goes both times
    write_labelled(tmp_path / "x.jsonl", [Labelled("hola", "general", "w", previous="sales", lang="es")])
    assert read_labelled(tmp_path / "x.jsonl") == [Labelled("hola", "general", "w", "sales", "es")]
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        read_labelled(tmp_path / "bad.jsonl")


@pytest.mark.skipif(not PUBLIC_ROOT.is_dir(), reason="public data sets not on this machine")
def test_build_splits_by_group_and_matches_the_committed_files(tmp_path: Path) -> None:
    train, calib = build_router_data(out=tmp_path)
    assert not {key(i.text) for i in train} & {key(i.text) for i in calib}
    assert (tmp_path / "train.jsonl").read_text() == (ROUTER_DATA / "train.jsonl").read_text()
    assert (tmp_path / "calibration.jsonl").read_text() == (ROUTER_DATA / "calibration.jsonl").read_text()


@pytest.mark.skipif(not PUBLIC_ROOT.is_dir(), reason="public data sets not on this machine")
def test_public_mapping_follows_the_stores_meaning() -> None:
    from app.router.training.public import all_public

    rows = all_public(PUBLIC_ROOT)
    by_source: dict[str, set[str]] = {}
    for i in rows:
        by_source.setdefault(i.source.split(":")[0] + ":" + i.source.split(":")[1], set()).add(i.label)
    assert by_source["bitext:contact_human_agent"] == {"handoff"}
    assert by_source["bitext:place_order"] == {"sales"}
    assert by_source["bitext:contact_customer_service"] == {"handoff", "general"}  # "talk to" vs "contact"
    assert by_source["clinc150:oos"] == {"out_of_scope"}
    hint3_handoff = [i.text for i in rows if i.source.startswith("hint3") and i.label == "handoff"]
    assert hint3_handoff and all(
        any(
            w in t.lower() for w in ("agent", "talk", "speak", "chat", "call", "person", "human", "executive")
        )
        for t in hint3_handoff
    )
    assert not any("{{" in i.text for i in rows)
