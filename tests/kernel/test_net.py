"""Initialization, reproducibility, averaging and serialization of Net / NetSpec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from h2ocloud.kernel import Net, NetSpec, TrainConfig, layer_stats, train_hogwild
from h2ocloud.kernel import train as train_module

SPEC = NetSpec(n_inputs=30, hidden=(20, 10), n_outputs=4, activation="Rectifier",
               hidden_dropout_ratios=(0.5, 0.2))


def test_layout_is_flat_w_then_b() -> None:
    net = Net.initialize(SPEC, seed=1)
    sizes = SPEC.layer_sizes
    assert net.weights.shape == (sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(3)),)
    w, b = net.layer(1)
    assert w.shape == (10, 20) and b.shape == (10,)
    assert np.shares_memory(w, net.weights)
    w[3, 4] = 42.0
    assert net.weights[30 * 20 + 20 + 3 * 20 + 4] == 42.0  # W_0, b_0, then row-major W_1


@pytest.mark.parametrize("act,biases", [("Tanh", (0.0, 0.0)), ("Rectifier", (0.5, 1.0)),
                                        ("Maxout", (0.5, 1.0))])
def test_uniform_adaptive_ranges_and_biases(act: str, biases: tuple[float, float]) -> None:
    spec = NetSpec(n_inputs=30, hidden=(20, 10), n_outputs=4, activation=act)
    net = Net.initialize(spec, seed=5)
    for l, (n_in, n_out) in enumerate([(30, 20), (20, 10), (10, 4)]):
        w, b = net.layer(l)
        r = math.sqrt(6 / (n_in + n_out)) * (4 if l == 2 else 1)
        assert np.abs(w).max() <= r and np.abs(w).max() > 0.8 * r
        assert abs(w.mean()) < 0.25 * r
        assert np.all(b == (biases[l] if l < 2 else 0.0))


def test_uniform_and_normal_scales() -> None:
    u = Net.initialize(SPEC, distribution="Uniform", scale=0.3, seed=2)
    assert np.abs(u.layer(0)[0]).max() <= 0.3 and np.abs(u.layer(0)[0]).max() > 0.29
    n = Net.initialize(SPEC, distribution="Normal", scale=0.3, seed=2)
    assert abs(float(n.layer(0)[0].std()) - 0.3) < 0.03
    assert abs(float(n.layer(0)[0].mean())) < 0.03


def test_seed_fixes_the_start() -> None:
    a, b = Net.initialize(SPEC, seed=9), Net.initialize(SPEC, seed=9)
    c = Net.initialize(SPEC, seed=10)
    assert np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)


def _data(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 30)).astype(np.float32)
    X[X < -0.5] = 0.0  # some sparsity
    return X, rng.integers(0, 4, n).astype(np.float32)


def test_one_thread_is_bit_for_bit_reproducible() -> None:
    X, y = _data()
    cfg = TrainConfig(input_dropout_ratio=0.2, l1=1e-4)
    rows = np.random.default_rng(0).permutation(200)
    runs = []
    for _ in range(2):
        net = Net.initialize(SPEC, seed=4)
        train_hogwild(net, X, y, rows, cfg, nthreads=1, seed=77)
        runs.append(net)
    assert np.array_equal(runs[0].weights, runs[1].weights)
    assert np.array_equal(runs[0].opt1, runs[1].opt1)
    assert np.array_equal(runs[0].opt2, runs[1].opt2)
    other = Net.initialize(SPEC, seed=4)
    train_hogwild(other, X, y, rows, cfg, nthreads=1, seed=78)  # other dropout masks
    assert not np.array_equal(runs[0].weights, other.weights)


def test_hogwild_two_threads_trains_every_row(monkeypatch) -> None:
    monkeypatch.setattr(train_module, "SMALL_CALL_WORK", 0)  # two threads, however small the call
    X, y = _data()
    net = Net.initialize(SPEC, seed=4)
    before = net.weights.copy()
    assert train_hogwild(net, X, y, np.arange(200), TrainConfig(), nthreads=2) == 200
    assert net.samples_seen == 200
    assert not np.array_equal(before, net.weights)
    assert np.all(np.isfinite(net.weights))


def test_average_weights_state_and_count() -> None:
    a, b = Net.initialize(SPEC, seed=1), Net.initialize(SPEC, seed=2)
    a.opt1[:] = 1.0
    b.opt1[:] = 4.0
    a.samples_seen, b.samples_seen = 1000 + 30, 1000 + 10
    avg = Net.average([a, b], [30, 10])
    np.testing.assert_allclose(avg.weights, 0.75 * a.weights + 0.25 * b.weights, rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(avg.opt1, 1.75)
    assert avg.samples_seen == 1040
    assert avg.weights.dtype == np.float32


def test_arrays_and_spec_round_trip() -> None:
    net = Net.initialize(SPEC, seed=1)
    net.samples_seen = 123
    arrays = {k: v.copy() for k, v in net.to_arrays().items()}
    back = Net.from_arrays(NetSpec.from_dict(json.loads(json.dumps(SPEC.to_dict()))), arrays)
    assert back.spec == SPEC and back.samples_seen == 123
    assert np.array_equal(back.weights, net.weights)
    cfg = TrainConfig(l1=1e-5)
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    cp = net.copy()
    cp.weights[0] += 1
    assert cp.weights[0] != net.weights[0]


def test_layer_stats() -> None:
    net = Net.initialize(SPEC, seed=1)
    st = layer_stats(net)
    assert len(st) == 3
    w, b = net.layer(1)
    assert abs(st[1]["rms_weight"] - float(np.sqrt(np.mean(w.astype(np.float64) ** 2)))) < 1e-9
    assert st[1]["mean_bias"] == 1.0 and st[0]["rms_bias"] == 0.5


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        NetSpec(n_inputs=3, hidden=(2,), n_outputs=4, output="autoencoder", loss="MeanSquare")
    with pytest.raises(ValueError):
        NetSpec(n_inputs=3, hidden=(2,), n_outputs=2, activation="Sigmoid")
