"""DecodingPolicy validation, mapping to SamplingParams, and versioned storage with rollback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.orm import Session

from adapters.intents import INTENTS
from app.db.models import StaffUser
from app.decoding.policy import DEFAULT_POLICIES, DecodingPolicy, field_errors
from app.decoding.store import history, live_policy, rollback, save_policy
from inference import SamplingParams


def _errors(**fields: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        DecodingPolicy.model_validate(fields)
    return field_errors(info.value)


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"top_p": 0}, "top_p", "greater than 0"),
        ({"top_p": 1.5}, "top_p", "less than or equal to 1"),
        ({"strategy": "beam", "num_beams": 1}, "num_beams", "num_beams >= 2"),
        ({"strategy": "nucleus", "top_p": 1.0}, "top_p", "top_p < 1"),
        ({"strategy": "top_k", "top_k": 0}, "top_k", "top_k >= 1"),
        ({"strategy": "sampling", "temperature": 0}, "temperature", "> 0"),
        ({"strategy": "mirostat"}, "strategy", "greedy"),
        ({"max_new_tokens": 0}, "max_new_tokens", "greater than or equal to 1"),
        ({"stop": ["ok", ""]}, "stop", "non-empty"),
        ({"router_threshold": 0.3, "ambiguity_threshold": 0.5}, "ambiguity_threshold", "router_threshold"),
        ({"temperature": "hot"}, "temperature", "number"),
        ({"colour": "blue"}, "colour", "not permitted"),
    ],
)
def test_invalid_fields_get_a_message_on_that_field(fields: dict, field: str, fragment: str) -> None:
    errors = _errors(**fields)
    assert field in errors, errors
    assert fragment in errors[field]


def test_stop_accepts_one_string_per_line() -> None:
    assert DecodingPolicy(stop="User:\n\n###").stop == ("User:", "###")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (DecodingPolicy(strategy="greedy", temperature=1.3, top_k=7), {"temperature": 0.0, "top_k": 0}),
        (
            DecodingPolicy(strategy="beam", num_beams=4, length_penalty=0.5),
            {"num_beams": 4, "length_penalty": 0.5, "do_sample": False, "early_stopping": True},
        ),
        (DecodingPolicy(strategy="nucleus", temperature=0.6, top_p=0.8, top_k=9), {"top_p": 0.8, "top_k": 0}),
        (DecodingPolicy(strategy="top_k", temperature=0.9, top_k=20, top_p=0.5), {"top_k": 20, "top_p": 1.0}),
        (DecodingPolicy(strategy="sampling", temperature=1.2), {"temperature": 1.2, "do_sample": True}),
    ],
)
def test_strategy_maps_to_sampling_params(policy: DecodingPolicy, expected: dict) -> None:
    params = policy.to_sampling_params(seed=3)
    assert isinstance(params, SamplingParams)
    assert params.seed == 3
    for name, value in expected.items():
        assert getattr(params, name) == value, name


@settings(max_examples=60, deadline=None)
@given(
    strategy=st.sampled_from(["greedy", "beam", "nucleus", "top_k", "sampling"]),
    temperature=st.floats(0.01, 2.0),
    top_p=st.floats(0.01, 0.99),
    top_k=st.integers(1, 1000),
    num_beams=st.integers(2, 8),
    max_new_tokens=st.integers(1, 4096),
)
def test_every_valid_policy_gives_valid_sampling_params(**fields: object) -> None:
    policy = DecodingPolicy.model_validate(fields)
    params = policy.to_sampling_params()
    assert params.do_sample == (policy.strategy in ("nucleus", "top_k", "sampling"))
    assert policy.applied()["strategy"] == policy.strategy


def test_defaults_cover_every_intent_and_are_valid() -> None:
    assert set(DEFAULT_POLICIES) == set(INTENTS)
    for policy in DEFAULT_POLICIES.values():
        policy.to_sampling_params()


def _operator(db: Session, name: str = "olga") -> StaffUser:
    user = StaffUser(username=name, password_hash="x", role="operator")
    db.add(user)
    db.commit()
    return user


def test_live_policy_reads_the_newest_version_at_once(db: Session) -> None:
    assert live_policy(db, "sales") == (DEFAULT_POLICIES["sales"], 0)
    user = _operator(db)
    beam = DecodingPolicy(strategy="beam", num_beams=3)
    save_policy(db, "sales", beam, user, "try beams")
    assert live_policy(db, "sales") == (beam, 1)
    greedy = DecodingPolicy(strategy="greedy", max_new_tokens=40)
    save_policy(db, "sales", greedy, user, "")
    assert live_policy(db, "sales") == (greedy, 2)
    assert live_policy(db, "general") == (DEFAULT_POLICIES["general"], 0)  # other intents untouched


def test_rollback_adds_a_new_version_equal_to_the_old_one(db: Session) -> None:
    user = _operator(db)
    first = DecodingPolicy(strategy="top_k", temperature=0.5, top_k=5)
    save_policy(db, "general", first, user, "v1")
    save_policy(db, "general", DecodingPolicy(strategy="greedy"), user, "v2")
    row = rollback(db, "general", 1, user)
    assert row.version == 3
    assert live_policy(db, "general") == (first, 3)
    rows = history(db, "general")
    assert [r.version for r in rows] == [3, 2, 1]
    assert rows[0].comment == "rollback to v1"
    assert rows[0].created_by == "olga"
    assert rows[0].to_dict()["policy"]["top_k"] == 5
    rollback(db, "general", 0, user)  # version 0 is the built-in default
    assert live_policy(db, "general") == (DEFAULT_POLICIES["general"], 4)


def test_bad_intent_and_missing_version_are_clear_errors(db: Session) -> None:
    with pytest.raises(ValueError, match="intent must be one of"):
        live_policy(db, "billing")
    with pytest.raises(LookupError, match="no version 9"):
        rollback(db, "sales", 9, None)
