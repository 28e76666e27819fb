"""Numba deep-learning kernel: H2O-style per-sample SGD, on several threads as a team (each
sample trained by all of them, a share of every layer each) or Hogwild (maxout nets).

Public API::

    NetSpec, TrainConfig        architecture and optimizer options (JSON-able)
    Net                         flat float32 weights + optimizer state
    train_hogwild(net, X, y, rows, cfg, nthreads, seed) -> int
    forward(net, X, nthreads) -> (n_rows, n_outputs)
    hidden_layer(net, X, layer) -> (n_rows, hidden[layer])
    layer_stats(net) -> list[dict]
    work_counters(spec)         per-layer work tallies for train_hogwild(counts=...)
"""

from .net import Net, layer_stats
from .score import forward, hidden_layer
from .spec import NetSpec, TrainConfig
from .train import sample_gradient, train_hogwild, work_counters

__all__ = [
    "NetSpec",
    "Net",
    "TrainConfig",
    "train_hogwild",
    "forward",
    "hidden_layer",
    "layer_stats",
    "sample_gradient",
    "work_counters",
]
