"""Benchmark: the booklet's MNIST trial run trained directly with the kernel.

Inputs: pixels with constant columns dropped, standardized with the training mean/sigma.
Model: Rectifier with dropout, hidden (200, 200, 200), hidden dropout 0.5, input dropout 0.2,
l1 1e-5, ADADELTA (rho/epsilon from the flags: H2O-3's defaults 0.99/1e-8); 10 epochs over the
10,000 training rows, reshuffled every epoch.

    python bench/kernel_mnist.py --threads 1 --seed 2 [--rho 0.99 --epsilon 1e-8]
        [--epochs 10] [--repeats 1] [--score-each-epoch] [--counters]

Prints training samples/s (the median over ``--repeats`` runs from the same start), samples
per CPU second (the process's CPU time while training: steadier than wall time when other
programs load the machine), wall time and the test classification error. With ``--threads``
above 1 it also prints the thread tuner's measured speed of each thread count (it
trains each round on the faster one; ``--threads 1`` never consults it). With ``--counters``
it then retrains in the kernel's counting mode (not timed), with the flags' rho/epsilon and
with the other of the two settings (H2O-3's 0.99 / 1e-8, the booklet's 0.95 / 1e-6), and
prints for each, per layer and per sample, where the work goes: units kept by dropout, units
skipped whole with a zero gradient (dead rectifiers), units updated, and weights walked /
updated by the ADADELTA loop; then the two side by side, which shows why one setting trains
faster (the kernel's time per sample follows the weights walked).
With ``--score-each-epoch`` it also scores the test set after every epoch (outside the timed
training) and prints the lowest of those errors: what H2O reports for the booklet's run,
which passes the test set as the validation frame and keeps the best-scoring model
(``override_with_best_model``, default true in H2O-2 and H2O-3).

Without the shared data folder (../shared/data) it falls back to the package's 2,500-row
MNIST sample (h2ocloud/data/mnist_train_2500.csv.gz, label first) and its 1,000-row test set.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from h2ocloud.kernel import (  # noqa: E402
    Net,
    NetSpec,
    TrainConfig,
    core,  # noqa: E402
    forward,
    train_hogwild,
    work_counters,
)
from h2ocloud.kernel.threads import tuner_for  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PACKAGED = ROOT / "h2ocloud" / "data"


def _files() -> tuple[Path, Path, bool]:
    """(train file, test file, whether the test file has its label last)."""
    if (DATA / "mnist_train_10k.csv.gz").exists():
        return DATA / "mnist_train_10k.csv.gz", DATA / "mnist_test.csv.gz", True
    print(f"note: {DATA} absent, using the packaged 2,500-row sample")
    return PACKAGED / "mnist_train_2500.csv.gz", PACKAGED / "mnist_test_1000.csv.gz", False


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test), standardized with the training statistics."""
    ftrain, ftest, test_label_last = _files()
    train = pd.read_csv(ftrain, header=None).to_numpy(np.float64)
    test = pd.read_csv(ftest, header=None).to_numpy(np.float64)
    ytr, xtr = train[:, 0], train[:, 1:]  # label FIRST in the training file
    if test_label_last:
        yte, xte = test[:, -1], test[:, :-1]
    else:
        yte, xte = test[:, 0], test[:, 1:]
    mean, sigma = xtr.mean(axis=0), xtr.std(axis=0, ddof=1)
    keep = sigma > 0  # ignore_const_cols
    xtr = (xtr[:, keep] - mean[keep]) / sigma[keep]
    xte = (xte[:, keep] - mean[keep]) / sigma[keep]
    return (np.ascontiguousarray(xtr, np.float32), ytr.astype(np.float32),
            np.ascontiguousarray(xte, np.float32), yte.astype(np.float32))


