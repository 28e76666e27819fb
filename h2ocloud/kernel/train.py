"""Training on several threads: Python threads run the nogil Numba kernel on the same shared arrays.

Threads train as a team (core.train_rows): all of them train each sample, each on a fixed
share of every layer's units, and they meet at a barrier after each layer. That is H2O's
per-sample algorithm as one thread runs it, in the same order (only the error handed down to
a layer is summed in thread order), so a team is deterministic and trains the model one thread
would, to float rounding. Hogwild (each thread its own samples, on the same weights without
locks, as H2O's threads) scales badly here: every sample writes some 60,000 weights and their
accumulators, and each write takes the cache line from the other core (two Hogwild threads
trained the MNIST trial run 1.03-1.11x as fast as one; a team of two 1.5x), while a team's
shares stay in the cache of the core that updates them. Maxout layers (a layer-wide max) and
counting runs still train Hogwild.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import core
from .layout import Scratch, TeamBuffers, build_meta, dropout_vector, own_lines, team_ok
from .net import Net
from .spec import NetSpec, TrainConfig
from .threads import tuner_for, worker_pool

_OUT = {"softmax": core.OUT_SOFTMAX, "linear": core.OUT_LINEAR,
        "autoencoder": core.OUT_AUTOENCODER}
_LOSS = {"CrossEntropy": core.LOSS_CE, "MeanSquare": core.LOSS_MSE, "Poisson": core.LOSS_POISSON,
         "Gamma": core.LOSS_GAMMA, "Tweedie": core.LOSS_TWEEDIE, "Laplace": core.LOSS_LAPLACE,
         "Quantile": core.LOSS_QUANTILE, "Huber": core.LOSS_HUBER}
_MASK64 = (1 << 64) - 1

def activation_buffer(spec: NetSpec) -> np.ndarray:
    """Zeros laid out like the kernel's activations (every layer's units): the mean-activation
    state of a sparse autoencoder (train_hogwild's avg_act)."""
    return np.zeros(sum(spec.layer_sizes[1:]), dtype=np.float32)


def work_counters(spec: NetSpec) -> np.ndarray:
    """Zeroed counters for train_hogwild's ``counts``: one row per weight layer, columns core.C_*."""
    return np.zeros((spec.n_layers, core.N_COUNTS), dtype=np.int64)


def thread_seed(seed: int, thread: int) -> np.ndarray:
    """Non-zero xorshift state for one thread: splitmix64 of (seed, thread)."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + (int(thread) + 1) * 0xD1B54A32D192ED03) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    state = own_lines(1, np.uint64)  # written at every draw: no line shared with another thread
    state[0] = z or 0x2545F4914F6CDD1D
    return state


def _opt_mode(cfg: TrainConfig) -> int:
    if cfg.adaptive_rate:
        return core.OPT_ADADELTA
    if not cfg.has_momentum:
        return core.OPT_PLAIN
    return core.OPT_NESTEROV if cfg.nesterov_accelerated_gradient else core.OPT_MOMENTUM


def _check_offsets(X: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """Per-row link-space offsets as float32, or an empty array for none."""
    if offsets is None:
        return np.zeros(0, dtype=np.float32)
    offsets = np.ascontiguousarray(offsets, dtype=np.float32)
    if offsets.shape != (X.shape[0],):
        raise ValueError("offsets must be (n_rows,)")
    return offsets


def _check_data(spec: NetSpec, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        raise ValueError(f"X must be (n_rows, {spec.n_inputs})")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if y is None or spec.output == "autoencoder" and len(y) != X.shape[0]:
        y = np.zeros(X.shape[0], dtype=np.float32)  # unused by the autoencoder
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.shape != (X.shape[0],):
        raise ValueError("y must be (n_rows,)")
    return X, y


class _SliceRunner:
    """Everything the kernel needs for one call of train_hogwild but the rows: built once, so
    a round of a few thousand rows does not rebuild the layer table or the scratch buffers."""

    def __init__(self, net: Net, cfg: TrainConfig, X: np.ndarray, y: np.ndarray, gout: np.ndarray,
                 mode: int, nthreads: int, seed: int, offsets: np.ndarray,
                 avg_act: np.ndarray, counts: np.ndarray | None = None,
                 elastic: np.ndarray | None = None, elastic_reg: float = 0.0) -> None:
        spec = net.spec
        plain_no_extra = mode == core.OPT_PLAIN and cfg.l1 == 0 and cfg.l2 == 0
        # H2O's shortcut: units with zero gradient are skipped when that changes nothing or
        # when fast_mode accepts the approximation (l1/l2 not applied to them).
        shortcut = mode != core.OPT_GRAD and (cfg.fast_mode or plain_no_extra)
        # Elastic averaging off: the weights are their own "consensus" and the pull is 0.
        ea = net.weights if elastic is None else elastic
        self.head = (net.weights, net.opt1, net.opt2, gout, build_meta(spec), dropout_vector(spec), X, y,
                     offsets, avg_act, ea)
        self.options = (
            _OUT[spec.output], _LOSS[spec.loss], np.float32(cfg.dist_param),
            np.float32(cfg.sparsity_beta), np.float32(cfg.average_activation), mode,
            float(cfg.rate), float(cfg.rate_annealing), float(cfg.rate_decay),
            float(cfg.momentum_start), float(cfg.momentum_ramp), float(cfg.momentum_stable),
            np.float32(cfg.rho), np.float32(cfg.epsilon), np.float32(cfg.l1), np.float32(cfg.l2),
            np.float32(elastic_reg if elastic is not None else 0.0), np.float32(cfg.max_w2), np.float32(cfg.input_dropout_ratio), bool(cfg.fast_mode),
            bool(shortcut),
        )
        # Per thread: its dropout stream (kept across rounds) and its scratch buffers.
        self.rngs = [thread_seed(seed, t) for t in range(nthreads)]
        self.scratch = [Scratch.for_spec(spec) for _ in range(nthreads)]
        self.counts = np.zeros((0, core.N_COUNTS), np.int64) if counts is None else counts
        self.team = TeamBuffers.for_spec(spec, nthreads) if nthreads > 1 and counts is None \
            and team_ok(spec) else None
        self._no_pe = np.zeros((0, 0), np.float32)
        self._no_team = np.zeros((1, core.TEAM_WIDTH), np.int64)

    def run(self, thread: int, rows: np.ndarray, n_start: int, n_stride: int) -> None:
        """Thread ``thread`` trains ``rows`` alone (one thread, or one of Hogwild's); its k-th
        row is global sample n_start + k * n_stride."""
        s = self.scratch[thread]
        self._call(thread, rows, n_start, n_stride, s.acts.reshape(1, -1), self._no_pe, 0, 1,
                   self._no_team)

    def run_team(self, thread: int, nthr: int, rows: np.ndarray, n_start: int) -> None:
        """Thread ``thread`` of a team of ``nthr`` trains its share of every sample of ``rows``
        (see core.train_rows); the team's other threads make the same call at the same time."""
        t = self.team
        self._call(thread, rows, n_start, 1, t.acts[:nthr], t.pe[:2 * nthr], thread, nthr,
                   t.sync[:nthr])

    def _call(self, thread, rows, n_start, n_stride, acts_all, pe_all, tid, nthr, sync) -> None:
        s = self.scratch[thread]
        core.train_rows(*self.head, rows, *self.options, int(n_start), int(n_stride),
                        self.rngs[thread], s.x0, acts_all, s.errs, pe_all, s.keep, s.udraw,
                        s.argmax, s.maxnorm, s.g2blk, s.blkg, s.blkj, self.counts, tid, nthr, sync)


# Rows a Hogwild thread takes from its round at a time: ~10 ms of training of the trial-run
# network, so a thread the machine holds up leaves the others little to wait for at the end of
# a round, and the lock is taken ~100 times a second.
BLOCK_ROWS = 96
# Calls with fewer rows than this, or less work than SMALL_CALL_WORK (rows times the model's
# weights: about a millisecond per million here), train on the calling thread alone (see
# train_hogwild).
SMALL_CALL_ROWS = 2 * BLOCK_ROWS
SMALL_CALL_WORK = 4_000_000


class _Blocks:
    """The next untaken row of a round, handed out BLOCK_ROWS at a time to whichever thread
    asks. Fixed slices per thread made every round last as long as its slowest slice: on a
    virtual machine a core is often held up for milliseconds, and the other thread then sat
    idle at the round's end."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.next = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[int, int]:
        with self._lock:
            lo = self.next
            self.next = hi = min(self.n, lo + BLOCK_ROWS)
        return lo, hi


def _team_round(runner: _SliceRunner, pool, k: int, chunk: np.ndarray, first: int) -> None:
    """k threads train every row of ``chunk`` together, each on its share of the units. They
    start from thread 0's dropout stream (the one a one-thread round goes on with), and end
    with it where one thread would leave it."""
    for t in range(1, k):
        runner.rngs[t][0] = runner.rngs[0][0]
    futures = [pool.submit(runner.run_team, t, k, chunk, first) for t in range(1, k)]
    runner.run_team(0, k, chunk, first)
    for f in futures:
        f.result()


def _drain(runner: _SliceRunner, thread: int, chunk: np.ndarray, first: int, blocks: _Blocks) -> None:
    """Train blocks of the round's rows until none is left; a block's k-th row is global sample
    first + (its place in the round), as it would be trained by one thread."""
    while True:
        lo, hi = blocks.take()
        if lo >= hi:
            return
        runner.run(thread, chunk[lo:hi], first + lo, 1)


def train_hogwild(net: Net, X: np.ndarray, y: np.ndarray, rows: np.ndarray,
                  cfg: TrainConfig | None = None, nthreads: int = 2, seed: int = 0,
                  offsets: np.ndarray | None = None, avg_act: np.ndarray | None = None,
                  counts: np.ndarray | None = None, elastic: np.ndarray | None = None,
                  elastic_reg: float = 0.0) -> int:
    """Train ``net`` in place on ``X[rows]`` (in that order), one sample at a time.

    With ``nthreads`` > 1 the rows go in consecutive timed rounds of about a thousand rows per
    thread, and the threads train each round's rows as a team (see the module's docstring), or,
    for maxout nets and counting runs, Hogwild: they take the round's rows in short blocks
    (whoever is free takes the next) and train them on the same shared arrays without locks.
    How many threads a round uses (1 or ``nthreads``) is chosen by measured throughput (see
    :mod:`.threads`). A team and one thread draw the dropout masks from one xorshift stream
    seeded from (seed, 0), kept across rounds; Hogwild thread t from its own, seeded from
    (seed, t). nthreads=1 is reproducible bit for bit. ``offsets`` (one per row of X) are added to a
    regression output in link space, as H2O's offset_column. ``avg_act`` (float32, one slot
    per unit, see :func:`activation_buffer`) carries the hidden units' mean activations across
    calls when ``cfg.sparsity_beta`` > 0. ``counts`` (from :func:`work_counters`) adds up the
    kernel's work per layer (units kept, skipped with a zero gradient, weights updated; columns
    core.C_*): exact with one thread, approximate with more (the threads add without locks).
    ``elastic`` (float32, laid out like ``net.weights``) is H2O-3's elastic-averaging consensus:
    every weight update is pulled toward it by ``elastic_reg`` (h2ocloud.dl.elastic).
    Returns ``len(rows)`` and adds it to ``net.samples_seen``.
    """
    cfg = cfg or TrainConfig()
    X, y = _check_data(net.spec, X, y)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n = rows.shape[0]
    if n == 0:
        return 0
    if rows.min() < 0 or rows.max() >= X.shape[0]:
        raise IndexError("rows out of range")
    # A call of a few blocks' rows, or of a few milliseconds' work, trains on this thread:
    # handing it to a pool costs more than the rows (the ECG autoencoder's iterations are 20
    # rows), and two threads writing a model small enough to sit in one core's cache only pass
    # its lines back and forth (a prostate-sized [50,50] net's 380-row iterations: two threads
    # woken for each trained 34k samples/s, one 108k).
    small = n < SMALL_CALL_ROWS or n * net.weights.size < SMALL_CALL_WORK
    nthreads = 1 if small else max(1, int(nthreads))
    if avg_act is None:
        avg_act = np.zeros(0, np.float32)
    elif avg_act.dtype != np.float32 or avg_act.shape != activation_buffer(net.spec).shape:
        raise ValueError("avg_act must be float32 shaped as activation_buffer(spec)")
    if counts is not None and (counts.dtype != np.int64
                               or counts.shape != work_counters(net.spec).shape):
        raise ValueError("counts must be int64 shaped as work_counters(spec)")
    if elastic is not None:
        elastic = np.ascontiguousarray(elastic, dtype=np.float32)
        if elastic.shape != net.weights.shape:
            raise ValueError("elastic must be float32 laid out like net.weights")
    runner = _SliceRunner(net, cfg, X, y, np.zeros(1, dtype=np.float32), _opt_mode(cfg), nthreads, seed,
                          _check_offsets(X, offsets), avg_act, counts, elastic, elastic_reg)
    if nthreads == 1:
        runner.run(0, rows, net.samples_seen, 1)
    else:
        tuner = tuner_for(nthreads, net.weights.size)
        done = 0
        pool = worker_pool(nthreads)
        while done < n:
            k, size = tuner.choose()
            take = min(n - done, size)
            chunk = rows[done:done + take]
            first = net.samples_seen + done
            t0 = time.perf_counter()
            if k == 1:  # one thread: this one (no hand-off to a worker)
                runner.run(0, chunk, first, 1)
            elif runner.team is not None:
                _team_round(runner, pool, k, chunk, first)
            else:
                blocks = _Blocks(take)
                futures = [pool.submit(_drain, runner, t, chunk, first, blocks) for t in range(k)]
                for f in futures:
                    f.result()
            tuner.record(k, take, time.perf_counter() - t0)
            done += take
    net.samples_seen += n
    return n


def sample_gradient(net: Net, x: np.ndarray, y: float, cfg: TrainConfig | None = None,
                    seed: int = 0, offset: float | None = None) -> np.ndarray:
    """Test hook: the update direction ("target minus output" gradient, l1/l2 included) of
    one training sample, laid out like ``net.weights``; the net is not modified.

    Dropout follows ``cfg`` and the spec (use ratios 0 for an exact gradient).
    """
    cfg = cfg or TrainConfig()
    X, yy = _check_data(net.spec, np.asarray(x, np.float32).reshape(1, -1),
                        np.array([y], dtype=np.float32))
    gout = np.zeros_like(net.weights)
    offs = None if offset is None else np.array([offset], dtype=np.float32)
    _SliceRunner(net, cfg, X, yy, gout, core.OPT_GRAD, 1, seed, _check_offsets(X, offs),
                 np.zeros(0, np.float32)).run(
        0, np.zeros(1, np.int64), net.samples_seen, 1)
    return gout
