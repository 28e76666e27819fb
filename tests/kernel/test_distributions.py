"""Regression losses of H2O-3's distributions: the kernel's output error is H2O's negative half
gradient of the deviance, checked against finite differences of the deviance itself."""

from __future__ import annotations

import numpy as np
import pytest

from h2ocloud.kernel import Net, NetSpec, TrainConfig, forward, sample_gradient


def _deviance(loss: str, y: float, f: float, p: float) -> float:
    """hex.Distribution.deviance(w=1, y, linkInv(f)) written independently, f in link space."""
    if loss == "MeanSquare":
        return (y - f) ** 2
    if loss == "Poisson":
        return -2 * (y * f - np.exp(f))
    if loss == "Gamma":
        return 2 * (y * np.exp(-f) + f)
    if loss == "Tweedie":
        return 2 * (y ** (2 - p) / ((1 - p) * (2 - p)) - y * np.exp(f * (1 - p)) / (1 - p)
                    + np.exp(f * (2 - p)) / (2 - p))
    if loss == "Laplace":
        return abs(y - f)
    if loss == "Quantile":
        return p * (y - f) if y > f else (1 - p) * (f - y)
    if loss == "Huber":
        return (y - f) ** 2 if abs(y - f) <= p else 2 * (abs(y - f) - p) * p
    raise AssertionError(loss)


CASES = [("MeanSquare", 0.0), ("Poisson", 0.0), ("Gamma", 0.0), ("Tweedie", 1.3),
         ("Laplace", 0.0), ("Quantile", 0.2), ("Huber", 0.4)]


@pytest.mark.parametrize("loss,param", CASES)
@pytest.mark.parametrize("offset", [None, 0.35])
def test_output_bias_gradient_is_minus_half_deviance_slope(loss: str, param: float, offset) -> None:
    spec = NetSpec(n_inputs=4, hidden=(5,), n_outputs=1, activation="Tanh", output="linear", loss=loss)
    net = Net.initialize(spec, distribution="Uniform", scale=0.5, seed=4)
    cfg = TrainConfig(fast_mode=False, dist_param=param)
    x = np.array([0.3, -0.7, 1.1, 0.2], np.float32)
    f = float(forward(net, x[None, :], nthreads=1)[0, 0]) + (offset or 0.0)
    checked = 0
    for y in (0.2, 1.7, 3.0):
        g = sample_gradient(net, x, y, cfg, offset=offset)
        # The output layer's bias gradient is the stored output error dE/dnet itself.
        b_off = _bias_offset(net)
        h = 1e-4
        slope = (_deviance(loss, y, f + h, param) - _deviance(loss, y, f - h, param)) / (2 * h)
        np.testing.assert_allclose(g[b_off], -0.5 * slope, rtol=2e-3, atol=1e-4)
        checked += abs(slope) > 1e-3
    assert checked  # not vacuous


def _bias_offset(net: Net) -> int:
    """Index in net.weights of the output layer's (single) bias."""
    b = net.layer(net.spec.n_layers - 1)[1]
    return (b.__array_interface__["data"][0] - net.weights.__array_interface__["data"][0]) // 4


def test_log_link_losses_fit_a_count_response() -> None:
    """Poisson on counts: exp(output) approaches the rate of each group."""
    from h2ocloud.kernel import train_hogwild

    rng = np.random.default_rng(0)
    g = rng.integers(0, 2, 4000)
    X = np.eye(2, dtype=np.float32)[g]
    y = rng.poisson(np.where(g == 1, 6.0, 1.5)).astype(np.float32)
    spec = NetSpec(n_inputs=2, hidden=(4,), n_outputs=1, activation="Tanh", output="linear", loss="Poisson")
    net = Net.initialize(spec, seed=1)
    for _ in range(5):
        train_hogwild(net, X, y, rng.permutation(4000), TrainConfig(), nthreads=1, seed=2)
    rate = np.exp(forward(net, np.eye(2, dtype=np.float32), nthreads=1)[:, 0])
    np.testing.assert_allclose(rate, [1.5, 6.0], rtol=0.15)


def test_unknown_regression_loss_is_refused() -> None:
    with pytest.raises(ValueError, match="loss"):
        NetSpec(n_inputs=2, hidden=(2,), n_outputs=1, output="linear", loss="CrossEntropy")
    with pytest.raises(ValueError, match="softmax output"):
        NetSpec(n_inputs=2, hidden=(2,), n_outputs=2, output="softmax", loss="Poisson")


def test_sparsity_beta_pulls_the_mean_hidden_activation_toward_the_target() -> None:
    """H2O's sparse autoencoder: with sparsity_beta the hidden units' mean activation moves to
    average_activation (here a Tanh layer pushed negative), and the rolling means are kept."""
    from h2ocloud.kernel import hidden_layer, train_hogwild
    from h2ocloud.kernel.train import activation_buffer

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    spec = NetSpec(n_inputs=6, hidden=(5,), n_outputs=6, activation="Tanh", output="autoencoder",
                   loss="MeanSquare")
    means = {}
    for beta in (0.0, 2.0):
        net = Net.initialize(spec, seed=3)
        avg = activation_buffer(spec)
        cfg = TrainConfig(sparsity_beta=beta, average_activation=-0.6, adaptive_rate=False, rate=0.01)
        for _ in range(3):
            train_hogwild(net, X, X[:, 0], rng.permutation(3000), cfg, nthreads=1, seed=2, avg_act=avg)
        means[beta] = float(hidden_layer(net, X, 0, nthreads=1).mean())
        if beta:
            assert np.abs(avg[:5]).max() > 0.05  # the rolling means were kept
    assert means[2.0] < means[0.0] - 0.2 and means[2.0] < -0.3, means
