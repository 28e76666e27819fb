"""Small seeded one-thread trainings whose exact results were recorded from the kernel before
its speed work, and again when Tanh units took H2O's formula (1 - 2 / (1 + exp(2x)), the
one change since; tests/kernel/data/bitexact_kernel.json): the guard that a faster kernel still
makes H2O's per-sample updates, in the same order, with the same float32 roundings.

Each case covers one path of the kernel (the booklet's MNIST trial-run layers with dense and
sparse inputs, the other activations, optimizers, losses, fast_mode off, max_w2, the sparse
autoencoder, offsets and elastic averaging). The record holds a SHA-256 of each array's bytes
(exact check) plus 128 evenly spaced elements (a tolerance check for other CPUs, whose vector
width changes the order of the forward pass's dot-product sums).

Regenerate only on purpose (it redefines "unchanged"):
    PYTHONPATH=. python tests/kernel/bitexact_cases.py --write
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from h2ocloud.kernel import Net, NetSpec, TrainConfig, train_hogwild
from h2ocloud.kernel.train import activation_buffer

ROOT = Path(__file__).resolve().parents[2]
RECORD = Path(__file__).resolve().parent / "data" / "bitexact_kernel.json"
SAMPLES = 128


def _mnist(n: int) -> np.ndarray:
    """The first ``n`` rows of the packaged MNIST sample, pixels 0..255 (label dropped)."""
    with gzip.open(ROOT / "h2ocloud" / "data" / "mnist_train_2500.csv.gz", "rt") as fh:
        rows = [next(fh) for _ in range(n)]
    return np.array([[float(v) for v in r.split(",")] for r in rows], dtype=np.float64)


def _data() -> dict[str, np.ndarray]:
    raw = _mnist(300)
    y = raw[:, 0].astype(np.float32)
    px = raw[:, 1:]
    sigma = px.std(axis=0)
    keep = sigma > 0
    std = (px[:, keep] - px[:, keep].mean(axis=0)) / sigma[keep]
    return {"y": y, "dense": std.astype(np.float32),  # standardized: few zeros
            "sparse": (px / 255.0).astype(np.float32)}  # raw scale: ~80% zeros


Case = Callable[[dict[str, np.ndarray]], tuple[Net, dict[str, np.ndarray]]]


def _train(spec: NetSpec, cfg: TrainConfig, X: np.ndarray, y: np.ndarray, epochs: int = 2,
           seed: int = 3, **kw: object) -> tuple[Net, dict[str, np.ndarray]]:
    net = Net.initialize(spec, seed=seed)
    order = np.random.default_rng(seed)
    for e in range(epochs):
        rows = order.permutation(X.shape[0]).astype(np.int64)
        train_hogwild(net, X, y, rows, cfg, nthreads=1, seed=seed + e, **kw)  # type: ignore[arg-type]
    return net, {}


def _trial(d: dict[str, np.ndarray], x: str, **cfg: float) -> tuple[Net, dict[str, np.ndarray]]:
    X = d[x]
    spec = NetSpec(n_inputs=X.shape[1], hidden=(200, 200, 200), n_outputs=10,
                   hidden_dropout_ratios=(0.5, 0.5, 0.5))
    return _train(spec, TrainConfig(input_dropout_ratio=0.2, l1=1e-5, **cfg), X, d["y"])


def _small(d: dict[str, np.ndarray], activation: str, cfg: TrainConfig, hidden=(37, 23),
           drop=(0.0, 0.0), x: str = "sparse", cols: int = 150) -> tuple[Net, dict[str, np.ndarray]]:
    X = np.ascontiguousarray(d[x][:, 200:200 + cols])
    spec = NetSpec(n_inputs=cols, hidden=hidden, n_outputs=10, activation=activation,
                   hidden_dropout_ratios=drop)
    return _train(spec, cfg, X, d["y"])


def _autoencoder(d: dict[str, np.ndarray]) -> tuple[Net, dict[str, np.ndarray]]:
    X = np.ascontiguousarray(d["sparse"][:, 300:361])
    spec = NetSpec(n_inputs=61, hidden=(19,), n_outputs=61, activation="Tanh",
                   output="autoencoder", loss="MeanSquare")
    avg = activation_buffer(spec)
    net, _ = _train(spec, TrainConfig(sparsity_beta=0.1, average_activation=-0.2), X, d["y"],
                    avg_act=avg)
    return net, {"avg_act": avg}


def _regression(d: dict[str, np.ndarray]) -> tuple[Net, dict[str, np.ndarray]]:
    X = np.ascontiguousarray(d["dense"][:, 100:170])
    spec = NetSpec(n_inputs=70, hidden=(33, 17), n_outputs=1, output="linear", loss="Poisson")
    offs = (np.arange(X.shape[0]) % 7 / 10.0).astype(np.float32)
    return _train(spec, TrainConfig(l2=1e-4), X, (d["y"] / 3).astype(np.float32), offsets=offs)


def _elastic(d: dict[str, np.ndarray]) -> tuple[Net, dict[str, np.ndarray]]:
    X = np.ascontiguousarray(d["dense"][:, :90])
    spec = NetSpec(n_inputs=90, hidden=(41,), n_outputs=10, hidden_dropout_ratios=(0.3,))
    centre = Net.initialize(spec, seed=99).weights
    return _train(spec, TrainConfig(input_dropout_ratio=0.1), X, d["y"], elastic=centre,
                  elastic_reg=1e-3)


PLAIN = dict(adaptive_rate=False, rate=0.01, rate_annealing=1e-4, momentum_start=0.0,
             momentum_stable=0.0)

CASES: dict[str, Case] = {
    "trial_dense_h2o3": lambda d: _trial(d, "dense"),
    "trial_dense_booklet": lambda d: _trial(d, "dense", rho=0.95, epsilon=1e-6),
    "trial_sparse_h2o3": lambda d: _trial(d, "sparse"),
    "trial_dense_no_fast_mode": lambda d: _trial(d, "dense", fast_mode=False),
    "tanh_l2_maxw2": lambda d: _small(d, "Tanh", TrainConfig(l2=1e-4, max_w2=2.0), drop=(0.2, 0.1)),
    "rect_dense_no_fast_mode": lambda d: _small(
        d, "Rectifier", TrainConfig(fast_mode=False, l1=1e-4, input_dropout_ratio=0.1), x="dense"),
    "maxout": lambda d: _small(d, "Maxout", TrainConfig(l1=1e-5), drop=(0.5, 0.5)),
    "nesterov": lambda d: _small(d, "Rectifier", TrainConfig(
        **{**PLAIN, "momentum_start": 0.5, "momentum_stable": 0.9, "momentum_ramp": 200},
        l1=1e-5, l2=1e-5), x="dense"),
    "momentum": lambda d: _small(d, "Tanh", TrainConfig(
        **{**PLAIN, "momentum_start": 0.5, "momentum_stable": 0.9, "momentum_ramp": 200},
        nesterov_accelerated_gradient=False)),
    "plain_shortcut": lambda d: _small(d, "Rectifier", TrainConfig(**PLAIN), drop=(0.5, 0.0)),
    "autoencoder_sparse_beta": _autoencoder,
    "poisson_offsets": _regression,
    "elastic": _elastic,
}


def sample_index(n: int) -> np.ndarray:
    """The elements of an n-long array the record keeps for the tolerance check."""
    return np.unique(np.linspace(0, n - 1, SAMPLES).astype(np.int64))


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def run_case(name: str, data: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The arrays case ``name`` ends with (weights, opt1, opt2, and any extra state)."""
    net, extra = CASES[name](data if data is not None else _data())
    return {"weights": net.weights, "opt1": net.opt1, "opt2": net.opt2, **extra}


def host_cpu() -> str:
    """The CPU LLVM compiles the kernel for (vector width decides the dot products' order)."""
    import llvmlite.binding as llvm
    return str(llvm.get_host_cpu_name())


def write_record() -> None:
    data = _data()
    out: dict[str, object] = {"host_cpu": host_cpu(), "cases": {}}
    for name in CASES:
        arrays = run_case(name, data)
        out["cases"][name] = {  # type: ignore[index]
            k: {"sha256": _digest(v), "sample": [str(e) for e in v[sample_index(v.size)]]}
            for k, v in arrays.items()}
        print(name, {k: _digest(v)[:12] for k, v in arrays.items()})
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_record()
    else:
        sys.exit(__doc__)
