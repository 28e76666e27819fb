"""Tanh units compute H2O's formula, 1 - 2 / (1 + exp(2x)) with the exp in double precision cast
to float (H2O-3's Tanh neurons), in training and in the kernel's per-row scoring. The scoring
pass's matrices keep numpy's tanh (see kernel/score.py): it agrees within rounding."""

import math

import numpy as np
from numba import njit

from h2ocloud.kernel import core


@njit(cache=False)
def _kernel_tanh(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = core._tanh(x[i])
    return out


def _h2o(x: np.ndarray) -> np.ndarray:
    """H2O-3: _a = 1f - 2f / (1f + (float)Math.exp(2 * _a)), element by element."""
    out = np.empty_like(x)
    with np.errstate(over="ignore"):  # a double past float range is inf as a float
        for i, v in enumerate(x):
            e = np.float32(math.exp(float(np.float32(2.0) * v))) if v < 200 else np.float32(np.inf)
            out[i] = np.float32(1.0) - np.float32(2.0) / (np.float32(1.0) + e)
    return out


def test_units_compute_h2os_tanh_to_the_bit():
    x = np.concatenate([np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-7, -1e-7, 88.0, 500.0, -500.0, 3e38]])
    x = x.astype(np.float32)
    want = _h2o(x)
    got_kernel = _kernel_tanh(x)
    assert np.array_equal(got_kernel.view(np.uint32), want.view(np.uint32))
    assert got_kernel[-1] == 1.0 and got_kernel[-2] == -1.0  # saturates without overflow
    np.testing.assert_allclose(got_kernel, np.tanh(x.astype(np.float64)), atol=2e-7)
