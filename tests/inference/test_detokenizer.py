"""IncrementalDetokenizer: deltas add up to the full decode, stop strings are cut exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.detokenizer import IncrementalDetokenizer

TEXTS = [
    "Hello, world! Your order #4512 ships today.",
    "Grüße aus Köln — café, naïve, résumé.",
    "中文测试：云备份服务已启用。",
    "Thanks 🎉🎉 for upgrading to Premium 👍🏽!",
    "  leading   and  trailing spaces  ",
    "line one\nline two\n\n\ttabbed",
]


def _stream(
    tokenizer, ids: list[int], stop: tuple[str, ...] = ()
) -> tuple[list[str], IncrementalDetokenizer]:
    detok = IncrementalDetokenizer(tokenizer, stop=stop)
    deltas = [detok.push(i) for i in ids]
    deltas.append(detok.flush())
    return deltas, detok


@pytest.mark.parametrize("text", TEXTS)
def test_deltas_concatenate_to_full_decode(tokenizer, text: str) -> None:
    ids = tokenizer.encode(text)
    deltas, detok = _stream(tokenizer, ids)
    assert "".join(deltas) == tokenizer.decode(ids, skip_special_tokens=True) == text
    assert detok.text == text
    assert not any("\ufffd" in d for d in deltas)


def test_multibyte_character_split_across_tokens_is_held_until_complete(tokenizer) -> None:
    ids = tokenizer.encode(" 🎉")
    assert len(ids) > 1  # the emoji's bytes really are spread over several tokens
    deltas, _ = _stream(tokenizer, ids)
    assert [d for d in deltas if d] == [" 🎉"]


def test_special_tokens_are_skipped(tokenizer) -> None:
    ids = tokenizer.encode("Hi there") + [tokenizer.eos_token_id]
    deltas, _ = _stream(tokenizer, ids)
    assert "".join(deltas) == "Hi there"


def test_stop_string_is_cut_with_everything_after(tokenizer) -> None:
    ids = tokenizer.encode("Sure, here it is.\nUser: and more text")
    deltas, detok = _stream(tokenizer, ids, stop=("\nUser:",))
    assert "".join(deltas) == "Sure, here it is."
    assert detok.stopped and detok.stop_string == "\nUser:"
    assert detok.push(ids[0]) == ""


def test_possible_stop_prefix_is_held_back_then_released(tokenizer) -> None:
    detok = IncrementalDetokenizer(tokenizer, stop=("###",))
    shown = "".join(detok.push(i) for i in tokenizer.encode("Price: 5 #"))
    assert shown == "Price: 5 "  # the '#' might start '###'
    rest = "".join(detok.push(i) for i in tokenizer.encode("1 item")) + detok.flush()
    assert shown + rest == "Price: 5 #1 item"
    assert not detok.stopped


def test_prefix_of_stop_at_end_is_released_by_flush(tokenizer) -> None:
    deltas, detok = _stream(tokenizer, tokenizer.encode("Done ##"), stop=("###",))
    assert "".join(deltas) == "Done ##" and deltas[-1].endswith("##")
    assert not detok.stopped


def test_first_completed_stop_wins(tokenizer) -> None:
    deltas, detok = _stream(tokenizer, tokenizer.encode("abc def END xyz STOP"), stop=("STOP", "END"))
    assert "".join(deltas) == "abc def " and detok.stop_string == "END"


def test_rejects_bad_stop(tokenizer) -> None:
    with pytest.raises(ValueError, match="stop"):
        IncrementalDetokenizer(tokenizer, stop=("",))


def _oracle(full: str, stop: tuple[str, ...]) -> str:
    """Cut at the stop string that completes first in the text (ties: the one starting first)."""
    ends = [(full.find(s) + len(s), full.find(s)) for s in stop if s in full]
    return full[: min(ends)[1]] if ends else full


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ids=st.lists(st.integers(min_value=0, max_value=49151), max_size=25),
    stop=st.lists(st.sampled_from(["e", "th", "\n", "ing ", "🎉", "ü"]), max_size=2).map(tuple),
)
def test_property_random_ids_stream_equals_decode(tokenizer, ids: list[int], stop: tuple[str, ...]) -> None:
    deltas, detok = _stream(tokenizer, ids, stop=stop)
    full = tokenizer.decode(ids, skip_special_tokens=True)
    assert "".join(deltas) == _oracle(full, stop)
    assert detok.stopped == (_oracle(full, stop) != full or any(s in full for s in stop))
