"""The kernel's counting mode tallies the work bprop_layer does and leaves training unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from h2ocloud.kernel import (
    Net,
    NetSpec,
    TrainConfig,
    core,
    sample_gradient,
    train_hogwild,
    work_counters,
)

SPEC = NetSpec(n_inputs=8, hidden=(16, 12), n_outputs=3, activation="Rectifier",
               hidden_dropout_ratios=(0.5, 0.5))
rng = np.random.default_rng(3)
X = rng.standard_normal((40, 8)).astype(np.float32)
X[rng.random(X.shape) < 0.3] = 0  # zero inputs: skipped by fast_mode
Y = rng.integers(0, 3, 40).astype(np.float32)
CFG = TrainConfig(input_dropout_ratio=0.2, l1=1e-5)


def test_counting_does_not_change_the_model() -> None:
    plain, counted = Net.initialize(SPEC, seed=4), Net.initialize(SPEC, seed=4)
    rows = np.arange(40, dtype=np.int64)
    train_hogwild(plain, X, Y, rows, CFG, nthreads=1, seed=9)
    counts = work_counters(SPEC)
    train_hogwild(counted, X, Y, rows, CFG, nthreads=1, seed=9, counts=counts)
    np.testing.assert_array_equal(plain.weights, counted.weights)
    np.testing.assert_array_equal(plain.opt2, counted.opt2)
    assert counts[:, core.C_UNITS].tolist() == [16 * 40, 12 * 40, 3 * 40]


def test_counts_match_the_units_the_update_moved() -> None:
    """One sample: every unit counted as updated has a non-zero gradient, every skipped one zero."""
    net = Net.initialize(SPEC, seed=5)
    x = X[1:2]
    counts = work_counters(SPEC)
    before = net.copy()
    g = sample_gradient(before, x[0], float(Y[1]), TrainConfig(input_dropout_ratio=0.0),
                        seed=2)
    train_hogwild(net, x, Y[1:2], np.zeros(1, np.int64), TrainConfig(input_dropout_ratio=0.0),
                  nthreads=1, seed=2, counts=counts)
    c = counts
    assert (c[:, core.C_KEPT] == c[:, core.C_UPDATED] + c[:, core.C_SKIPPED]).all()
    # The output layer never drops; its units all move; weights walked = n_in per update.
    assert c[2, core.C_KEPT] == 3 and c[2, core.C_UPDATED] == 3
    assert (c[:, core.C_W_VISITED] == c[:, core.C_UPDATED]
            * np.array([8, 16, 12])).all()
    moved_biases = sum(int(np.count_nonzero(b != b0)) for (_, b), (_, b0)
                       in zip((net.layer(lay) for lay in range(3)),
                              (before.layer(lay) for lay in range(3)), strict=True))
    assert moved_biases == int(c[:, core.C_UPDATED].sum())
    assert g.shape == net.weights.shape


def test_counts_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="counts"):
        train_hogwild(Net.initialize(SPEC, seed=1), X, Y, np.arange(4), CFG, nthreads=1,
                      counts=np.zeros((2, 2), np.int64))
