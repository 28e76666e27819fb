"""Team training: threads that train each sample together, each on its share of every layer.

The team makes the same per-sample updates as one thread, in the same order; only the sum of
the error handed down to a layer is added in another order (each thread's part, then the
parts in thread order). So its model stays within float rounding of one thread's, and it is
deterministic: two team runs from the same seed give the same bits.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from h2ocloud.kernel import Net, NetSpec, TrainConfig, core, train_hogwild
from h2ocloud.kernel import train as train_module
from h2ocloud.kernel.layout import TeamBuffers, team_ok
from h2ocloud.kernel.train import activation_buffer


class _AlwaysTeam:
    """A tuner that runs every round on all the threads (the real one chooses by speed)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.rounds = 0

    def choose(self) -> tuple[int, int]:
        self.rounds += 1
        return self.k, 256 * self.k

    def record(self, k: int, rows: int, seconds: float) -> None:
        pass


@pytest.fixture
def always_team(monkeypatch):
    monkeypatch.setattr(train_module, "SMALL_CALL_WORK", 0)
    monkeypatch.setattr(train_module, "SMALL_CALL_ROWS", 0)
    monkeypatch.setattr(train_module, "tuner_for", lambda k, size: _AlwaysTeam(k))


def _data(n_in: int, n_rows: int = 1500, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_in)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32) + (X[:, 1] > 0.5)
    return X, np.minimum(y, classes - 1).astype(np.float32)


def _train(spec: NetSpec, cfg: TrainConfig, nthreads: int, X, y, seed: int = 5, **kw) -> Net:
    net = Net.initialize(spec, seed=3)
    made = []
    real = TeamBuffers.for_spec

    def spy(s, k):
        made.append(real(s, k))
        return made[-1]

    orig = TeamBuffers.__dict__["for_spec"]  # the classmethod itself, put back as it was
    TeamBuffers.for_spec = spy
    try:
        train_hogwild(net, X, y, np.arange(X.shape[0]), cfg, nthreads=nthreads, seed=seed, **kw)
    finally:
        TeamBuffers.for_spec = orig
    if nthreads > 1 and team_ok(spec):
        # The team really trained every sample: each thread passed the same number of
        # barriers, at least one per layer and sample.
        gens = made[-1].sync[:, core.T_GEN]
        assert (gens == gens[0]).all() and gens[0] >= X.shape[0] * spec.n_layers, gens
    return net


SPECS = {
    "rectifier_dropout": (NetSpec(n_inputs=37, hidden=(41, 23), n_outputs=3,
                                  activation="Rectifier", hidden_dropout_ratios=(0.5, 0.5)),
                          TrainConfig(input_dropout_ratio=0.2, l1=1e-5)),
    "tanh": (NetSpec(n_inputs=37, hidden=(30, 30, 30), n_outputs=3, activation="Tanh"),
             TrainConfig()),
    "momentum_l2": (NetSpec(n_inputs=37, hidden=(29,), n_outputs=3, activation="Tanh"),
                    TrainConfig(adaptive_rate=False, rate=0.01, momentum_start=0.5,
                                momentum_stable=0.9, momentum_ramp=1000, l2=1e-4)),
    "max_w2": (NetSpec(n_inputs=37, hidden=(31, 17), n_outputs=3, activation="Rectifier"),
               TrainConfig(max_w2=2.0)),
}


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("nthreads", [2, 3])
def test_a_team_trains_what_one_thread_trains_up_to_rounding(always_team, name, nthreads):
    spec, cfg = SPECS[name]
    X, y = _data(spec.n_inputs)
    one = _train(spec, cfg, 1, X, y)
    team = _train(spec, cfg, nthreads, X, y)
    assert team.samples_seen == one.samples_seen == X.shape[0]
    start = Net.initialize(spec, seed=3).weights
    moved = np.abs(one.weights - start).max()
    assert moved > 0.05  # the model trained
    # 1,500 samples later the two models agree to float rounding (measured: within 1e-6). A
    # thread that skipped its share, or read another's outputs before they were all written
    # (a softmax normalised in place while the other thread still copied its nets did that),
    # is off by 1e-3 to 1e-1 after a few samples.
    np.testing.assert_allclose(team.weights, one.weights, rtol=0, atol=1e-5)
    np.testing.assert_allclose(team.opt1, one.opt1, rtol=1e-3, atol=1e-5 * np.abs(one.opt1).max())


def test_a_team_is_deterministic(always_team):
    spec, cfg = SPECS["rectifier_dropout"]
    X, y = _data(spec.n_inputs)
    a = _train(spec, cfg, 2, X, y)
    b = _train(spec, cfg, 2, X, y)
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.opt2, b.opt2)


def test_a_sparse_autoencoder_team_keeps_the_mean_activations(always_team):
    spec = NetSpec(n_inputs=37, hidden=(24, 40), n_outputs=37, activation="Tanh",
                   output="autoencoder", loss="MeanSquare")
    cfg = TrainConfig(sparsity_beta=0.1, average_activation=-0.3)
    X, _ = _data(37)
    runs = {}
    for k in (1, 2):
        avg = activation_buffer(spec)
        net = _train(spec, cfg, k, X, None, avg_act=avg)
        runs[k] = (net, avg)
    (one, avg1), (two, avg2) = runs[1], runs[2]
    assert np.abs(avg1).max() > 0.01
    np.testing.assert_allclose(avg2, avg1, rtol=0, atol=1e-5)
    np.testing.assert_allclose(two.weights, one.weights, rtol=0, atol=1e-5)


def test_maxout_trains_hogwild_not_as_a_team(always_team):
    spec = NetSpec(n_inputs=37, hidden=(20,), n_outputs=3, activation="Maxout")
    assert not team_ok(spec)
    X, y = _data(37)
    net = _train(spec, TrainConfig(), 2, X, y)
    assert net.samples_seen == X.shape[0] and np.isfinite(net.weights).all()


def test_counting_trains_hogwild_not_as_a_team(always_team):
    """The work counters are one thread's tallies: a team would count its shares apart."""
    spec, cfg = SPECS["tanh"]
    runner = train_module._SliceRunner(
        Net.initialize(spec), cfg, *_data(spec.n_inputs), np.zeros(1, np.float32),
        core.OPT_ADADELTA, 2, 0, np.zeros(0, np.float32), np.zeros(0, np.float32),
        counts=train_module.work_counters(spec))
    assert runner.team is None


def test_team_barrier_holds_each_thread_until_all_arrive():
    """Each thread writes its slot, passes a barrier and reads the other's: after every
    barrier each sees the other's value of that round (none is read early)."""
    spec = NetSpec(n_inputs=3, hidden=(4,), n_outputs=2)
    sync = TeamBuffers.for_spec(spec, 2).sync
    rounds = 20_000
    slots = np.zeros((2, 16), np.int64)
    seen = np.zeros((2, rounds), np.int64)
    import numba

    @numba.njit(nogil=True)
    def run(tid, slots, seen, sync):
        for r in range(seen.shape[1]):
            slots[tid, 0] = r + 1
            core.team_barrier(sync, tid, 2)
            seen[tid, r] = slots[1 - tid, 0]
            core.team_barrier(sync, tid, 2)

    run(0, np.zeros((2, 16), np.int64), np.zeros((2, 0), np.int64), sync)  # compile
    threads = [threading.Thread(target=run, args=(t, slots, seen, sync)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    expect = np.arange(1, rounds + 1)
    assert np.array_equal(seen[0], expect) and np.array_equal(seen[1], expect)
    assert sync[0, core.T_GEN] == sync[1, core.T_GEN] == 2 * rounds
