"""The Hogwild thread-count tuner: it follows measured throughput and keeps probing."""

from __future__ import annotations

import numpy as np

from h2ocloud.kernel import Net, NetSpec, TrainConfig, train_hogwild
from h2ocloud.kernel import train as train_module
from h2ocloud.kernel.threads import (
    PROBE_EVERY,
    PROBE_MORE_EVERY,
    ROWS_PER_THREAD,
    ThreadCountTuner,
    tuner_for,
)


def _warmed(max_threads: int) -> ThreadCountTuner:
    """A tuner whose candidates have had their unmeasured first rounds."""
    t = ThreadCountTuner(max_threads)
    for k in t.candidates:
        t.record(k, 10, 5.0)
    assert t.speed == {}
    return t


def test_tries_every_candidate_then_runs_the_fastest_and_probes_the_other():
    t = _warmed(2)
    assert t.choose() == (2, 2 * ROWS_PER_THREAD)  # untried, the full budget first
    t.record(2, 2048, 0.1)  # 20,480 rows/s
    assert t.choose() == (1, ROWS_PER_THREAD)
    t.record(1, 1024, 0.1)  # 10,240 rows/s: two threads win
    picks = [t.choose() for _ in range(2 * PROBE_EVERY)]
    probes = [p for p in picks if p[0] == 1]
    assert len(probes) == 2 and all(p == (1, ROWS_PER_THREAD) for p in probes)
    # Two threads slow down (cores placed far apart): after a few rounds one thread wins.
    for _ in range(3):
        t.record(2, 2048, 0.4)
    assert t.choose()[0] == 1
    assert t.speed[2] < t.speed[1]


def test_a_slow_two_thread_round_is_retried_soon_with_a_full_round():
    """One thread ahead (one slow two-thread measurement): two threads get a full round every
    PROBE_MORE_EVERY-th round, and when it is fast again they are back in front."""
    t = _warmed(2)
    t.choose()
    t.record(2, 2048, 0.4)  # 5,120 rows/s: a core held up
    t.choose()
    t.record(1, 1024, 0.1)  # 10,240 rows/s
    picks = [t.choose() for _ in range(PROBE_MORE_EVERY)]
    assert picks.count((2, 2 * ROWS_PER_THREAD)) == 1
    for _ in range(2):
        t.record(2, 2048, 0.1)  # 20,480 rows/s
    assert t.choose()[0] == 2


def test_first_round_is_not_measured_and_short_rounds_count_little():
    """A first round pays one-time costs (thread start, first kernel calls): timing it would
    brand its thread count slow for many rounds."""
    t = ThreadCountTuner(2)
    assert t.choose() == (2, 2 * ROWS_PER_THREAD)
    t.record(2, 10, 0.36)  # 28 rows/s: the warm-up round
    assert t.speed == {} and t.choose() == (2, 2 * ROWS_PER_THREAD)
    t.record(2, 2048, 0.1)
    assert t.speed[2] == 20480
    t.record(2, 2 * ROWS_PER_THREAD // 100, 1.0)  # a short, slow round: 1% of a full one
    assert 20000 < t.speed[2] < 20480


def test_single_thread_budget_has_one_candidate():
    t = ThreadCountTuner(1)
    assert t.choose() == (1, ROWS_PER_THREAD)
    t.record(1, 100, 0.01)
    assert all(t.choose()[0] == 1 for _ in range(3 * PROBE_EVERY))


def test_ignores_empty_rounds():
    t = _warmed(2)
    t.record(2, 0, 0.1)
    t.record(2, 10, 0.0)
    assert t.speed == {}


def test_train_hogwild_trains_every_row_through_timed_rounds(monkeypatch):
    # A model this small trains on the calling thread unless the small-call rule is lifted.
    monkeypatch.setattr(train_module, "SMALL_CALL_WORK", 0)
    rng = np.random.default_rng(0)
    spec = NetSpec(n_inputs=5, hidden=(7,), n_outputs=3, activation="Tanh", output="softmax",
                   loss="CrossEntropy")
    X = rng.normal(size=(8000, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8000).astype(np.float32)
    net = Net.initialize(spec, seed=3)
    before = net.weights.copy()
    tuner = tuner_for(2, net.weights.size)
    rounds = tuner.rounds
    assert train_hogwild(net, X, y, np.arange(8000), TrainConfig(), nthreads=2, seed=1) == 8000
    assert net.samples_seen == 8000
    assert not np.array_equal(before, net.weights)
    # 8,000 rows in rounds of at most 2 x ROWS_PER_THREAD: at least 4 rounds, all timed
    # (each thread count's first round unmeasured, then a measured one).
    assert tuner.rounds - rounds >= 4
    assert set(tuner.speed) == {1, 2}


def test_a_call_of_little_work_trains_on_the_calling_thread_without_the_tuner():
    """rows x weights under SMALL_CALL_WORK: no pool, no timed rounds (waking two threads for a
    few milliseconds' work trained a prostate-sized net at a third of one thread's speed)."""
    rng = np.random.default_rng(1)
    spec = NetSpec(n_inputs=7, hidden=(50, 50), n_outputs=2, activation="Rectifier", output="softmax",
                   loss="CrossEntropy")
    X = rng.normal(size=(380, 7)).astype(np.float32)
    y = rng.integers(0, 2, 380).astype(np.float32)
    net = Net.initialize(spec, seed=3)
    assert 380 * net.weights.size < train_module.SMALL_CALL_WORK
    tuner = tuner_for(2, net.weights.size)
    rounds = tuner.rounds
    assert train_hogwild(net, X, y, np.arange(380), TrainConfig(), nthreads=2, seed=1) == 380
    assert tuner.rounds == rounds
    # The same call on one thread trains the same bits (it is the one-thread path).
    other = Net.initialize(spec, seed=3)
    train_hogwild(other, X, y, np.arange(380), TrainConfig(), nthreads=1, seed=1)
    assert np.array_equal(net.weights, other.weights)


def test_two_threads_that_keep_losing_are_probed_less_often_and_briefly():
    """Where the cores are taken by others (two daemons on two cores), a team of two runs at
    0.6x one thread: each probe it loses doubles the interval up to PROBE_EVERY, and after the
    first loss the probes are short. One win brings back the full rounds."""
    t = _warmed(2)
    t.choose()
    t.record(2, 2048, 0.2)  # 10,240 rows/s
    t.choose()
    t.record(1, 1024, 0.06)  # 17,067 rows/s: one thread ahead
    assert t.more_losses == 1
    intervals, sizes = [], []
    for _ in range(5):
        start = t.rounds
        while True:
            k, rows = t.choose()
            if k == 2:
                break
            t.record(1, rows, rows / 17_067)
        intervals.append(t.rounds - start)
        sizes.append(rows)
        t.record(2, rows, rows / 6_000)  # the team stays slow
    assert max(intervals[:1]) <= PROBE_MORE_EVERY
    assert intervals[-1] >= PROBE_EVERY - 1 and intervals[-2] >= PROBE_EVERY - 1
    assert sizes[0] == 2 * ROWS_PER_THREAD and all(s == ROWS_PER_THREAD for s in sizes[1:])
    # The team is fast again: its next probe wins, and the full rounds come back.
    while t.choose()[0] != 2:
        pass
    for _ in range(3):
        t.record(2, ROWS_PER_THREAD, ROWS_PER_THREAD / 40_000)
    assert t.more_losses == 0
    assert t.choose() == (2, 2 * ROWS_PER_THREAD)
