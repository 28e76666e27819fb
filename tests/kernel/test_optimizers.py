"""Each optimizer option changes one training step exactly as its formula says."""

from __future__ import annotations

import numpy as np
from kernel_npref import unpack

from h2ocloud.kernel import Net, NetSpec, TrainConfig, sample_gradient, train_hogwild

SPEC = NetSpec(n_inputs=6, hidden=(5, 4), n_outputs=3, activation="Tanh")
X = np.random.default_rng(0).uniform(-1, 1, (8, 6)).astype(np.float32)
Y = np.array([0, 1, 2, 1, 0, 2, 1, 0], np.float32)


def _net(seen: int = 0) -> Net:
    net = Net.initialize(SPEC, seed=11)
    net.samples_seen = seen
    return net


def _plain(**kw) -> TrainConfig:
    base = dict(adaptive_rate=False, rate=0.1, rate_annealing=0.0, momentum_start=0.0,
                momentum_stable=0.0)
    base.update(kw)
    return TrainConfig(**base)


def _step(net: Net, cfg: TrainConfig, row: int = 0) -> None:
    train_hogwild(net, X, Y, np.array([row]), cfg, nthreads=1, seed=1)


def _bias_mask() -> np.ndarray:
    m = np.zeros(_net().weights.shape, bool)
    for _, b in unpack(SPEC, m):
        b[:] = True
    return m


def test_plain_rate_step_is_w_plus_rate_grad() -> None:
    net = _net()
    cfg = _plain()
    g = sample_gradient(net, X[0], Y[0], cfg).astype(np.float64)
    w0 = net.weights.astype(np.float64)
    _step(net, cfg)
    np.testing.assert_allclose(net.weights, w0 + 0.1 * g, rtol=1e-5, atol=1e-7)
    assert net.samples_seen == 1
    assert not np.any(net.opt1) and not np.any(net.opt2)


def test_rate_annealing_and_decay_scale_the_step() -> None:
    n = 5000
    net = _net(seen=n)
    cfg = _plain(rate_annealing=1e-4, rate_decay=0.5)
    g = sample_gradient(net, X[0], Y[0], cfg).astype(np.float64)
    w0 = net.weights.astype(np.float64)
    _step(net, cfg)
    base = 0.1 / (1 + 1e-4 * n)
    expect = w0.copy()
    for l, ((ew, eb), (gw, gb)) in enumerate(zip(unpack(SPEC, expect), unpack(SPEC, g),
                                                 strict=True)):
        ew += base * 0.5**l * gw
        eb += base * 0.5**l * gb
    np.testing.assert_allclose(net.weights, expect, rtol=1e-5, atol=1e-7)


