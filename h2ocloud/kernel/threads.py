"""How many threads to train with: the count that has been training fastest lately.

Several threads (a team, or Hogwild threads: see :mod:`.train`) pass data between cores: a
team meets at a barrier after every layer of every sample and hands activations and errors
over; Hogwild threads write the same weights and ADADELTA accumulators, so every update moves
cache lines between cores. A team needs its threads on cores of their own: one held up by the
machine holds the others up at the next barrier. The figures that follow were measured with
Hogwild threads. On a machine where the two cores share a cache that costs little and two
threads train ~1.3x faster than one; when the (virtual) cores sit far apart it costs so much
that two threads train at less than half the speed of one. On a cloud VM the host moves
virtual cores around, so which case holds changes while a model trains (seen on this project's
2-core test machine: runs of 2-thread epochs at 8k samples/s between runs at 26k, while one
thread held 20k throughout).

So rows are trained in short rounds, each timed, and :class:`ThreadCountTuner` picks the
thread count with the best recent throughput, trying the other candidate now and then. The
first round of each thread count is not measured: it pays one-time costs (the pool starting
its threads, the first calls into the kernel), and a 10-row first round once timed two
threads at 28 samples/s, which kept the tuner on one thread for the rest of a 20,000-row run
in which two threads trained 1.7x faster. A round's measurement counts in proportion to its
rows, so a short last round of a call moves the average little. Both
choices train H2O's per-sample updates (a team: the same ones as one thread, but for float
rounding; Hogwild: H2O's own multi-threaded execution); the tuner changes only speed. ``nthreads=1`` never consults it, so reproducible runs are untouched.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

# Rows per thread in one timed round: long enough that the ~0.1 ms of dispatch per round is
# noise, short enough that a change of core placement is noticed within a fraction of a second.
ROWS_PER_THREAD = 1024
# Every PROBE_EVERY-th round runs the candidate not currently preferred, to refresh its speed;
# a probe round trains only ROWS_PER_THREAD rows in all, since the runner-up is the slow one.
PROBE_EVERY = 16
# When fewer threads are ahead, the candidate with more is probed every PROBE_MORE_EVERY-th
# round, a full round of its size: one slow measurement of two threads (the machine held a core
# up) otherwise kept a run on one thread for 16 rounds at about half speed. Each further probe
# it loses doubles the interval, up to PROBE_EVERY, and makes the probe a short one: where the
# cores are taken (two daemons on two cores, each training on two threads) a team runs at 0.6x
# one thread, and full probes every 4th round cost the cloud a fifth of its speed.
PROBE_MORE_EVERY = 4
# Weight of the newest measurement in the moving average of a candidate's speed.
SMOOTHING = 0.5


class ThreadCountTuner:
    """Moving-average throughput of each candidate thread count; the best one is used."""

    def __init__(self, max_threads: int) -> None:
        self.candidates = sorted({1, int(max_threads)})
        self.speed: dict[int, float] = {}
        self.warmed: set[int] = set()  # candidates whose first (unmeasured) round is done
        self.rounds = 0
        self.more_losses = 0  # how long the most threads have been behind, in their rounds
        self._lock = threading.Lock()

    def choose(self) -> tuple[int, int]:
        """(threads, rows) of the next round: an untried candidate, a periodic short probe of
        the runner-up, or the fastest so far."""
        with self._lock:
            self.rounds += 1
            untried = [k for k in reversed(self.candidates) if k not in self.speed]
            if untried:
                return untried[0], ROWS_PER_THREAD * untried[0]
            ranked = sorted(self.candidates, key=lambda k: self.speed[k], reverse=True)
            if len(ranked) > 1:
                if ranked[1] < ranked[0] and self.rounds % PROBE_EVERY == 0:
                    return ranked[1], ROWS_PER_THREAD
                every = min(PROBE_EVERY, PROBE_MORE_EVERY << max(0, self.more_losses - 1))
                if ranked[1] > ranked[0] and self.rounds % every == 0:
                    full = self.more_losses <= 1
                    return ranked[1], ROWS_PER_THREAD * (ranked[1] if full else 1)
            return ranked[0], ROWS_PER_THREAD * ranked[0]

    def record(self, threads: int, samples: int, seconds: float) -> None:
        """Fold one round's throughput into the candidate's moving average (the candidate's
        first round only warms it up)."""
        if samples <= 0 or seconds <= 0:
            return
        s = samples / seconds
        weight = SMOOTHING * min(1.0, samples / (ROWS_PER_THREAD * threads))
        with self._lock:
            if threads not in self.warmed:
                self.warmed.add(threads)
                return
            old = self.speed.get(threads)
            self.speed[threads] = s if old is None else weight * s + (1 - weight) * old
            most = self.candidates[-1]
            if len(self.speed) == len(self.candidates):
                if self.speed[most] >= max(self.speed.values()):
                    self.more_losses = 0
                elif threads == most or self.more_losses == 0:
                    self.more_losses += 1  # its own round lost, or another's put it behind


_TUNERS: dict[tuple[int, int], ThreadCountTuner] = {}
_TUNERS_LOCK = threading.Lock()


def tuner_for(max_threads: int, model_size: int) -> ThreadCountTuner:
    """The process-wide tuner for this thread budget and network size: what it learned carries
    over from one training iteration to the next (speeds are only comparable for one size)."""
    key = (int(max_threads), int(model_size))
    with _TUNERS_LOCK:
        t = _TUNERS.get(key)
        if t is None:
            t = _TUNERS[key] = ThreadCountTuner(max_threads)
        return t


# The kernel's worker threads persist across calls, for training rounds and scoring passes alike:
# an iteration of a small model trains in a millisecond or two, and starting threads for every
# call (a new executor) cost about as much again. Several trainings and scorings of one process
# may share a pool, so it has room for a few of them at once (its threads start only when
# needed). Its tasks never wait on the pool themselves, so sharing cannot deadlock: a team's
# pool threads wait at barriers only for each other and for the thread that called
# train_hogwild, which is never one of the pool's.
_POOL_JOBS = 4
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def worker_pool(nthreads: int) -> ThreadPoolExecutor:
    """The process-wide executor for ``nthreads``-way kernel work (training rounds, scoring)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(nthreads)
        if pool is None:
            pool = _POOLS[nthreads] = ThreadPoolExecutor(
                max_workers=nthreads * _POOL_JOBS, thread_name_prefix=f"h2ocloud-kernel{nthreads}")
        return pool
