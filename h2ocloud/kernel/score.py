"""Scoring: forward passes without dropout (hidden activations scaled by 1 - p)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import core
from .layout import Scratch, build_meta, dropout_vector
from .net import Net


def _layer_outputs(net: Net, X: np.ndarray, layer: int, nthreads: int) -> np.ndarray:
    spec = net.spec
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        raise ValueError(f"X must be (n_rows, {spec.n_inputs})")
    X = np.ascontiguousarray(X, dtype=np.float32)
    meta, drop = build_meta(spec), dropout_vector(spec)
    n = X.shape[0]
    out = np.empty((n, spec.layer_sizes[layer + 1]), dtype=np.float32)
    if n == 0:
        return out

    def run(lo: int, hi: int) -> None:
        s = Scratch.for_spec(spec)
        rng = np.ones(1, dtype=np.uint64)  # unused: scoring draws no randomness
        core.score_rows(net.weights, meta, drop, X, lo, hi, layer, out, s.x0, s.acts,
                        s.keep, s.udraw, s.argmax, s.maxnorm, rng)

    nthreads = max(1, min(int(nthreads), n))
    bounds = np.linspace(0, n, nthreads + 1).astype(np.int64)
    if nthreads == 1:
        run(0, n)
    else:
        with ThreadPoolExecutor(max_workers=nthreads) as pool:
            for f in [pool.submit(run, int(bounds[t]), int(bounds[t + 1]))
                      for t in range(nthreads)]:
                f.result()
    return out


def forward(net: Net, X: np.ndarray, nthreads: int = 2) -> np.ndarray:
    """Network outputs, float32 (n_rows, n_outputs): class probabilities (softmax), the
    standardized regression value (linear) or the reconstruction (autoencoder)."""
    return _layer_outputs(net, X, net.spec.n_layers - 1, nthreads)


def hidden_layer(net: Net, X: np.ndarray, layer: int = 0, nthreads: int = 2) -> np.ndarray:
    """Activations of hidden layer ``layer`` (0-based), float32 (n_rows, hidden[layer]),
    in scoring mode (scaled by 1 - that layer's dropout ratio)."""
    if not 0 <= layer < len(net.spec.hidden):
        raise IndexError(f"hidden layer {layer} out of range")
    return _layer_outputs(net, X, layer, nthreads)
