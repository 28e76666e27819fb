"""Benchmark: prediction throughput on the 10,000-row MNIST test frame, one node.

    python bench/predict.py [--repeats 5] [--epochs 1] [--nodes 1]

With ``--nodes N`` above 1 it measures one node first and prints the cloud's median against
it. Trains the booklet's trial-run network (784-200-200-200-10 Rectifier with dropout; ``--epochs``
of the 10k training rows, default 1: the weights' values do not change the cost of scoring)
on a fresh local daemon, then times ``model.predict(test)`` from the client (the whole call:
the job on the node, the forward pass, storing the prediction frame) ``--repeats`` times and
prints rows/s of the best and the median run, beside the kernel's forward pass alone on the
same rows in this process (``h2ocloud.kernel.forward``, one thread and all threads). Target
(issue 18): >= 200,000 rows/s through the client on one node, and a cloud of 3 (``--nodes 3``:
local nodes on this machine sharing its cores, the frame's chunks spread over them) no slower
than one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import numpy as np
from _common import local_node, mnist_frames

from h2ocloud.demo import PIXELS, TRIAL_RUN
from h2ocloud.kernel import Net, NetSpec, forward


def kernel_forward(n_inputs: int, rows: int, repeats: int) -> dict[int, float]:
    """rows/s of the kernel's scoring pass alone, per thread count (best of repeats)."""
    spec = NetSpec(n_inputs=n_inputs, hidden=(200, 200, 200), n_outputs=10,
                   activation="Rectifier", hidden_dropout_ratios=(0.5, 0.5, 0.5))
    net = Net.initialize(spec, seed=1)
    X = np.random.default_rng(0).standard_normal((rows, n_inputs)).astype(np.float32)
    forward(net, X[:8], nthreads=1)
    out = {}
    for th in sorted({1, os.cpu_count() or 1}):
        best = min(_timed(lambda th=th: forward(net, X, nthreads=th)) for _ in range(repeats))
        out[th] = rows / best
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@contextlib.contextmanager
def cloud(nodes: int):
    """One local daemon, or a cloud of ``nodes`` (the tests' start_cloud, as bench/distributed.py
    starts one: flatfile discovery on 127.0.0.1, a unique cloud name), connected. Both keep
    their data in memory only (no --data-dir), so the cloud writes no more than the one node."""
    if nodes == 1:
        with local_node() as h2o:
            yield h2o
        return
    import h2ocloud as h2o
    from tests.cloudfixture import start_cloud

    with start_cloud(nodes, args=["--heartbeat-timeout", "10"], persist=False) as c:
        h2o.init(url=c.nodes[0].url)
        yield h2o


def timed_predicts(nodes: int, epochs: float, repeats: int) -> tuple[int, list[float], int]:
    """Rows scored, the seconds of each timed predict call, and the model's input count."""
    with cloud(nodes) as h2o:
        h2o.no_progress()
        train, test = mnist_frames(h2o)
        m = h2o.H2ODeepLearningEstimator(**{**TRIAL_RUN, "epochs": epochs}, seed=1)
        m.train(x=PIXELS, y="label", training_frame=train)
        m.predict(test)  # warm-up: the scoring kernels compiled or loaded from the cache
        times = [_timed(lambda: m.predict(test)) for _ in range(repeats)]
        return test.nrows, times, len(m._s.get("input_names") or []) or 717


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--nodes", type=int, default=1,
                    help="local nodes in the cloud (default 1); above 1, one node is measured first")
    args = ap.parse_args()
    one = None
    if args.nodes > 1:  # the one-node figure the cloud is held to, measured in the same minutes
        n, times, _ = timed_predicts(1, args.epochs, args.repeats)
        one = n / statistics.median(times)
        print(f"one node first: median {one:,.0f} rows/s over {args.repeats} runs")
    n, times, n_inputs = timed_predicts(args.nodes, args.epochs, args.repeats)
    best, med = min(times), statistics.median(times)
    if one is None:
        where, target = "one node", f"target >= 200,000: {'met' if n / best >= 200_000 else 'NOT met'}"
    else:
        ratio = (n / med) / one
        where = f"{args.nodes} local nodes"
        target = f"{ratio:.2f}x one node's median; target no slower: {'met' if ratio >= 1 else 'NOT met'}"
    print(f"predict on {n:,} MNIST test rows, {where}: best {n / best:,.0f} rows/s ({best * 1e3:.1f} ms),"
          f" median {n / med:,.0f} rows/s over {args.repeats} runs ({target});"
          " runs " + ", ".join(f"{t * 1e3:.0f}" for t in times) + " ms")
    for th, rate in kernel_forward(n_inputs, n, args.repeats).items():
        print(f"kernel forward alone, {th} thread(s): {rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
