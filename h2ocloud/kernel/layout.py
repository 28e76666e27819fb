"""Where each layer lives in the flat parameter vector and in the per-thread scratch buffers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import core
from .spec import NetSpec

_HIDDEN_KIND = {"Tanh": core.ACT_TANH, "Rectifier": core.ACT_RECT, "Maxout": core.ACT_MAXOUT}


def layer_kinds(spec: NetSpec) -> list[int]:
    """Kernel activation code of every weight layer (hidden layers, then the output layer)."""
    hid = _HIDDEN_KIND[spec.activation]
    if spec.output == "softmax":
        out = core.ACT_SOFTMAX
    elif spec.output == "linear":
        out = core.ACT_LINEAR
    else:
        out = hid  # the autoencoder's output layer uses the hidden activation
    return [hid] * len(spec.hidden) + [out]


def param_offsets(spec: NetSpec) -> tuple[list[int], list[int], int]:
    """(W offsets, b offsets, total length): layer l is W_l (n_{l+1} x n_l) then b_l."""
    sizes = spec.layer_sizes
    w_off, b_off, pos = [], [], 0
    for l in range(spec.n_layers):
        w_off.append(pos)
        pos += sizes[l] * sizes[l + 1]
        b_off.append(pos)
        pos += sizes[l + 1]
    return w_off, b_off, pos


def build_meta(spec: NetSpec) -> np.ndarray:
    """The int64 table (rows core.M_*, one column per weight layer) the kernels read."""
    sizes = spec.layer_sizes
    nl = spec.n_layers
    w_off, b_off, _ = param_offsets(spec)
    meta = np.zeros((6, nl), dtype=np.int64)
    kinds = layer_kinds(spec)
    a_pos = 0
    for l in range(nl):
        meta[core.M_NIN, l] = sizes[l]
        meta[core.M_NOUT, l] = sizes[l + 1]
        meta[core.M_WOFF, l] = w_off[l]
        meta[core.M_BOFF, l] = b_off[l]
        meta[core.M_AOFF, l] = a_pos
        meta[core.M_KIND, l] = kinds[l]
        a_pos += sizes[l + 1]
    return meta


def dropout_vector(spec: NetSpec) -> np.ndarray:
    """float32 dropout ratio per weight layer's outputs (the output layer never drops)."""
    return np.array([*spec.hidden_dropout_ratios, 0.0], dtype=np.float32)


@dataclass
class Scratch:
    """Per-thread work buffers, allocated once per call so the sample loop never allocates."""

    x0: np.ndarray  # float32: the current row after input dropout
    acts: np.ndarray  # float32: outputs of every layer (meta row M_AOFF)
    errs: np.ndarray  # float32: dE/da of every layer
    keep: np.ndarray  # uint8: dropout mask, same layout as acts
    udraw: np.ndarray  # float32: one uniform draw per hidden unit index, shared by the layers
    argmax: np.ndarray  # int64: maxout's winning input per unit, then one slot per layer
    maxnorm: np.ndarray  # float32: maxout's layer normaliser per layer
    g2blk: np.ndarray  # float32: core.BLOCK rows of one layer's grad^2 (widest input)
    blkg: np.ndarray  # float32: the block's unit gradients, then their grad^2 sums
    blkj: np.ndarray  # int64: the block's unit indices

    @classmethod
    def for_spec(cls, spec: NetSpec) -> Scratch:
        sizes = spec.layer_sizes
        n_act = sum(sizes[1:])
        nl = spec.n_layers
        return cls(
            x0=np.zeros(spec.n_inputs, dtype=np.float32),
            acts=np.zeros(n_act, dtype=np.float32),
            errs=np.zeros(n_act, dtype=np.float32),
            keep=np.ones(n_act, dtype=np.uint8),
            udraw=np.zeros(max(sizes[1:]), dtype=np.float32),
            argmax=np.full(n_act + nl, -1, dtype=np.int64),
            maxnorm=np.ones(nl, dtype=np.float32),
            g2blk=np.zeros(core.BLOCK * max(sizes[:-1]), dtype=np.float32),
            blkg=np.zeros(2 * core.BLOCK, dtype=np.float32),
            blkj=np.zeros(core.BLOCK, dtype=np.int64),
        )
