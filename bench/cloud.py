"""Benchmark: the cloud. Prints
  - the time to form a cloud of 3 and of 5 local nodes (process start to consensus),
  - a column-sum map/reduce over the MNIST frame on 1 vs 3 local nodes (same machine: this is the
    overhead of going distributed, not a speed-up),
  - the time until the cloud declares a SIGKILLed node dead and has re-replicated its keys (R=2).
Run: python bench/cloud.py [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import data
from cloud_form import one_run

import h2ocloud as h2o
from tests.cloudfixture import start_cloud

HEARTBEAT_TIMEOUT = 3.0


def colsum_seconds(n: int, reps: int) -> tuple[float, int]:
    with start_cloud(n, args=["--heartbeat-timeout", str(HEARTBEAT_TIMEOUT)]) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        h2o.no_progress()
        fr = h2o.import_file(str(data("mnist_train_10k.csv.gz")), header=-1, chunk_rows=250)
        conn = h2o.connection()
        conn.call("frames.colsum", {"frame_id": fr.frame_id})  # warm
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            r = conn.call("frames.colsum", {"frame_id": fr.frame_id})[0]
            times.append(time.perf_counter() - t)
        return statistics.median(times), r["chunks"]


def own_keys(node) -> int:
    st = node.status()
    return next(n["keys"] for n in st["nodes"] if n["node_id"] == st["node_id"])


def kill_and_rereplicate() -> tuple[float, float, int]:
    with start_cloud(3, args=["--heartbeat-timeout", str(HEARTBEAT_TIMEOUT)]) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        h2o.no_progress()
        fr = h2o.import_file(str(data("mnist_train_10k.csv.gz")), header=-1, chunk_rows=250)
        total = 1 + h2o.connection().call("frames.get", {"frame_id": fr.frame_id})[0]["nchunks"]
        victim, others = cloud.nodes[2], cloud.nodes[:2]
        vid = victim.status()["node_id"]
        t0 = time.perf_counter()
        victim.kill()
        while not all(vid in {d["node_id"] for d in o.status()["dead_nodes"]} for o in others):
            time.sleep(0.05)
        dead = time.perf_counter() - t0
        while sum(own_keys(o) for o in others) < 2 * total:  # every key on both survivors again
            time.sleep(0.05)
        return dead, time.perf_counter() - t0, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ns = ap.parse_args()
    for n in (3, 5):
        runs = [one_run(n, kill=False)["formed"] for _ in range(ns.reps)]
        print(f"form a cloud of {n} local nodes: median {statistics.median(runs):.2f} s "
              f"(runs {' '.join(f'{r:.2f}' for r in runs)}; includes Python start-up)", flush=True)
    one, chunks = colsum_seconds(1, 5)
    three, _ = colsum_seconds(3, 5)
    print(f"column-sum map/reduce over MNIST train ({chunks} chunks, 10,000 x 785): "
          f"1 node {one * 1000:.1f} ms, 3 nodes {three * 1000:.1f} ms (overhead x{three / one:.2f} on one machine)")
    dead, rerep, keys = kill_and_rereplicate()
    print(f"SIGKILL one of 3 nodes (--heartbeat-timeout {HEARTBEAT_TIMEOUT:g}): declared dead after {dead:.2f} s, "
          f"all {keys} keys back to 2 live copies after {rerep:.2f} s")


if __name__ == "__main__":
    main()
