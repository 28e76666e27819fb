"""Cross-validation folds: which fold each training row is held out in.

A row's fold depends only on its global row number in the training frame (and the seed), so
every node can work out the folds of the chunks it holds without seeing the others, and the
driver's full copy agrees with them:

* ``Modulo``: row % nfolds (H2O's Modulo);
* ``Random`` (and ``AUTO``): a splitmix64 hash of (seed, row) mod nfolds -- H2O's Random
  assignment is a seeded draw per row too, so folds come out about equal in size and
  independent of the row order.
"""

from __future__ import annotations

import numpy as np

from h2ocloud.dl.seeds import sub_seed

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z + _C1
    z = (z ^ (z >> np.uint64(30))) * _C2
    z = (z ^ (z >> np.uint64(27))) * _C3
    return z ^ (z >> np.uint64(31))


def fold_ids(rows: np.ndarray, nfolds: int, assignment: str, seed: int) -> np.ndarray:
    """The fold (0..nfolds-1) of each global row number in ``rows``."""
    if nfolds < 2:
        raise ValueError(f"nfolds must be >= 2, got {nfolds}")
    r = np.asarray(rows, dtype=np.uint64)
    if assignment == "Modulo":
        return (r % np.uint64(nfolds)).astype(np.int32)
    if assignment not in ("AUTO", "Random"):
        raise ValueError(f"fold_assignment must be AUTO, Random or Modulo, got {assignment!r}")
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as the hash intends
        h = _splitmix64(r ^ np.uint64(sub_seed(seed, 31_337)))
    return (h % np.uint64(nfolds)).astype(np.int32)
