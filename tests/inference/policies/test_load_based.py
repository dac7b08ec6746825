"""Load-based: full admission when idle or light, tapering between soft and hard, KV reserve kept."""

from __future__ import annotations

import pytest

from inference.policies.base import get_policy
from inference.policies.load_based import LoadBasedPolicy
from tests.inference.policies.views import running, view, waiting

QUEUE = [waiting(f"w{i}", i * 0.01) for i in range(10)]


def test_an_idle_engine_takes_everything_that_fits() -> None:
    assert len(LoadBasedPolicy().decide(view(1.0, QUEUE, max_batch=16, kv_usage=0.95)).admit) == 10


def test_admission_tapers_between_soft_and_hard_load() -> None:
    policy = LoadBasedPolicy(soft=0.5, hard=0.9)
    run = [running(f"r{i}") for i in range(4)]
    light = policy.decide(view(1.0, QUEUE, run, max_batch=20, kv_usage=0.3))
    mid = policy.decide(view(1.0, QUEUE, run, max_batch=20, kv_usage=0.7))
    heavy = policy.decide(view(1.0, QUEUE, run, max_batch=20, kv_usage=0.92))
    assert len(light.admit) == 10  # 16 free seats, load 0.3
    assert len(mid.admit) == 8  # halfway from soft to hard: half of 16 seats
    assert heavy.admit == ()
    assert light.admit[:3] == ("w0", "w1", "w2")  # arrival order


def test_prompts_must_fit_beside_the_kv_reserve() -> None:
    # 40 free of 100 blocks; reserve 10; each 40-token prompt needs 3 blocks -> 10 fit.
    queue = [waiting(f"w{i}", 0.0, prompt_len=40) for i in range(20)]
    decision = LoadBasedPolicy(kv_headroom=0.1).decide(
        view(1.0, queue, [running("r")], max_batch=64, kv_usage=0.6, free_blocks=40)
    )
    assert len(decision.admit) == 10


def test_soft_must_be_below_hard() -> None:
    with pytest.raises(ValueError, match="soft"):
        get_policy("load_based", soft=0.9, hard=0.5)
