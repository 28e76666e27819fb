"""Where each layer lives in the flat parameter vector and in the per-thread scratch buffers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


# Bytes of a cache line on x86-64 and most ARM cores.
CACHE_LINE = 64


def own_lines(n: int, dtype: type | np.dtype, fill: float = 0) -> np.ndarray:
    """A 1-d array of ``n`` elements on cache lines no other array uses (see lines_apart)."""
    return lines_apart({"a": (n, dtype, fill)})["a"]


def lines_apart(arrays: dict[str, tuple[int, Any, float]]) -> dict[str, np.ndarray]:
    """Arrays {name: (n, dtype, fill)}, each starting on a cache-line boundary with a spare line
    after it, carved from one allocation. Hogwild threads write their scratch buffers and random
    states every sample; small numpy arrays made one after the other share lines, and a line
    two cores write in turn moves between them on every write (false sharing). One allocation
    for a thread's ten scratch arrays: ten were 31 us of a 20-row training call's ~800."""
    layout, end = [], 0
    for name, (n, dtype, fill) in arrays.items():
        dt = np.dtype(dtype)
        start = -(-end // CACHE_LINE) * CACHE_LINE
        layout.append((name, start, n, dt, fill))
        end = start + n * dt.itemsize + CACHE_LINE
    raw = np.zeros(end + 2 * CACHE_LINE, dtype=np.uint8)
    base = (-raw.ctypes.data) % CACHE_LINE
    out = {}
    for name, start, n, dt, fill in layout:
        arr = raw[base + start:base + start + n * dt.itemsize].view(dt)
        if fill:
            arr[:] = fill
        out[name] = arr
    return out


@dataclass
class Scratch:
    """Per-thread work buffers, allocated once per call so the sample loop never allocates,
    each on cache lines of its own (see :func:`lines_apart`)."""

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
        return cls(**lines_apart({
            "x0": (spec.n_inputs, np.float32, 0),
            "acts": (n_act, np.float32, 0),
            "errs": (n_act, np.float32, 0),
            "keep": (n_act, np.uint8, 1),
            "udraw": (max(sizes[1:]), np.float32, 0),
            "argmax": (n_act + nl, np.int64, -1),
            "maxnorm": (nl, np.float32, 1),
            "g2blk": (core.BLOCK * max(sizes[:-1]), np.float32, 0),
            "blkg": (2 * core.BLOCK, np.float32, 0),
            "blkj": (core.BLOCK, np.int64, 0),
        }))


def team_ok(spec: NetSpec) -> bool:
    """Whether threads can train this net as a team (core.train_rows): maxout layers normalise
    by their largest unit, which needs every unit of the layer on one thread."""
    return core.ACT_MAXOUT not in layer_kinds(spec)


@dataclass
class TeamBuffers:
    """What the threads of a team share: every thread's activations (a row each, on lines of
    its own), two rows per thread of errors handed down, and the barrier counters."""

    acts: np.ndarray  # float32 (nthreads, n_act rounded up to whole lines)
    pe: np.ndarray  # float32 (2 * nthreads, widest layer input rounded up to whole lines)
    sync: np.ndarray  # int64 (nthreads, core.TEAM_WIDTH): each thread's barrier counter

    @classmethod
    def for_spec(cls, spec: NetSpec, nthreads: int) -> TeamBuffers:
        per_line = CACHE_LINE // 4
        n_act = -(-sum(spec.layer_sizes[1:]) // per_line) * per_line + per_line
        n_in = -(-max(spec.layer_sizes[:-1]) // per_line) * per_line + per_line
        width = core.TEAM_WIDTH
        raw = lines_apart({"acts": (nthreads * n_act, np.float32, 0),
                           "pe": (2 * nthreads * n_in, np.float32, 0),
                           "sync": (nthreads * width, np.int64, 0)})
        return cls(raw["acts"].reshape(nthreads, n_act), raw["pe"].reshape(2 * nthreads, n_in),
                   raw["sync"].reshape(nthreads, width))
