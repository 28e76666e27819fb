"""Numba kernels for the numeric hot path of a parse: one scan of a column block gives
both what the encoder needs (range, whole-ness, float32 exactness, NAs) and the rollups
(count, mean, M2, zeros), and a cast kernel writes the narrow integer buffers.

A chunk of MNIST is 785 columns x ~1,300 rows; numpy would make a dozen passes (and
temporaries) over it, these make two. ``nogil`` so a parse in a worker thread leaves the
node's event loop alone; ``cache`` so a new process does not compile again.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def scan_block(x):  # pragma: no cover - compiled
    """Per row of a (columns x rows) float64 block: count of non-NaN, min, max, mean, M2,
    zeros, all whole (finite and integral) and all exact in float32."""
    k, n = x.shape
    count = np.zeros(k, np.int64)
    zeros = np.zeros(k, np.int64)
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    mean = np.full(k, np.nan)
    m2 = np.zeros(k)
    whole = np.ones(k, np.bool_)
    f32ok = np.ones(k, np.bool_)
    for j in range(k):
        cnt = 0
        s = 0.0
        mn = np.inf
        mx = -np.inf
        z = 0
        w = True
        for i in range(n):
            v = x[j, i]
            if v != v:
                continue
            cnt += 1
            s += v
            if v < mn:
                mn = v
            if v > mx:
                mx = v
            if v == 0.0:
                z += 1
            if w and v != np.rint(v):
                w = False
        count[j] = cnt
        zeros[j] = z
        if cnt > 0:
            mu = s / cnt
            acc = 0.0
            for i in range(n):
                v = x[j, i]
                if v == v:
                    d = v - mu
                    acc += d * d
            mean[j] = mu
            m2[j] = acc
            lo[j] = mn
            hi[j] = mx
        # infinities are not whole numbers (no integer type holds them)
        w = w and (cnt == 0 or (np.isfinite(mn) and np.isfinite(mx)))
        whole[j] = w
        # float32 exactness matters only for columns that will not be stored as integers
        # (and whole numbers up to 2**24 are exact anyway): a third pass only for those.
        if not w or max(abs(mn), abs(mx)) > 16777216.0:
            for i in range(n):
                v = x[j, i]
                if v == v and np.float64(np.float32(v)) != v:
                    f32ok[j] = False
                    break
    return count, lo, hi, mean, m2, zeros, whole, f32ok


@njit(cache=True, nogil=True)
def cast_rows(x, cols, offsets, sentinel, out):  # pragma: no cover - compiled
    """out[r, i] = x[cols[r], i] - offsets[r], or ``sentinel`` where x is NaN."""
    n = x.shape[1]
    for r in range(cols.size):
        j = cols[r]
        off = offsets[r]
        for i in range(n):
            v = x[j, i]
            if v != v:
                out[r, i] = sentinel
            else:
                out[r, i] = v - off
