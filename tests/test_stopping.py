"""H2O-3's moving-average early-stopping rule and the hyper-space checks (pure functions)."""

from __future__ import annotations

import pytest

from h2ocloud.dl.hyperspace import check_hyper_space, check_search_criteria, combinations
from h2ocloud.dl.stopping import stop_early


def test_needs_two_k_plus_one_events():
    assert not stop_early([1.0] * 4, 2, False, 0.0)  # 4 < 2*2+1
    assert stop_early([1.0] * 5, 2, False, 0.0)      # flat: no improvement


def test_improving_metric_does_not_stop_and_stall_does():
    falling = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    assert not stop_early(falling, 3, False, 0.0)
    stalled = [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert stop_early(stalled, 3, False, 0.0)
    # Relative tolerance: a 1% gain is not enough when 5% is asked for.
    small_gain = [1.0, 0.50, 0.50, 0.50, 0.495, 0.495, 0.495]
    assert stop_early(small_gain, 3, False, 0.05) and not stop_early(small_gain, 3, False, 0.001)
    # More is better (AUC): rising does not stop.
    assert not stop_early([0.5, 0.6, 0.7, 0.8, 0.9], 2, True, 0.0)
    assert not stop_early([1.0] * 10, 0, False, 0.0)  # 0 rounds: never


def test_hyper_space_checks():
    with pytest.raises(ValueError, match="'rho'.*1.5"):
        check_hyper_space({}, {"rho": [0.99, 1.5]})
    with pytest.raises(ValueError, match="cannot be searched"):
        check_hyper_space({}, {"training_frame": ["a", "b"]})
    with pytest.raises(ValueError, match="listed twice"):
        check_hyper_space({}, {"l1": [0.1, 0.1]})
    # A value some combinations accept is kept (its failures land in the grid's failures).
    space = check_hyper_space({"activation": "TanhWithDropout"},
                              {"hidden": [[4], [4, 4]], "hidden_dropout_ratios": [[0.1]]})
    assert space["hidden"] == [[4], [4, 4]]
    with pytest.raises(ValueError, match="did you mean"):
        check_search_criteria({"strategy": "RandomDiscrete", "max_model": 2})
    sc = check_search_criteria({"strategy": "RandomDiscrete", "seed": 3})
    a = list(combinations({"l1": [1, 2, 3], "l2": [4, 5]}, sc))
    b = list(combinations({"l1": [1, 2, 3], "l2": [4, 5]}, sc))
    assert a == b and len(a) == 6 and len({str(c) for c in a}) == 6
