"""The cheap language check, measured on the independent eval set's messages."""

from __future__ import annotations

import pytest

from app.router.language import is_english, non_latin_share
from app.router.training.labelled import EVAL_SET, read_labelled


@pytest.mark.parametrize(
    "text",
    ["wifi ded", "refnd plz", "shieldguard basic vs plus vs premium", "HELP", "", "lol", "nova x2 price"],
)
def test_english_short_and_misspelt_stay_english(text: str) -> None:
    assert is_english(text)


@pytest.mark.parametrize(
    "text", ["Где мой заказ?", "我的订单在哪里？", "wo ist meine Bestellung", "où est ma commande"]
)
def test_other_languages_are_caught(text: str) -> None:
    assert not is_english(text)


def test_script_share() -> None:
    assert non_latin_share("abc") == 0.0 and non_latin_share("где") == 1.0 and non_latin_share("123") == 0.0


def test_on_the_eval_set_no_false_alarms_and_every_other_language_caught() -> None:
    items = read_labelled(EVAL_SET)
    english = [i for i in items if i.lang == "en"]
    other = [i for i in items if i.lang != "en"]
    false_alarms = [i.text for i in english if not is_english(i.text)]
    missed = [i.text for i in other if is_english(i.text)]
    assert len(false_alarms) <= len(english) // 100, false_alarms
    assert len(missed) <= len(other) // 10, missed
