"""Benchmark: the booklet's MNIST trial run on 1, 2 and 3 local nodes (one machine's cores).

Prints, for each cloud size: training samples per second of the whole train() call, the fraction
of the training wall time spent sending and averaging models (the iterations' wall time beyond the
slowest node's own training time), and the test classification error after 10 epochs.
Run: python bench/distributed.py [--epochs 10] [--nodes 1,2,3]
"""

from __future__ import annotations

import argparse
import time

from _common import mnist_frames

import h2ocloud as h2o
from h2ocloud.demo import PIXELS, TRIAL_RUN
from tests.cloudfixture import start_cloud


def run(n: int, epochs: float) -> None:
    with start_cloud(n, args=["--heartbeat-timeout", "10"]) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        h2o.no_progress()
        train, test = mnist_frames(h2o)
        params = dict(TRIAL_RUN, seed=1)
        h2o.H2ODeepLearningEstimator(**params, epochs=0.05).train(x=PIXELS, y="label", training_frame=train)
        t = time.perf_counter()
        m = h2o.H2ODeepLearningEstimator(**params, epochs=epochs)
        m.train(x=PIXELS, y="label", training_frame=train, validation_frame=test)
        wall = time.perf_counter() - t
        s = m.summary_json()
        comm = s["comm_seconds"]
        print(f"{n} node(s): {m.samples_trained} samples in {wall:.1f} s = {m.samples_trained / wall:,.0f} samples/s; "
              f"{s['iterations']} iterations of {s['samples_per_iteration']} samples; "
              f"sending+averaging {comm:.2f} s = {comm / wall * 100:.1f}% of wall; "
              f"test error {m.classification_error(valid=True) * 100:.2f}%", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--nodes", default="1,2,3")
    ns = ap.parse_args()
    for n in (int(x) for x in ns.nodes.split(",")):
        run(n, ns.epochs)


if __name__ == "__main__":
    main()
