"""Benchmark: the booklet's MNIST trial run trained directly with the kernel.

Inputs: pixels with constant columns dropped, standardized with the training mean/sigma.
Model: Rectifier with dropout, hidden (200, 200, 200), hidden dropout 0.5, input dropout 0.2,
l1 1e-5, ADADELTA; 10 epochs over the 10,000 training rows, reshuffled every epoch.

    python bench/kernel_mnist.py [--threads 2] [--epochs 10] [--seed 1] [--score-each-epoch]

Prints training samples/s, wall time and the test classification error. With
``--score-each-epoch`` it also scores the test set after every epoch (outside the timed
training) and prints the lowest of those errors: what H2O reports for the booklet's run,
which passes the test set as the validation frame and keeps the best-scoring model
(``override_with_best_model``, default true in H2O-2 and H2O-3).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from h2ocloud.kernel import Net, NetSpec, TrainConfig, forward, train_hogwild

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test), standardized with the training statistics."""
    train = pd.read_csv(DATA / "mnist_train_10k.csv.gz", header=None).to_numpy(np.float64)
    test = pd.read_csv(DATA / "mnist_test.csv.gz", header=None).to_numpy(np.float64)
    ytr, xtr = train[:, 0], train[:, 1:]  # label FIRST in the training file
    yte, xte = test[:, -1], test[:, :-1]  # label LAST in the test file
    mean, sigma = xtr.mean(axis=0), xtr.std(axis=0, ddof=1)
    keep = sigma > 0  # ignore_const_cols
    xtr = (xtr[:, keep] - mean[keep]) / sigma[keep]
    xte = (xte[:, keep] - mean[keep]) / sigma[keep]
    return (np.ascontiguousarray(xtr, np.float32), ytr.astype(np.float32),
            np.ascontiguousarray(xte, np.float32), yte.astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rho", type=float, default=0.99)
    ap.add_argument("--epsilon", type=float, default=1e-8)
    ap.add_argument("--score-each-epoch", action="store_true",
                    help="score the test set after every epoch and report the best")
    args = ap.parse_args()

    xtr, ytr, xte, yte = load()
    spec = NetSpec(n_inputs=xtr.shape[1], hidden=(200, 200, 200), n_outputs=10,
                   activation="Rectifier", output="softmax", loss="CrossEntropy",
                   hidden_dropout_ratios=(0.5, 0.5, 0.5))
    cfg = TrainConfig(input_dropout_ratio=0.2, l1=1e-5, rho=args.rho, epsilon=args.epsilon)
    net = Net.initialize(spec, seed=args.seed)
    # Warm up (compile or load the cache) on a copy so the timing is training only.
    train_hogwild(net.copy(), xtr, ytr, np.arange(10, dtype=np.int64), cfg, nthreads=1)
    forward(net, xte[:4], nthreads=1)

    rng = np.random.default_rng(args.seed)
    print(f"inputs={xtr.shape[1]} train={xtr.shape[0]} test={xte.shape[0]} "
          f"threads={args.threads}")
    t_train = 0.0
    per_epoch: list[float] = []
    for epoch in range(args.epochs):
        rows = rng.permutation(xtr.shape[0]).astype(np.int64)
        t0 = time.perf_counter()
        train_hogwild(net, xtr, ytr, rows, cfg, nthreads=args.threads, seed=args.seed + epoch)
        t_train += time.perf_counter() - t0
        msg = f"epoch {epoch + 1}: {net.samples_seen / t_train:,.0f} samples/s so far"
        if args.score_each_epoch:
            per_epoch.append(float(np.mean(
                forward(net, xte, nthreads=args.threads).argmax(axis=1) != yte)))
            msg += f", test error {per_epoch[-1]:.4f}"
        print(msg)
    t0 = time.perf_counter()
    pred = forward(net, xte, nthreads=args.threads).argmax(axis=1)
    t_score = time.perf_counter() - t0
    err = float(np.mean(pred != yte))
    train_err = float(np.mean(forward(net, xtr, nthreads=args.threads).argmax(1) != ytr))
    print(f"samples/s: {net.samples_seen / t_train:,.0f}")
    print(f"train wall time: {t_train:.2f} s for {net.samples_seen} samples")
    print(f"scoring 10,000 rows: {t_score:.3f} s")
    print(f"training error: {train_err:.4f}")
    print(f"test error: {err:.4f}")
    if per_epoch:
        best = int(np.argmin(per_epoch))
        print(f"best epoch test error: {per_epoch[best]:.4f} (epoch {best + 1})")


if __name__ == "__main__":
    main()
