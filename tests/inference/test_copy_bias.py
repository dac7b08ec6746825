"""Copy bias: the longest matching suffix decides, better-ranked facts pull harder, nothing is forbidden."""

from __future__ import annotations

import pytest
import torch

from inference.copy_bias import CopyBias, CopyBiasConfig

CONFIG = CopyBiasConfig(strength=2.0, rank_decay=0.5)


def test_the_token_that_continues_a_fact_gets_the_bonus() -> None:
    bias = CopyBias.build([[5, 6, 7, 8]], CONFIG)
    assert bias.bonuses([1, 6]) == {7: 2.0}
    assert bias.bonuses([6, 7]) == {8: 2.0}
    assert bias.bonuses([9]) == {}  # in no fact: no nudge
    assert bias.bonuses([]) == {}


def test_the_longest_matching_suffix_wins_over_a_shorter_one() -> None:
    # After "... 1 2" only fact 0 continues with 3; "2" alone is followed by 3 or 4.
    bias = CopyBias.build([[1, 2, 3], [9, 2, 4]], CONFIG)
    assert bias.bonuses([1, 2]) == {3: 2.0}
    assert bias.bonuses([7, 2]) == {3: 2.0, 4: 1.0}


def test_a_better_ranked_fact_pulls_harder() -> None:
    bias = CopyBias.build([[1, 10], [1, 20], [1, 30]], CONFIG)
    assert bias.bonuses([1]) == {10: 2.0, 20: 1.0, 30: 0.5}


def test_a_copy_never_runs_from_one_fact_into_the_next() -> None:
    bias = CopyBias.build([[1, 2], [3, 4]], CONFIG)
    assert bias.bonuses([2]) == {}  # 2 ends fact 0; fact 1's first token is no continuation of it


def test_apply_adds_the_bonus_in_place_and_ignores_ids_outside_the_row() -> None:
    bias = CopyBias.build([[1, 2], [1, 99]], CONFIG)
    logits = torch.zeros(10)
    bias.apply(logits, [1])
    assert logits[2].item() == 2.0 and logits.sum().item() == 2.0


@pytest.mark.parametrize("strength, decay", [(-1.0, 0.5), (21.0, 0.5), (1.0, 0.0), (1.0, 1.5)])
def test_config_bounds(strength: float, decay: float) -> None:
    with pytest.raises(ValueError):
        CopyBiasConfig(strength, decay)


def test_a_span_already_written_gets_no_second_bonus() -> None:
    bias = CopyBias.build([[1, 2, 3, 4, 5]], CONFIG)
    assert bias.bonuses([1, 2, 3]) == {4: 2.0}
    # The reply copied 1 2 3 4 once and is starting over: continuing would repeat "1 2 3 4".
    assert bias.bonuses([1, 2, 3, 4, 9, 1, 2, 3]) == {}
