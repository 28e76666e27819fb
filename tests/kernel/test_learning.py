"""End-to-end behaviour: scoring matches the reference, dropout scaling, and it learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kernel_npref import forward as ref_forward

from h2ocloud.kernel import (
    Net,
    NetSpec,
    TrainConfig,
    forward,
    hidden_layer,
    train_hogwild,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.mark.parametrize("act", ["Tanh", "Rectifier", "Maxout"])
@pytest.mark.parametrize("output", ["softmax", "linear", "autoencoder"])
def test_forward_matches_numpy_reference(act: str, output: str) -> None:
    n_out = {"softmax": 3, "linear": 1, "autoencoder": 6}[output]
    spec = NetSpec(n_inputs=6, hidden=(7, 5), n_outputs=n_out, activation=act, output=output,
                   loss="CrossEntropy" if output == "softmax" else "MeanSquare",
                   hidden_dropout_ratios=(0.3, 0.5))
    net = Net.initialize(spec, seed=2)
    X = np.random.default_rng(1).normal(size=(9, 6)).astype(np.float32)
    X[0, 2] = 0.0
    got = forward(net, X, nthreads=2)
    want = np.array([ref_forward(spec, net.weights, x) for x in X])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_dropout_scales_scored_activations() -> None:
    """With ratio p, scoring multiplies the layer's activations by (1 - p)."""
    kw = dict(n_inputs=8, hidden=(6, 4), n_outputs=2, activation="Tanh")
    plain = Net.initialize(NetSpec(**kw), seed=3)
    dropped = Net(NetSpec(**kw, hidden_dropout_ratios=(0.25, 0.5)), plain.weights.copy(),
                  plain.opt1.copy(), plain.opt2.copy())
    X = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    h0 = hidden_layer(plain, X, 0)
    np.testing.assert_allclose(hidden_layer(dropped, X, 0), 0.75 * h0, rtol=1e-6)
    w1, b1 = plain.layer(1)
    h1 = np.tanh((0.75 * h0) @ w1.T.astype(np.float64) + b1)
    np.testing.assert_allclose(hidden_layer(dropped, X, 1), 0.5 * h1, rtol=1e-5, atol=1e-6)


def test_training_dropout_zeroes_about_p_of_units() -> None:
    """In training, a dropped unit's incoming weights stay put for that sample."""
    spec = NetSpec(n_inputs=4, hidden=(400,), n_outputs=2, activation="Tanh",
                   hidden_dropout_ratios=(0.5,))
    net = Net.initialize(spec, seed=1)
    w0 = net.layer(0)[0].copy()
    X = np.ones((1, 4), np.float32)
    train_hogwild(net, X, np.zeros(1, np.float32), np.zeros(1, np.int64),
                  TrainConfig(adaptive_rate=False, rate=0.1), nthreads=1, seed=5)
    moved = np.any(net.layer(0)[0] != w0, axis=1).mean()
    assert 0.4 < moved < 0.6


def test_learns_xor_with_tanh() -> None:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32) * 2 - 1
    y = np.array([0, 1, 1, 0], np.float32)
    spec = NetSpec(n_inputs=2, hidden=(8,), n_outputs=2, activation="Tanh")
    net = Net.initialize(spec, seed=1)
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.permutation(4) for _ in range(1000)])
    train_hogwild(net, X, y, rows, TrainConfig(), nthreads=1, seed=1)
    assert np.array_equal(forward(net, X).argmax(axis=1), y)


def test_learns_sine_regression() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 2000).astype(np.float32)
    t = np.sin(x).astype(np.float32)
    ys = ((t - t.mean()) / t.std()).astype(np.float32)
    X = (x / x.std()).reshape(-1, 1).astype(np.float32)
    spec = NetSpec(n_inputs=1, hidden=(20, 20), n_outputs=1, activation="Tanh", output="linear",
                   loss="MeanSquare")
    net = Net.initialize(spec, seed=1)
    for ep in range(15):
        train_hogwild(net, X, ys, rng.permutation(2000), TrainConfig(), nthreads=2, seed=ep)
    mse = float(np.mean((forward(net, X)[:, 0] - ys) ** 2))
    assert mse < 0.02, mse


def test_digits_accuracy() -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(np.float64)
    keep = X.std(axis=0) > 0
    X = X[:, keep]
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    tr, te = idx[:1400], idx[1400:]
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-9
    X = ((X - mu) / sd).astype(np.float32)
    y = d.target.astype(np.float32)
    spec = NetSpec(n_inputs=X.shape[1], hidden=(64, 64), n_outputs=10, activation="Rectifier")
    net = Net.initialize(spec, seed=1)
    for ep in range(5):
        train_hogwild(net, X, y, rng.permutation(tr), TrainConfig(), nthreads=2, seed=ep)
    acc = float(np.mean(forward(net, X[te]).argmax(1) == y[te]))
    assert acc > 0.93, acc


def test_autoencoder_reduces_reconstruction_error() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(1000, 2))
    X = (z @ rng.normal(size=(2, 8))).astype(np.float32)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    spec = NetSpec(n_inputs=8, hidden=(4,), n_outputs=8, activation="Tanh",
                   output="autoencoder", loss="MeanSquare")
    net = Net.initialize(spec, seed=1)
    before = float(np.mean((forward(net, X) - X) ** 2))
    for ep in range(10):
        train_hogwild(net, X, None, rng.permutation(1000), TrainConfig(), nthreads=2, seed=ep)
    after = float(np.mean((forward(net, X) - X) ** 2))
    assert after < 0.5 * before, (before, after)


@pytest.mark.skipif(not (DATA / "mnist_train_10k.csv.gz").exists(), reason="no shared data")
def test_mnist_one_epoch() -> None:
    import pandas as pd

    tr = pd.read_csv(DATA / "mnist_train_10k.csv.gz", header=None).to_numpy(np.float32)
    te = pd.read_csv(DATA / "mnist_test.csv.gz", header=None, nrows=2000).to_numpy(np.float32)
    xtr, ytr, xte, yte = tr[:, 1:], tr[:, 0], te[:, :-1], te[:, -1]
    mu, sd = xtr.mean(0), xtr.std(0)
    keep = sd > 0
    xtr = np.ascontiguousarray((xtr[:, keep] - mu[keep]) / sd[keep])
    xte = np.ascontiguousarray((xte[:, keep] - mu[keep]) / sd[keep])
    spec = NetSpec(n_inputs=xtr.shape[1], hidden=(200, 200, 200), n_outputs=10,
                   hidden_dropout_ratios=(0.5, 0.5, 0.5))
    net = Net.initialize(spec, seed=1)
    cfg = TrainConfig(input_dropout_ratio=0.2, l1=1e-5)
    train_hogwild(net, xtr, ytr, np.random.default_rng(0).permutation(len(xtr)), cfg,
                  nthreads=2, seed=1)
    err = float(np.mean(forward(net, xte).argmax(1) != yte))
    assert err < 0.2, err
