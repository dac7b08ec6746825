"""SamplingParams: defaults, validation messages that name the field, and storage round trip."""

from __future__ import annotations

import json

import pytest

from inference.params import MAX_NEW_TOKENS_CAP, SamplingParams


def test_defaults_sample_and_temperature_zero_is_greedy() -> None:
    assert SamplingParams().do_sample is True
    assert SamplingParams(temperature=0).do_sample is False
    assert SamplingParams(temperature=0.7, do_sample=False).do_sample is False
    assert SamplingParams.greedy(max_new_tokens=5).do_sample is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"num_beams": 0}, "num_beams"),
        ({"repetition_penalty": 0.0}, "repetition_penalty"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": MAX_NEW_TOKENS_CAP + 1}, "max_new_tokens"),
        ({"max_new_tokens": True}, "max_new_tokens"),
        ({"stop": "###"}, "stop"),
        ({"stop": ("",)}, "stop"),
        ({"stop": tuple(str(i) for i in range(9))}, "stop"),
        ({"seed": "42"}, "seed"),
        ({"ignore_eos": 1}, "ignore_eos"),
        ({"early_stopping": "sometimes"}, "early_stopping"),
        ({"early_stopping": 1}, "early_stopping"),
        ({"do_sample": True, "temperature": 0}, "temperature"),
        ({"length_penalty": float("inf")}, "length_penalty"),
    ],
)
def test_invalid_values_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SamplingParams(**kwargs)


def test_beam_search_refuses_sampling() -> None:
    with pytest.raises(ValueError, match="num_beams"):
        SamplingParams(num_beams=4, temperature=0.8)
    params = SamplingParams.beam(4, length_penalty=0.5, early_stopping="never")
    assert params.num_beams == 4 and params.do_sample is False


def test_stop_list_becomes_tuple_and_round_trips_through_json() -> None:
    params = SamplingParams(temperature=0.5, top_k=40, stop=["\nUser:", "###"], seed=7)  # type: ignore[arg-type]
    assert params.stop == ("\nUser:", "###")
    restored = SamplingParams.from_dict(json.loads(json.dumps(params.to_dict())))
    assert restored == params


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="bogus"):
        SamplingParams.from_dict({"temperature": 0.1, "bogus": 1})


def test_is_frozen() -> None:
    params = SamplingParams()
    with pytest.raises(AttributeError):
        params.temperature = 0.2  # type: ignore[misc]
