"""Scoring's block matrix path gives the per-row kernel's outputs (up to float rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from h2ocloud.kernel import Net, NetSpec, core, forward, hidden_layer
from h2ocloud.kernel.layout import Scratch, build_meta, dropout_vector
from h2ocloud.kernel.score import BLOCK_ROWS


def per_row(net: Net, X: np.ndarray, layer: int) -> np.ndarray:
    spec = net.spec
    out = np.empty((X.shape[0], spec.layer_sizes[layer + 1]), np.float32)
    s = Scratch.for_spec(spec)
    core.score_rows(net.weights, build_meta(spec), dropout_vector(spec), X, 0, X.shape[0],
                    layer, out, s.x0, s.acts, s.keep, s.udraw, s.argmax, s.maxnorm,
                    np.ones(1, np.uint64))
    return out


@pytest.mark.parametrize("spec", [
    NetSpec(n_inputs=9, hidden=(12, 7), n_outputs=4, activation="Rectifier",
            hidden_dropout_ratios=(0.5, 0.2)),
    NetSpec(n_inputs=9, hidden=(12,), n_outputs=3, activation="Tanh"),
    NetSpec(n_inputs=9, hidden=(6, 4, 6), n_outputs=9, activation="Tanh", output="autoencoder",
            loss="MeanSquare"),
    NetSpec(n_inputs=9, hidden=(10,), n_outputs=1, activation="Rectifier", output="linear",
            loss="MeanSquare"),
])
def test_matrix_path_matches_the_per_row_kernel(spec: NetSpec) -> None:
    net = Net.initialize(spec, seed=3)
    X = np.random.default_rng(1).standard_normal((BLOCK_ROWS + 37, 9)).astype(np.float32)
    for nthreads in (1, 2):
        np.testing.assert_allclose(forward(net, X, nthreads=nthreads),
                                   per_row(net, X, spec.n_layers - 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hidden_layer(net, X, 0, nthreads=1), per_row(net, X, 0),
                               rtol=1e-5, atol=1e-6)
