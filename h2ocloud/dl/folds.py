"""Cross-validation folds: which fold each training row is held out in (H2O's fold_assignment).

* ``Modulo``: row % nfolds;
* ``Random`` (and ``AUTO``): a splitmix64 hash of (seed, row number) mod nfolds -- a seeded
  draw per row, as H2O's Random, so folds come out about equal in size;
* ``Stratified``: each class's rows, in a seeded random order, dealt round-robin to the folds,
  so every fold holds the same share of every class (give or take one row);
* ``fold_column``: the folds a column of the training frame names, one per distinct value.

The driver computes the folds of every row once and sends them to the nodes with the job.
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


def stratified_fold_ids(y: np.ndarray, nfolds: int, seed: int) -> np.ndarray:
    """Folds that keep the class proportions: each class dealt round-robin, from a random fold
    and in a random order. Rows with a missing class get Random folds."""
    y = np.asarray(y, dtype=np.float64)
    folds = fold_ids(np.arange(y.size), nfolds, "Random", seed)
    rng = np.random.default_rng(sub_seed(seed, 31_338))
    for c in np.unique(y[~np.isnan(y)]):
        rows = rng.permutation(np.nonzero(y == c)[0])
        folds[rows] = (np.arange(rows.size) + rng.integers(nfolds)) % nfolds
    return folds


def column_fold_ids(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Folds from a fold column: one fold per distinct non-missing value, in sorted order.
    Returns the folds and the values' names; a missing value is an error."""
    v = np.asarray(values)
    if v.dtype.kind == "f" and np.isnan(v).any():
        raise ValueError("parameter 'fold_column': the column has missing values")
    levels, folds = np.unique(v, return_inverse=True)
    if levels.size < 2:
        raise ValueError(f"parameter 'fold_column': needs at least 2 distinct values, got {levels.size}")
    names = [f"{x:g}" if isinstance(x, float) else str(x) for x in levels.tolist()]
    return folds.astype(np.int32), names
