"""Every policy is reachable by name and refuses bad options with a message naming them."""

from __future__ import annotations

import pytest

from inference.policies.base import BatchingPolicy, get_policy

NAMES = ["static", "continuous", "adaptive", "time_window", "load_based", "priority", "predictive", "hybrid"]


@pytest.mark.parametrize("name", NAMES)
def test_each_policy_builds_by_name(name: str) -> None:
    policy = get_policy(name)
    assert isinstance(policy, BatchingPolicy) and policy.name == name


def test_unknown_option_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="hybrid"):
        get_policy("hybrid", windw_s=0.1)
