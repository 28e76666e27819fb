"""Hidden dropout masks follow H2O's seeding: one draw per unit index, shared by the layers.

H2O (H2O-2 Neurons.RectifierDropout.fprop and H2O-3 alike) seeds every hidden layer's
Dropout with the same per-row seed, so unit j of every hidden layer sees the same random
number: with equal ratios the layers drop the same unit indices.
"""

from __future__ import annotations

import numpy as np

from h2ocloud.kernel import Net, NetSpec, TrainConfig, train_hogwild


def _kept_units(hidden: tuple[int, ...], ratios: tuple[float, ...], seed: int
                ) -> list[np.ndarray]:
    """Train one sample (plain SGD, Tanh: every kept unit gets a non-zero gradient) and read
    which hidden units were kept from which rows of their incoming weights moved."""
    spec = NetSpec(n_inputs=5, hidden=hidden, n_outputs=3, activation="Tanh",
                   hidden_dropout_ratios=ratios)
    net = Net.initialize(spec, seed=seed)
    before = [net.layer(l)[0].copy() for l in range(len(hidden))]
    X = np.random.default_rng(seed).normal(size=(1, 5)).astype(np.float32)
    train_hogwild(net, X, np.array([1.0], np.float32), np.zeros(1, np.int64),
                  TrainConfig(adaptive_rate=False, rate=0.1), nthreads=1, seed=seed)
    return [np.any(net.layer(l)[0] != w0, axis=1) for l, w0 in enumerate(before)]


def test_equal_ratios_drop_the_same_unit_indices() -> None:
    for seed in range(3):
        k0, k1, k2 = _kept_units((300, 300, 300), (0.5, 0.5, 0.5), seed)
        assert 0.4 < k0.mean() < 0.6  # still about half of the units
        np.testing.assert_array_equal(k0, k1)
        np.testing.assert_array_equal(k0, k2)


def test_layer_sizes_share_the_common_prefix() -> None:
    k0, k1 = _kept_units((300, 120), (0.5, 0.5), seed=7)
    np.testing.assert_array_equal(k0[:120], k1)
    # The wider layer's extra units still drop about half of the time.
    assert 0.35 < k0[120:].mean() < 0.65


def test_higher_ratio_keeps_a_subset() -> None:
    """Unit j is kept where its draw u_j >= p_l, so a layer with a larger ratio keeps a
    subset of what a layer with a smaller ratio keeps."""
    k0, k1 = _kept_units((400, 400), (0.2, 0.6), seed=11)
    assert 0.7 < k0.mean() < 0.9 and 0.3 < k1.mean() < 0.5
    assert not np.any(k1 & ~k0)
