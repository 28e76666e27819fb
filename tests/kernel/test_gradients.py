"""The kernel's per-sample gradient against finite differences of an independent numpy loss."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_npref import fd_gradient, forward, unpack

from h2ocloud.kernel import Net, NetSpec, TrainConfig, sample_gradient, train_hogwild

CFG = TrainConfig(fast_mode=False)


def _net(activation: str, output: str, loss: str, n_in: int = 5, seed: int = 3) -> Net:
    n_out = {"softmax": 3, "linear": 1, "autoencoder": n_in}[output]
    spec = NetSpec(n_inputs=n_in, hidden=(4, 3), n_outputs=n_out, activation=activation,
                   output=output, loss=loss)
    net = Net.initialize(spec, distribution="Uniform", scale=0.6, seed=seed)
    # Random biases too, so no gradient is trivially zero.
    rng = np.random.default_rng(seed)
    for l in range(spec.n_layers):
        net.layer(l)[1][:] = rng.uniform(-0.5, 0.5, net.layer(l)[1].shape)
    return net


CASES = [(a, o, lo) for a in ("Tanh", "Rectifier", "Maxout")
         for o, lo in (("softmax", "CrossEntropy"), ("linear", "MeanSquare"),
                       ("autoencoder", "MeanSquare"))]


@pytest.mark.parametrize("activation,output,loss", CASES)
def test_gradient_matches_finite_differences(activation: str, output: str, loss: str) -> None:
    net = _net(activation, output, loss)
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = rng.uniform(-1.5, 1.5, net.spec.n_inputs).astype(np.float32)
        y = 1.0 if output == "softmax" else 0.3
        g = sample_gradient(net, x, y, CFG)
        fd = fd_gradient(net.spec, net.weights, x, y)
        assert np.abs(fd).max() > 1e-3  # the check is not vacuous
        np.testing.assert_allclose(g, fd, rtol=2e-3, atol=2e-5)


def test_meansquare_on_softmax_uses_h2o_output_error() -> None:
    """MeanSquare on a classifier: dE/dnet_k = (t_k - y_k)(1 - y_k) y_k (DL-REFERENCE)."""
    net = _net("Tanh", "softmax", "MeanSquare")
    x = np.linspace(-1, 1, 5).astype(np.float32)
    g = sample_gradient(net, x, 2.0, CFG)
    y = forward(net.spec, net.weights, x)
    t = np.eye(3)[2]
    expect_b = (t - y) * (1 - y) * y
    # Hidden activations feeding the output layer, computed independently.
    (w0, b0), (w1, b1), _ = unpack(net.spec, net.weights.astype(np.float64))
    h = np.tanh(w1 @ np.tanh(w0 @ x + b0) + b1)
    gw, gb = unpack(net.spec, g)[-1]
    np.testing.assert_allclose(gb, expect_b, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gw, np.outer(expect_b, h), rtol=1e-4, atol=1e-7)


def test_l1_l2_enter_weight_gradient_not_bias() -> None:
    net = _net("Tanh", "softmax", "CrossEntropy")
    x = np.linspace(-1, 1, 5).astype(np.float32)
    g0 = sample_gradient(net, x, 0.0, CFG)
    g1 = sample_gradient(net, x, 0.0, TrainConfig(fast_mode=False, l1=0.01, l2=0.1))
    extra = np.zeros_like(net.weights, dtype=np.float64)
    for (w, _), (ew, _) in zip(unpack(net.spec, net.weights), unpack(net.spec, extra),
                               strict=True):
        ew[:] = -0.01 * np.sign(w) - 0.1 * w
    np.testing.assert_allclose(g1, g0 + extra, rtol=1e-5, atol=1e-6)


def test_fast_mode_skips_zero_inputs() -> None:
    """With fast_mode, a zero input's weights get no l1/l2 term; without, they do."""
    net = _net("Tanh", "softmax", "CrossEntropy")
    x = np.array([0.5, 0.0, -1.0, 0.0, 2.0], np.float32)
    fast = sample_gradient(net, x, 1.0, TrainConfig(fast_mode=True, l2=0.1))
    slow = sample_gradient(net, x, 1.0, TrainConfig(fast_mode=False, l2=0.1))
    w0 = net.layer(0)[0]
    gf, gs = unpack(net.spec, fast)[0][0], unpack(net.spec, slow)[0][0]
    assert np.all(gf[:, [1, 3]] == 0)
    np.testing.assert_allclose(gs[:, [1, 3]], -0.1 * w0[:, [1, 3]], rtol=1e-6)
    np.testing.assert_allclose(gf[:, [0, 2, 4]], gs[:, [0, 2, 4]], rtol=1e-6)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_adadelta_keeps_zero_inputs_weights_and_accumulators(fast_mode: bool) -> None:
    """ADADELTA with fast_mode leaves a zero input's weights and both accumulators as they were
    (bit for bit: the kernel writes them back with a step of zero rather than skipping the
    store), and moves the others; without fast_mode every weight moves (its l1/l2 term)."""
    net = _net("Tanh", "softmax", "CrossEntropy")
    rng = np.random.default_rng(5)
    net.opt1[:] = rng.uniform(1e-4, 1e-2, net.opt1.shape)
    net.opt2[:] = rng.uniform(1e-6, 1e-4, net.opt2.shape)
    w0, a0, b0 = net.weights.copy(), net.opt1.copy(), net.opt2.copy()
    x = np.array([[0.5, 0.0, -1.0, 0.0, 2.0]], np.float32)
    train_hogwild(net, x, np.array([1.0], np.float32), np.zeros(1, np.int64),
                  TrainConfig(fast_mode=fast_mode, l1=1e-3, l2=0.1), nthreads=1)
    n_in = net.spec.n_inputs
    rows = np.arange(net.spec.hidden[0])[:, None] * n_in  # layer 0's weights, unit by unit
    zero_in, live_in = rows + np.array([1, 3]), rows + np.array([0, 2, 4])
    for after, before in ((net.weights, w0), (net.opt1, a0), (net.opt2, b0)):
        moved = after[zero_in] != before[zero_in]
        assert moved.all() if not fast_mode else not moved.any()
        assert (after[live_in] != before[live_in]).all()