def test_adadelta_first_step_from_zero_accumulators() -> None:
    rho, eps = 0.95, 1e-6
    net = _net()
    cfg = TrainConfig(rho=rho, epsilon=eps)
    g = sample_gradient(net, X[0], Y[0], cfg).astype(np.float64)
    w0 = net.weights.astype(np.float64)
    _step(net, cfg)
    g2 = g * g
    # Biases take the mean grad^2 of their unit's incoming weights.
    for (gw, _), (_, g2b) in zip(unpack(SPEC, g), unpack(SPEC, g2), strict=True):
        g2b[:] = (gw * gw).mean(axis=1)
    eg = (1 - rho) * g2
    r = np.sqrt(eps / (eg + eps))
    np.testing.assert_allclose(net.opt1, eg, rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(net.opt2, (1 - rho) * r * r * g2, rtol=1e-4, atol=1e-14)
    np.testing.assert_allclose(net.weights, w0 + r * g, rtol=1e-5, atol=1e-7)


def test_adadelta_second_step_uses_accumulators() -> None:
    rho, eps = 0.9, 1e-4
    net = _net()
    cfg = TrainConfig(rho=rho, epsilon=eps)
    _step(net, cfg, row=0)
    e1, e2 = net.opt1.astype(np.float64), net.opt2.astype(np.float64)
    g = sample_gradient(net, X[1], Y[1], cfg).astype(np.float64)
    w1 = net.weights.astype(np.float64)
    _step(net, cfg, row=1)
    wmask = ~_bias_mask()
    eg = rho * e1 + (1 - rho) * g * g
    r = np.sqrt((e2 + eps) / (eg + eps))
    np.testing.assert_allclose(net.weights[wmask], (w1 + r * g)[wmask], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(net.opt2[wmask], (rho * e2 + (1 - rho) * r * r * g * g)[wmask],
                               rtol=1e-4, atol=1e-14)


def test_l1_l2_shrink_weights() -> None:
    ref, reg = _net(), _net()
    for r in range(8):
        _step(ref, _plain(), row=r)
        _step(reg, _plain(l1=1e-3, l2=0.05), row=r)
    wmask = ~_bias_mask()
    assert np.abs(reg.weights[wmask]).sum() < np.abs(ref.weights[wmask]).sum()


def test_max_w2_caps_row_norm() -> None:
    cap = 0.3
    net, free = _net(), _net()
    for r in range(8):
        _step(net, _plain(max_w2=cap), row=r)
        _step(free, _plain(), row=r)
    for l in range(SPEC.n_layers):
        w = net.layer(l)[0].astype(np.float64)
        assert (w * w).sum(axis=1).max() <= cap * (1 + 1e-5)
    assert max((free.layer(l)[0].astype(np.float64) ** 2).sum(axis=1).max()
               for l in range(SPEC.n_layers)) > cap


def test_classic_momentum_with_ramp() -> None:
    n, ramp, m0, m1 = 100, 400.0, 0.1, 0.9
    m = m0 + (m1 - m0) * n / ramp
    cfg = _plain(momentum_start=m0, momentum_ramp=ramp, momentum_stable=m1,
                 nesterov_accelerated_gradient=False)
    net = _net(seen=n)
    r = 0.1 * (1 - m)
    g0 = sample_gradient(net, X[0], Y[0], cfg).astype(np.float64)
    w0 = net.weights.astype(np.float64)
    _step(net, cfg)
    np.testing.assert_allclose(net.weights, w0 + r * g0, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(net.opt1, r * g0, rtol=1e-5, atol=1e-9)
    # Second step: delta + momentum * previous delta, at the next sample count.
    m2 = m0 + (m1 - m0) * (n + 1) / ramp
    r2 = 0.1 * (1 - m2)
    g1 = sample_gradient(net, X[1], Y[1], cfg).astype(np.float64)
    w1 = net.weights.astype(np.float64)
    _step(net, cfg, row=1)
    np.testing.assert_allclose(net.weights, w1 + r2 * g1 + m2 * r * g0, rtol=1e-5, atol=1e-7)


def test_nesterov_velocity() -> None:
    m = 0.5
    cfg = _plain(momentum_start=m, momentum_stable=m)
    net = _net()
    r = 0.1 * (1 - m)
    g0 = sample_gradient(net, X[0], Y[0], cfg).astype(np.float64)
    w0 = net.weights.astype(np.float64)
    _step(net, cfg)
    np.testing.assert_allclose(net.opt1, g0, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(net.weights, w0 + r * g0, rtol=1e-5, atol=1e-7)
    g1 = sample_gradient(net, X[1], Y[1], cfg).astype(np.float64)
    w1 = net.weights.astype(np.float64)
    _step(net, cfg, row=1)
    v = m * g0 + g1
    np.testing.assert_allclose(net.opt1, v, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(net.weights, w1 + r * v, rtol=1e-5, atol=1e-7)


def test_momentum_ramp_reaches_stable() -> None:
    cfg = TrainConfig(momentum_start=0.2, momentum_ramp=100, momentum_stable=0.8)
    assert cfg.momentum_at(0) == 0.2
    assert abs(cfg.momentum_at(50) - 0.5) < 1e-12
    assert cfg.momentum_at(10**6) == 0.8
