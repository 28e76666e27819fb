"""Gedeon variable importances against a hand computation with loops."""

import numpy as np
import pytest

from h2ocloud.dl.varimp import gedeon_unit_importances, variable_importances


def gedeon_by_hand(w0, w1):
    h1, n_in = w0.shape
    h2 = w1.shape[0]
    q = np.zeros((n_in, h2))
    for i in range(n_in):
        for k in range(h2):
            s = 0.0
            for j in range(h1):
                s += (abs(w0[j, i]) / sum(abs(w0[j, ii]) for ii in range(n_in))) * (
                    abs(w1[k, j]) / sum(abs(w1[k, jj]) for jj in range(h1)))
            q[i, k] = s
    for k in range(h2):
        q[:, k] /= q[:, k].sum()
    return q.sum(axis=1)


def test_gedeon_matches_hand_computation():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(6, 5))
    w1 = rng.normal(size=(4, 6))
    np.testing.assert_allclose(gedeon_unit_importances(w0, w1), gedeon_by_hand(w0, w1),
                               rtol=1e-12)


def test_columns_sum_their_units():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(6, 5))
    w1 = rng.normal(size=(4, 6))
    w0[:, 4] *= 10  # make the numeric column the most important
    unit = gedeon_by_hand(w0, w1)
    # units 0-2: one-hot of "color", unit 3: "x1", unit 4: "x2"
    vi = variable_importances(w0, w1, ["color", "x1", "x2"], np.array([0, 0, 0, 1, 2]))
    per_col = {"color": unit[:3].sum(), "x1": unit[3], "x2": unit[4]}
    top = max(per_col.values())
    assert vi["variable"][0] == "x2"
    for name, rel, pct, sc in zip(vi["variable"], vi["relative_importance"], vi["percentage"],
                                  vi["scaled_importance"]):
        assert rel == pytest.approx(per_col[name] / top)
        assert sc == pytest.approx(per_col[name] / top)
        assert pct == pytest.approx(per_col[name] / sum(per_col.values()))
    assert vi["relative_importance"] == sorted(vi["relative_importance"], reverse=True)
