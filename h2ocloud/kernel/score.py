"""Scoring: forward passes without dropout (hidden activations scaled by 1 - p).

Scoring has no per-row state (no dropout draws, no updates), so a block of rows goes through
a layer as one float32 matrix product (BLAS sgemm, ~10x the per-row kernel's rows/s) and the
activations are applied to the whole block: the same function of each row as the per-row
kernel (core.score_rows), which differs only in the order a dot product is summed (float
rounding). Maxout, whose units take a max over per-input products, keeps the per-row kernel.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import numpy as np

from . import core
from .layout import Scratch, build_meta, dropout_vector, layer_kinds
from .net import Net
from .threads import worker_pool

# Rows per block of the matrix path: the block's activations (rows x widest layer) stay in cache.
BLOCK_ROWS = 1024
_BLAS_LOCK = threading.Lock()
_BLAS: list = []  # the threadpoolctl controller, made on first use
_BLAS_LIMIT: list = []  # the limit in force while passes run (restored by the last one out)
_BLAS_PASSES = [0]  # passes running now


def _controller():
    """The threadpoolctl controller (made on first use; call with _BLAS_LOCK held)."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0]


def hold_blas_to_one_thread() -> None:
    """Keep BLAS at one thread for the rest of the process: for a node, which scores with
    threads of its own. Call it from the main thread: the OpenBLAS numpy ships (0.3.31) ignores a
    thread count set from another thread once its thread pool is up, so _one_blas_thread, entered
    in a node's map threads, left passes on two BLAS threads, which sum in another order: a
    predict's last bits changed from one run to the next. Held from the start, they never did."""
    with _BLAS_LOCK:
        _controller().limit(limits=1, user_api="blas")  # never restored


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS held to one thread while any scoring pass runs (a no-op where it is held already).
    threadpoolctl's limit is process-wide: the first pass in sets it, the last out restores, so
    passes side by side do not restore it under one another. It takes effect only when set from
    the thread that started OpenBLAS's pool (see hold_blas_to_one_thread)."""
    with _BLAS_LOCK:
        if _BLAS_PASSES[0] == 0:
            _BLAS_LIMIT.append(_controller().limit(limits=1, user_api="blas"))
        _BLAS_PASSES[0] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_PASSES[0] -= 1
            if _BLAS_PASSES[0] == 0:
                _BLAS_LIMIT.pop().restore_original_limits()


def _matrix_outputs(net: Net, X: np.ndarray, layer: int, out: np.ndarray) -> None:
    """Layers 0..layer of every row of X as block matrix products, into out."""
    spec = net.spec
    kinds = layer_kinds(spec)
    drop = dropout_vector(spec)
    params = [net.layer(l) for l in range(layer + 1)]
    for lo in range(0, X.shape[0], BLOCK_ROWS):
        a = X[lo:lo + BLOCK_ROWS]
        for l, (W, b) in enumerate(params):
            a = a @ W.T
            a += b
            kind = kinds[l]
            scale = np.float32(1.0 - drop[l])
            if kind == core.ACT_RECT:
                np.maximum(a, 0, out=a)
                if scale != 1:
                    a *= scale
            elif kind == core.ACT_TANH:
                # numpy's tanh, not the units' H2O formula (kernel.core._tanh): its rounding is
                # relative to the output, so a row's prediction moves by no more than BLAS's last
                # bits when it is scored with other rows. H2O's 1 - 2 / (1 + exp(2x)) rounds to
                # steps of 1.0's precision, which turned those bits into 2e-7 in a probability
                # (scikit-learn's subset-invariance check allows 1e-7).
                np.tanh(a, out=a)
                if scale != 1:
                    a *= scale
            elif kind == core.ACT_SOFTMAX:
                a -= a.max(axis=1, keepdims=True)
                np.exp(a, out=a)
                a /= a.sum(axis=1, keepdims=True)
        out[lo:lo + a.shape[0]] = a


def _layer_outputs(net: Net, X: np.ndarray, layer: int, nthreads: int, workers: int | None = None) -> np.ndarray:
    spec = net.spec
    if X.ndim != 2 or X.shape[1] != spec.n_inputs:
        raise ValueError(f"X must be (n_rows, {spec.n_inputs})")
    # Either order is read as it is by the matrix products (DataInfo.transform makes scoring's
    # inputs column-major); the per-row kernel below wants rows.
    X = np.asarray(X, dtype=np.float32)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)
    meta, drop = build_meta(spec), dropout_vector(spec)
    n = X.shape[0]
    out = np.empty((n, spec.layer_sizes[layer + 1]), dtype=np.float32)
    if n == 0:
        return out
    nthreads = max(1, min(int(nthreads), n))
    bounds = np.linspace(0, n, nthreads + 1).astype(np.int64)
    slices = [(int(bounds[t]), int(bounds[t + 1])) for t in range(nthreads)]
    if core.ACT_MAXOUT not in layer_kinds(spec)[:layer + 1]:
        # One BLAS thread per slice of rows, our threads side by side: BLAS's own threads
        # spin-wait, which on a busy machine made two of them slower than one.
        with _one_blas_thread():
            _run_slices([lambda lo=lo, hi=hi: _matrix_outputs(net, X[lo:hi], layer, out[lo:hi])
                         for lo, hi in slices], workers)
        return out

    X = np.ascontiguousarray(X)

    def run(lo: int, hi: int) -> None:
        s = Scratch.for_spec(spec)
        rng = np.ones(1, dtype=np.uint64)  # unused: scoring draws no randomness
        core.score_rows(net.weights, meta, drop, X, lo, hi, layer, out, s.x0, s.acts,
                        s.keep, s.udraw, s.argmax, s.maxnorm, rng)

    _run_slices([lambda lo=lo, hi=hi: run(lo, hi) for lo, hi in slices], workers)
    return out


def _run_slices(passes: list[Callable[[], None]], workers: int | None) -> None:
    """Run the passes over the slices of rows, each on a thread of its own (workers None), or
    on ``workers`` threads: one runs them in turn in this thread, as a caller already running
    one such pass a core wants (a node's map threads), so no threads are made to wait for a core.
    The slices, not the threads, decide the arithmetic: the outputs are the same either way."""
    workers = len(passes) if workers is None else max(1, min(int(workers), len(passes)))
    if workers == 1:
        for p in passes:
            p()
        return
    pool = worker_pool(workers)  # the kernel's persistent threads, as training's
    for f in [pool.submit(p) for p in passes]:
        f.result()


def forward(net: Net, X: np.ndarray, nthreads: int = 2, workers: int | None = None) -> np.ndarray:
    """Network outputs, float32 (n_rows, n_outputs): class probabilities (softmax), the
    standardized regression value (linear) or the reconstruction (autoencoder). The rows go
    in ``nthreads`` slices, on as many threads, or on ``workers`` threads (1: this one)."""
    return _layer_outputs(net, X, net.spec.n_layers - 1, nthreads, workers)


def hidden_layer(net: Net, X: np.ndarray, layer: int = 0, nthreads: int = 2,
                 workers: int | None = None) -> np.ndarray:
    """Activations of hidden layer ``layer`` (0-based), float32 (n_rows, hidden[layer]),
    in scoring mode (scaled by 1 - that layer's dropout ratio); slices and workers as forward's."""
    if not 0 <= layer < len(net.spec.hidden):
        raise IndexError(f"hidden layer {layer} out of range")
    return _layer_outputs(net, X, layer, nthreads, workers)
