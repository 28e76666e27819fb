"""Benchmark: one model-averaging step over the reduce tree, and what it predicts for larger clouds.

Measures, on 2, 4 and 8 local daemons (one thread each), the wall time of one averaging step as the
node driving a training job sees it: the model goes down the reduce tree to every node and each
node's model comes back up, averaged sample-weighted at every inner node (`dl.iteration`'s reduce
and wire form; the task `test.model_average` of tests/avg_tasks.py, whose map hands back a made-up
model instead of training one, so no kernel competes with the messages for this machine's two
cores). Models: the booklet's MNIST trial run (784-200-200-200-10) and 784-1024-1024-1024-10; a
model travels as its weights plus ADADELTA's two accumulators (3 float32 arrays).

It fits the cost against the tree's depth (t = a + b * depth; the flat reduce, --flat: t = a + b *
(n-1)); on this 2-core machine the deeper trees' subtrees share the cores, so the fit also measures
contention. The prediction for 16, 32 and 64 nodes on a 10 Gbit/s network (iteration time and the
fraction of it spent communicating) is built instead from the measured cost of one hop (the 2-node
step) plus wire time and latency per tree level; the assumptions are printed with the table.
Run: python bench/averaging.py [--nodes 2,4,8] [--repeats 5] [--flat] [--samples-per-second S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import _common  # noqa: F401  (puts the checkout on sys.path)
import numpy as np

from h2ocloud.node.tasks.mrtask import Part, plan_tree
from tests.avg_tasks import made_net
from tests.cloudfixture import start_cloud

MODELS = {"trial 784-200-200-200-10": (784, 200, 200, 200, 10),
          "large 784-1024-1024-1024-10": (784, 1024, 1024, 1024, 10)}
FANIN = 2  # the nodes' --mr-fanin default
BANDWIDTH = 10e9 / 8  # bytes/s: 10 Gbit/s
LATENCY = 100e-6  # s per message on a switched 10 GbE LAN (gRPC's own overhead is in the measured hop)
MNIST_ROWS = 60_000  # the booklet's MNIST training set (section 3.6 ran it on 4 nodes)


def depth(n: int, fanin: int) -> int:
    """Levels of the reduce tree below the driver when n nodes map (the driver maps its own): the
    depth of mrtask.plan_tree over the other n-1 nodes (checked against it in main)."""
    m, d = n - 1, 0
    if fanin <= 0:
        return 1 if m else 0
    while m > 0:  # each level: the largest of `fanin` groups keeps its root, the rest go below
        m, d = -(-m // fanin) - 1, d + 1
    return d


def plan_depth(n: int, fanin: int) -> int:
    def d(vs):
        return 1 + max(d(v.children) for v in vs) if vs else 0

    return d(plan_tree([Part(str(i), str(i), []) for i in range(n - 1)], fanin))


def model_bytes(layers: tuple[int, ...]) -> int:
    return 3 * made_net(layers, 0).weights.nbytes


def measure(n: int, repeats: int, fanins: list[int]) -> dict[tuple[str, int], float]:
    """Best seconds of one averaging step on n local daemons, per (model, fan-in)."""
    out = {}
    with start_cloud(n, args=["--nthreads", "1", "--preload", "tests.avg_tasks", "--heartbeat-timeout", "30"]) as cloud:
        driver = cloud.nodes[0]
        ids = [node.status()["node_id"] for node in cloud.nodes]
        for name, layers in MODELS.items():
            net = made_net(layers, 0)
            down = [net.weights, net.opt1, net.opt2]  # the model the driver sends with the task
            args = {"task": "test.model_average", "args": {"layers": list(layers)},
                    "node_args": {nid: {"seed": i, "n": 1000 + i} for i, nid in enumerate(ids)}}
            for fanin in fanins:
                times = []
                for r in range(repeats + 1):  # the first warms the connections and each node's model
                    head, _ = cloud.peer_call(driver, "mr.run", {**args, "fanin": fanin}, down, timeout=600)
                    if len(head["partial"]["nodes"]) != n:
                        raise RuntimeError(f"{n} nodes: only {head['partial']['nodes']} answered")
                    if r:
                        times.append(head["seconds"])
                # The fastest run: the others are slowed by whatever else this shared machine runs.
                out[(name, fanin)] = min(times)
                print(f"  {n} nodes, {name}, {f'tree fan-in {fanin}' if fanin else 'flat'}: "
                      f"best {min(times) * 1e3:.1f} ms, median {statistics.median(times) * 1e3:.1f} ms "
                      f"of {repeats} ({', '.join(f'{t * 1e3:.0f}' for t in times)})", flush=True)
    return out


def predicted_comm(n: int, fanin: int, hop: float, size: int) -> float:
    """Seconds of one averaging step on n nodes of a 10 Gbit/s network, each node on its own
    cores: every level of the tree costs its inner node `fanin` hops of this machine's CPU cost
    (serializing the model to each child, deserializing and averaging each child's) plus the
    wire time of 2 x fanin models through its link and the latency down and up; flat, the
    driver does that for all n-1 nodes."""
    if n <= 1:
        return 0.0
    if fanin:
        return depth(n, fanin) * fanin * (hop + 2 * size / BANDWIDTH) + depth(n, fanin) * 2 * LATENCY
    return (n - 1) * (hop + 2 * size / BANDWIDTH) + 2 * LATENCY


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x; (a, b, the largest relative residual)."""
    b, a = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    resid = max(abs(a + b * x - y) / y for x, y in zip(xs, ys))
    return float(a), float(b), float(resid)


def trial_speed() -> float:
    """Samples/s of the booklet's MNIST trial run through the client on one local node (this
    machine's cores; the better of two 1-epoch runs after a warm-up that compiles the kernels)."""
    from _common import mnist_frames

    import h2ocloud as h2o
    from h2ocloud.demo import PIXELS, TRIAL_RUN

    with start_cloud(1) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        h2o.no_progress()
        train, _ = mnist_frames(h2o)
        h2o.H2ODeepLearningEstimator(**TRIAL_RUN, epochs=0.05, seed=1).train(x=PIXELS, y="label", training_frame=train)
        best = 0.0
        for seed in (1, 2):
            t = time.perf_counter()
            m = h2o.H2ODeepLearningEstimator(**TRIAL_RUN, epochs=1, seed=seed)
            m.train(x=PIXELS, y="label", training_frame=train)
            best = max(best, m.samples_trained / (time.perf_counter() - t))
        return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", default="2,4,8")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--flat", action="store_true", help="also time the flat reduce (every node answers the driver)")
    ap.add_argument("--samples-per-second", type=float, default=0.0,
                    help="one node's trial-run speed (default: measure it on one local node)")
    ns = ap.parse_args()
    # The daemons import tests.avg_tasks (--preload) from this checkout, wherever this runs from.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_common.ROOT), os.environ.get("PYTHONPATH")]))
    nodes = [int(x) for x in ns.nodes.split(",")]
    fanins = [FANIN, 0] if ns.flat else [FANIN]
    assert all(depth(n, f) == plan_depth(n, f) for n in range(1, 130) for f in (0, 1, 2, 3))
    t0 = time.perf_counter()
    speed = ns.samples_per_second or trial_speed()
    print(f"trial run on one node: {speed:,.0f} samples/s", flush=True)
    got: dict[int, dict[tuple[str, int], float]] = {}
    for n in nodes:
        got[n] = measure(n, ns.repeats, fanins)
    print(f"measured in {time.perf_counter() - t0:.0f} s\n")

    print("fits of the best step time here (depth = levels of the fan-in-2 tree below the driver, "
          + ", ".join(f"{n} nodes: {depth(n, FANIN)}" for n in nodes) + "; 8 daemons share 2 cores):")
    for name, layers in MODELS.items():
        for fanin in fanins:
            x = [depth(n, fanin) if fanin else n - 1 for n in nodes]
            a, b, resid = fit(x, [got[n][(name, fanin)] for n in nodes])
            form = "depth" if fanin else "(n-1)"
            print(f"  {name} ({model_bytes(layers) / 1e6:.1f} MB a model), {'tree' if fanin else 'flat'}: "
                  f"t = {a * 1e3:.1f} ms + {b * 1e3:.1f} ms * {form} (worst residual {resid * 100:.0f}%)")
    hops = {name: got[min(nodes)][(name, FANIN)] for name in MODELS}
    print()
    print(f"Prediction for a {BANDWIDTH * 8 / 1e9:.0f} Gbit/s network of nodes with their own cores. Assumptions:")
    print(f"- one hop's CPU cost is the {min(nodes)}-node step measured here (the model down to one node, its model")
    print("  back, one average; gRPC framing and copies over loopback): "
          + ", ".join(f"{h * 1e3:.0f} ms ({name.split()[0]})" for name, h in hops.items()) + ";")
    print(f"- a tree level costs its inner node F={FANIN} hops plus 2F models through its link (bytes / bandwidth) plus")
    print(f"  {LATENCY * 1e6:.0f} us latency down and up; depth(n) levels (16: {depth(16, FANIN)}, 32: {depth(32, FANIN)}, "
          f"64: {depth(64, FANIN)}); flat: the driver does n-1 hops;")
    print(f"- compute per iteration: the booklet's MNIST ({MNIST_ROWS:,} rows), train_samples_per_iteration's default -1,")
    print(f"  each node as fast as this machine's trial run ({speed:,.0f} samples/s): with replicate_training_data (the")
    print(f"  default) every node trains every row, {MNIST_ROWS / speed:.2f} s at any cloud size; without it the rows are")
    print("  split over the nodes, rows / (n x speed).\n")
    print("| model | reduce | nodes | averaging step | iteration, replicated data | comm | iteration, rows split | comm |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    dominate = {}
    for name, layers in MODELS.items():
        size = model_bytes(layers)
        for fanin in fanins:
            def comm(n: int, fanin=fanin, hop=hops[name], size=size) -> float:
                return predicted_comm(n, fanin, hop, size)

            for n in (16, 32, 64):
                c = comm(n)
                rep, split = MNIST_ROWS / speed, MNIST_ROWS / (n * speed)
                print(f"| {name} | {'tree' if fanin else 'flat'} | {n} | {c * 1e3:.0f} ms | {(rep + c) * 1e3:.0f} ms | "
                      f"{c / (rep + c) * 100:.1f}% | {(split + c) * 1e3:.0f} ms | {c / (split + c) * 100:.1f}% |")
            rep_from = next((n for n in range(2, 1_000_001) if comm(n) > MNIST_ROWS / speed), None)
            split_from = next((n for n in range(2, 1_000_001) if comm(n) > MNIST_ROWS / (n * speed)), None)
            dominate[(name, fanin)] = (rep_from, split_from)
    print()
    for (name, fanin), (rep_from, split_from) in dominate.items():
        print(f"{name}, {'tree' if fanin else 'flat'}: communication exceeds compute from "
              f"{f'{rep_from:,}' if rep_from else 'over 1,000,000'} nodes with replicated data, "
              f"from {f'{split_from:,}' if split_from else 'over 1,000,000'} with the rows split")


if __name__ == "__main__":
    main()