def train_run(spec: NetSpec, cfg: TrainConfig, xtr: np.ndarray, ytr: np.ndarray,
              args: argparse.Namespace, counts: np.ndarray | None = None,
              on_epoch=None) -> tuple[Net, float, float]:
    """One training run from the seed's initial model; returns (net, training wall seconds,
    training CPU seconds of the whole process: every training thread's, the load of the other
    programs on the machine excluded)."""
    net = Net.initialize(spec, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    t_train = cpu_train = 0.0
    for epoch in range(args.epochs):
        rows = rng.permutation(xtr.shape[0]).astype(np.int64)
        c0 = time.process_time()
        t0 = time.perf_counter()
        train_hogwild(net, xtr, ytr, rows, cfg, nthreads=args.threads, seed=args.seed + epoch,
                      counts=counts)
        t_train += time.perf_counter() - t0
        cpu_train += time.process_time() - c0
        if on_epoch:
            on_epoch(epoch, net, t_train)
    return net, t_train, cpu_train


def print_counters(counts: np.ndarray, samples: int) -> None:
    """Per layer, per sample: where the kernel's work went."""
    c = counts / float(samples)
    print(f"work per sample (counting mode, {samples} samples):")
    print(f"  {'layer':>5} {'units':>6} {'kept':>7} {'zero-grad':>9} {'skipped':>8} "
          f"{'updated':>8} {'in!=0':>7} {'w walked':>10} {'w updated':>10}")
    for l in range(c.shape[0]):
        print(f"  {l:>5} {c[l, core.C_UNITS]:>6.0f} {c[l, core.C_KEPT]:>7.1f} "
              f"{c[l, core.C_ZERO_GRAD]:>9.1f} {c[l, core.C_SKIPPED]:>8.1f} "
              f"{c[l, core.C_UPDATED]:>8.1f} {c[l, core.C_IN_NONZERO]:>7.1f} "
              f"{c[l, core.C_W_VISITED]:>10,.0f} {c[l, core.C_W_UPDATED]:>10,.0f}")
    tot = c.sum(axis=0)
    print(f"  total: units skipped with a zero gradient {tot[core.C_SKIPPED]:.1f}, "
          f"weights walked {tot[core.C_W_VISITED]:,.0f}, weights updated "
          f"{tot[core.C_W_UPDATED]:,.0f} per sample")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rho", type=float, default=0.99)
    ap.add_argument("--epsilon", type=float, default=1e-8)
    ap.add_argument("--repeats", type=int, default=1,
                    help="timed runs from the same start; samples/s is their median")
    ap.add_argument("--counters", action="store_true",
                    help="also print the per-layer work per sample (an extra, untimed run)")
    ap.add_argument("--score-each-epoch", action="store_true",
                    help="score the test set after every epoch and report the best")
    args = ap.parse_args()

    xtr, ytr, xte, yte = load()
    spec = NetSpec(n_inputs=xtr.shape[1], hidden=(200, 200, 200), n_outputs=10,
                   activation="Rectifier", output="softmax", loss="CrossEntropy",
                   hidden_dropout_ratios=(0.5, 0.5, 0.5))
    cfg = TrainConfig(input_dropout_ratio=0.2, l1=1e-5, rho=args.rho, epsilon=args.epsilon)
    # Warm up (compile or load the cache) on a copy so the timing is training only.
    warm = Net.initialize(spec, seed=args.seed)
    train_hogwild(warm, xtr, ytr, np.arange(10, dtype=np.int64), cfg, nthreads=1)
    train_hogwild(warm, xtr, ytr, np.arange(10, dtype=np.int64), cfg, nthreads=1,
                  counts=work_counters(spec))
    forward(warm, xte[:4], nthreads=1)

    print(f"inputs={xtr.shape[1]} train={xtr.shape[0]} test={xte.shape[0]} "
          f"threads={args.threads} rho={args.rho} epsilon={args.epsilon} seed={args.seed}")
    per_epoch: list[float] = []

    def report(epoch: int, net: Net, t_train: float) -> None:
        msg = f"epoch {epoch + 1}: {net.samples_seen / t_train:,.0f} samples/s so far"
        if args.score_each_epoch:
            per_epoch.append(float(np.mean(
                forward(net, xte, nthreads=args.threads).argmax(axis=1) != yte)))
            msg += f", test error {per_epoch[-1]:.4f}"
        print(msg)

    rates: list[float] = []
    cpu_rates: list[float] = []
    for rep in range(max(1, args.repeats)):
        net, t_train, cpu_train = train_run(spec, cfg, xtr, ytr, args,
                                            on_epoch=report if rep == 0 else None)
        rates.append(net.samples_seen / t_train)
        cpu_rates.append(net.samples_seen / cpu_train)
        if args.repeats > 1:
            print(f"run {rep + 1}: {rates[-1]:,.0f} samples/s, "
                  f"{cpu_rates[-1]:,.0f} samples per CPU second")
    t0 = time.perf_counter()
    pred = forward(net, xte, nthreads=args.threads).argmax(axis=1)
    t_score = time.perf_counter() - t0
    err = float(np.mean(pred != yte))
    train_err = float(np.mean(forward(net, xtr, nthreads=args.threads).argmax(1) != ytr))
    print(f"samples/s: {statistics.median(rates):,.0f} (median of {len(rates)})")
    # CPU time counts only this process's threads, so it is steadier than wall time on a
    # loaded machine; with several threads it adds theirs up (ideal: threads x wall; a team's
    # threads also count the time they spin at a barrier waiting for each other).
    print(f"samples per CPU second: {statistics.median(cpu_rates):,.0f} "
          f"(process CPU time of training, all threads; median of {len(cpu_rates)})")
    print(f"train wall time: {t_train:.2f} s for {net.samples_seen} samples")
    if args.threads > 1:
        tuner = tuner_for(args.threads, net.weights.size)
        speeds = ", ".join(f"{k} thread{'s' if k > 1 else ''} {v:,.0f} samples/s"
                           for k, v in sorted(tuner.speed.items()))
        print(f"thread tuner (moving averages of timed rounds): {speeds}")
    print(f"scoring {xte.shape[0]:,} rows: {t_score:.3f} s")
    print(f"training error: {train_err:.4f}")
    print(f"test error: {err:.4f}")
    if per_epoch:
        best = int(np.argmin(per_epoch))
        print(f"best epoch test error: {per_epoch[best]:.4f} (epoch {best + 1})")
    if args.counters:
        counts = work_counters(spec)
        cnet, _, _ = train_run(spec, cfg, xtr, ytr, args, counts=counts)
        same = "same" if args.threads == 1 and np.array_equal(cnet.weights, net.weights) else "differs"
        print(f"rho {args.rho} / epsilon {args.epsilon}:")
        print_counters(counts, cnet.samples_seen)
        print(f"counting run's model vs the timed run's: {same}")
        other = (0.95, 1e-6) if (args.rho, args.epsilon) != (0.95, 1e-6) else (0.99, 1e-8)
        ocfg = TrainConfig(input_dropout_ratio=0.2, l1=1e-5, rho=other[0], epsilon=other[1])
        ocounts = work_counters(spec)
        onet, _, _ = train_run(spec, ocfg, xtr, ytr, args, counts=ocounts)
        print(f"rho {other[0]} / epsilon {other[1]}:")
        print_counters(ocounts, onet.samples_seen)
        compare_counters({f"{args.rho}/{args.epsilon}": counts / cnet.samples_seen,
                          f"{other[0]}/{other[1]}": ocounts / onet.samples_seen})


def compare_counters(per_sample: dict[str, np.ndarray]) -> None:
    """The two ADADELTA settings' work per sample side by side."""
    names = list(per_sample)
    rows = [("units skipped (zero gradient)", core.C_SKIPPED),
            ("units updated", core.C_UPDATED),
            ("weights walked", core.C_W_VISITED),
            ("weights updated", core.C_W_UPDATED)]
    print("per sample, all layers (rho/epsilon):")
    print(f"  {'':32}" + "".join(f"{n:>14}" for n in names) + f"{'ratio':>8}")
    for label, col in rows:
        v = [float(per_sample[n][:, col].sum()) for n in names]
        print(f"  {label:32}" + "".join(f"{x:>14,.1f}" for x in v) + f"{v[0] / v[1]:>8.2f}")


if __name__ == "__main__":
    main()
