"""Adaptive cap: shrinks when decode steps exceed the target, grows back while it holds requests back."""

from __future__ import annotations

import pytest

from inference.policies.adaptive import AdaptivePolicy
from inference.policies.base import QueueView, get_policy
from tests.inference.policies.views import running, view, waiting


def _steps(v: QueueView, tokens: int, seqs: int) -> QueueView:
    """The same view, saying what the previous step computed."""
    return QueueView(**{**v.__dict__, "last_step_tokens": tokens, "last_step_seqs": seqs})


def test_a_slow_decode_step_cuts_the_cap_from_the_running_batch_and_limits_admission() -> None:
    policy = AdaptivePolicy(target_step_s=0.05, max_batch=16, backoff=0.5, smoothing=1.0)
    run = [running(f"r{i}") for i in range(6)]
    queue = [waiting(f"w{i}", 0.0) for i in range(20)]
    d = policy.decide(_steps(view(1.0, queue, run, max_batch=32, last_step=0.2), 6, 6))
    # The cap of 16 bound nothing at 6 running: the cut starts from the 6 that were too slow.
    assert d.max_running == 3 and d.admit == ()


def test_the_cap_is_cut_once_until_the_batch_has_shrunk_to_it() -> None:
    policy = AdaptivePolicy(target_step_s=0.05, max_batch=16, backoff=0.5, smoothing=1.0)
    run = [running(f"r{i}") for i in range(8)]
    caps = [policy.decide(_steps(view(0.1 * i, [], run, last_step=0.2), 8, 8)).max_running for i in range(5)]
    # 8 still run after the first cut (a cap only stops admissions): cutting again and again
    # meanwhile would reach min_batch before a single request finished.
    assert caps == [4, 4, 4, 4, 4]
    d = policy.decide(_steps(view(1.0, [], run[:4], last_step=0.2), 4, 4))
    assert d.max_running == 2


def test_a_slow_prefill_step_is_not_taken_for_a_slow_batch() -> None:
    policy = AdaptivePolicy(target_step_s=0.05, max_batch=8, backoff=0.5, smoothing=1.0)
    run = [running("r0"), running("r1")]
    # The step prefilled 200 prompt tokens beside two decodes: 0.3 s says nothing about TPOT.
    d = policy.decide(_steps(view(1.0, [waiting("w", 0.9)], run, last_step=0.3), 202, 3))
    assert d.max_running == 8 and d.admit == ("w",)
    assert policy.step_s is None


def test_fast_steps_grow_the_cap_by_the_arrivals_per_step_only_while_it_binds() -> None:
    policy = AdaptivePolicy(target_step_s=0.1, min_batch=2, max_batch=64, backoff=0.5, smoothing=1.0)
    policy.cap = 4.0
    policy.decide(_steps(view(0.0, [], [running("r")], last_step=0.05), 1, 1))
    assert policy.cap == 4.0  # one runs, nothing waits: the cap holds nobody back
    # 50 arrivals in a second at 0.05 s per step is 2.5 arrivals per step: 4 + 2.5 = 6.5.
    run = [running(f"r{i}") for i in range(4)]
    queue = [waiting(f"w{i}", 0.5) for i in range(50)]
    d = policy.decide(_steps(view(1.0, queue, run, max_batch=64, last_step=0.05), 4, 4))
    assert d.max_running == 6 and len(d.admit) == 2


def test_cap_never_drops_below_min_batch() -> None:
    policy = AdaptivePolicy(target_step_s=0.01, min_batch=3, max_batch=8, smoothing=1.0)
    for i in range(20):
        d = policy.decide(view(float(i), [], [running("r")], last_step=1.0))
    assert d.max_running == 3


def test_bad_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="target_step_s"):
        get_policy("adaptive", target_step_s=0)
    with pytest.raises(ValueError, match="backoff"):
        get_policy("adaptive", backoff=1.5)
