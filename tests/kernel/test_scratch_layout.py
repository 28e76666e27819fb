"""Scratch buffers: each array on cache lines of its own, with its fill value."""

from __future__ import annotations

import numpy as np

from h2ocloud.kernel import NetSpec
from h2ocloud.kernel.layout import CACHE_LINE, Scratch, lines_apart


def test_arrays_carved_from_one_allocation_share_no_cache_line():
    arrs = lines_apart({"a": (3, np.float32, 0), "b": (17, np.uint8, 1), "c": (5, np.int64, -1),
                        "d": (0, np.float32, 0), "e": (33, np.float32, 2.5)})
    assert [a.dtype for a in arrs.values()] == [np.float32, np.uint8, np.int64, np.float32, np.float32]
    assert [a.size for a in arrs.values()] == [3, 17, 5, 0, 33]
    assert (arrs["a"] == 0).all() and (arrs["b"] == 1).all() and (arrs["c"] == -1).all()
    assert (arrs["e"] == 2.5).all()
    spans = sorted((a.ctypes.data, a.ctypes.data + a.nbytes) for a in arrs.values() if a.size)
    for lo, _ in spans:
        assert lo % CACHE_LINE == 0
    for (_, end), (nxt, _) in zip(spans, spans[1:]):
        last_line = (end - 1) // CACHE_LINE
        assert nxt // CACHE_LINE >= last_line + 2  # a spare line between two arrays


def test_a_scratch_has_its_fills_and_separate_lines():
    spec = NetSpec(n_inputs=210, hidden=(50, 20, 50), n_outputs=210, activation="Tanh",
                   output="autoencoder", loss="MeanSquare")
    s = Scratch.for_spec(spec)
    assert (s.keep == 1).all() and (s.argmax == -1).all() and (s.maxnorm == 1).all()
    assert not s.acts.any() and not s.errs.any() and not s.g2blk.any()
    lines = [set(range(a.ctypes.data // CACHE_LINE, (a.ctypes.data + a.nbytes - 1) // CACHE_LINE + 1))
             for a in vars(s).values()]
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            assert not a & b
