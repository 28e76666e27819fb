"""Benchmark: how much each node's memory grows while a 3-node cloud trains (issue 17).

Training is a map/reduce over the chunks where they live: each node builds the rows of the chunks
it homes, the driver (the node running the job) holds the model, not the frame. This starts 3
local daemons, imports a synthetic frame of --rows rows (default 1,000,000; 20 numeric columns and
a 3-class response), compiles the kernels with a tiny warm-up model, then trains with
replicate_training_data=False while sampling every node's resident memory (VmRSS) every 0.1 s.
It prints each node's RSS before training, its peak during training and the growth, and checks
the target: the driver's growth within 20% (+30 MB) of the largest other node's.
Run: python bench/memory.py [--rows 1000000] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import numpy as np
from _common import ROOT  # noqa: F401  (puts the repo first on sys.path)

import h2ocloud as h2o
from tests.cloudfixture import start_cloud

FEATURES = [f"f{i}" for i in range(20)]


def write_frame(path: str, rows: int, seed: int = 1) -> None:
    """Three Gaussian classes in 20 dimensions, as a CSV."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1.5, (3, len(FEATURES)))
    with open(path, "w") as f:
        f.write(",".join(FEATURES + ["label"]) + "\n")
        block = 100_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            y = rng.integers(0, 3, n)
            x = centers[y] + rng.normal(0, 1, (n, len(FEATURES)))
            np.savetxt(f, np.column_stack([x, y]), fmt=["%.4f"] * len(FEATURES) + ["%d"], delimiter=",")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """The peak RSS of each pid while running."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {p: rss_mb(p) for p in pids}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for p in self.pids:
                self.peak[p] = max(self.peak[p], rss_mb(p))
            time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=float, default=1.0)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="h2ocloud-bench-memory-") as tmp:
        csv = os.path.join(tmp, "frame.csv")
        t = time.perf_counter()
        write_frame(csv, ns.rows)
        print(f"wrote {ns.rows:,} rows x {len(FEATURES) + 1} columns ({os.path.getsize(csv) / 2**20:.0f} MB CSV) "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        with start_cloud(3, args=["--heartbeat-timeout", "30"]) as cloud:
            h2o.init(url=cloud.nodes[0].url)
            h2o.no_progress()
            t = time.perf_counter()
            fr = h2o.import_file(csv, destination_frame="memory_bench.hex")
            fr["label"] = fr["label"].asfactor()
            print(f"imported {fr.nrows:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
            params = dict(hidden=[32, 32], seed=1, replicate_training_data=False, classification_stop=-1)
            # Warm-up on a small frame of its own: the kernels compile on every node, and no
            # memory the big frame's training would use is allocated before the measurement.
            small_csv = os.path.join(tmp, "small.csv")
            write_frame(small_csv, 30_000, seed=2)
            small = h2o.import_file(small_csv, destination_frame="memory_warmup.hex")
            small["label"] = small["label"].asfactor()
            h2o.H2ODeepLearningEstimator(**params, epochs=1).train(x=FEATURES, y="label", training_frame=small)
            time.sleep(1.0)
            pids = [n.proc.pid for n in cloud.nodes]
            before = {p: rss_mb(p) for p in pids}
            sampler = Sampler(pids)
            sampler.start()
            t = time.perf_counter()
            m = h2o.H2ODeepLearningEstimator(**params, epochs=ns.epochs)
            m.train(x=FEATURES, y="label", training_frame=fr)
            wall = time.perf_counter() - t
            sampler.stop.set()
            sampler.join()
            s = m.summary_json()
            print(f"trained {m.samples_trained:,} samples in {wall:.1f} s on {len(s['training_nodes'][0])} nodes "
                  f"({s['iterations']} iterations); training error {m.classification_error() * 100:.2f}%")
            growth = {}
            for i, p in enumerate(pids):
                growth[i] = sampler.peak[p] - before[p]
                role = "driver" if i == 0 else "worker"
                print(f"node {i} ({role}): RSS before {before[p]:7.1f} MB, peak {sampler.peak[p]:7.1f} MB, "
                      f"growth {growth[i]:6.1f} MB")
            others = max(growth[i] for i in growth if i != 0)
            limit = 1.2 * others + 30
            frame_mb = fr.nrows * (len(FEATURES) + 1) * 4 / 2**20
            print(f"driver growth {growth[0]:.1f} MB; limit 1.2 x {others:.1f} + 30 = {limit:.1f} MB -> "
                  f"{'OK' if growth[0] <= limit else 'OVER'} (the frame as float32 would be {frame_mb:.0f} MB)")


if __name__ == "__main__":
    main()
