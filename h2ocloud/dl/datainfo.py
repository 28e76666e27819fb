"""DataInfo: the preprocessing a deep-learning model keeps with it.

Built once from the training frame's column metadata, it turns any frame with the same
column names into the kernel's float32 input matrix, exactly as H2O's DataInfo does:

* categorical columns first, one-hot: every level gets a unit with ``use_all_factor_levels``,
  otherwise the first level is dropped (its code activates nothing); a missing or unseen
  level activates nothing;
* numeric columns standardized with the *training* mean and sigma; missing -> 0 (the mean);
* constant columns dropped (``ignore_const_cols``), string columns ignored, the response
  excluded from the inputs;
* a regression response standardized the same way (predictions mapped back) when the
  distribution's link is the identity; with a log link (poisson, gamma, tweedie) it is left
  as it is and a prediction is exp(output + offset), as H2O-3 does; a
  classification response as a class index into its domain. ``classification=True`` on a
  numeric response turns its distinct values into classes named "0", "1", ...

Columns are matched BY NAME (any order, extra columns ignored) and factor levels BY NAME
from the scored frame's domain to the training domain, so a test frame whose domain is
ordered differently, or has levels training never saw, is read correctly.

Column metadata, as the frame layer hands it over::

    {"name": str, "type": "numeric"|"enum"|"string", "domain": list[str] | None,
     "mean": float, "sigma": float, "min": float, "max": float, "missing": int}

Values: numeric -> float64 with NaN for missing; enum -> int32 codes with -1 for missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: H2O-3's distribution families whose link is log (the response is not standardized).
LOG_LINK_FAMILIES = ("poisson", "gamma", "tweedie")
#: H2O-3's regression families and the kernel loss that trains each.
FAMILY_LOSS = {"gaussian": "MeanSquare", "poisson": "Poisson", "gamma": "Gamma", "tweedie": "Tweedie",
               "laplace": "Laplace", "quantile": "Quantile", "huber": "Huber"}

Meta = Mapping[str, Any]


@runtime_checkable
class EncodedColumns(Protocol):
    """Columns of one chunk decoded only when read (h2ocloud.node.tasks.framedata.ChunkColumns),
    which standardize their numeric ones straight into the input matrix, as
    DataInfo._standardize_decoded does with decoded columns, to the bit."""

    nrows: int

    def __contains__(self, name: object) -> bool: ...

    def __getitem__(self, name: str) -> np.ndarray: ...

    def standardize_into(self, names: Sequence[str], mean: np.ndarray, sigma: np.ndarray,
                         fill: np.ndarray, out: np.ndarray) -> np.ndarray: ...


def _metas_by_name(metas: Sequence[Meta] | Mapping[str, Meta]) -> dict[str, Meta]:
    if isinstance(metas, Mapping):
        return {str(k): v for k, v in metas.items()}
    return {m["name"]: m for m in metas}


def _format_level(v: float) -> str:
    """Class name of a numeric response value: "1" for 1.0, as H2O's toEnum does."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _is_constant(m: Meta) -> bool:
    if m["type"] == "enum":
        dom = m.get("domain") or []
        if len(dom) <= 1:
            return True
        lo, hi = m.get("min"), m.get("max")
        return lo is not None and hi is not None and lo == hi
    sigma = m.get("sigma")
    lo, hi = m.get("min"), m.get("max")
    if sigma is None or not math.isfinite(sigma) or sigma == 0.0:
        return True
    return lo is not None and hi is not None and lo == hi


@dataclass
class CatColumn:
    """One categorical input: its training domain and the levels that get a unit."""

    name: str
    domain: list[str]
    first_unit_level: int  # 0 with use_all_factor_levels, else 1 (level 0 is implicit)
    # categorical_encoding other than one-hot: level k fills the units with table[k]
    # (missing / unseen: zeros), named name + suffixes[j] (h2ocloud.dl.categorical).
    encoding: str = "AUTO"
    table: list[list[float]] | None = None
    suffixes: list[str] | None = None

    @property
    def n_units(self) -> int:
        if self.table is not None:
            return len(self.table[0]) if self.table else 0
        return len(self.domain) - self.first_unit_level

    @property
    def unit_names(self) -> list[str]:
        if self.table is not None:
            return [f"{self.name}{s}" for s in (self.suffixes or [])]
        return [f"{self.name}.{lvl}" for lvl in self.domain[self.first_unit_level:]]


@dataclass
class NumColumn:
    """One numeric input and the training statistics it is standardized with."""

    name: str
    mean: float
    sigma: float  # 1.0 where the training sigma was 0 (kept constant column)
    fill: float = 0.0  # the input a missing value becomes: the training mean, transformed


@dataclass
class DataInfo:
    """Preprocessing of a model's inputs and response (JSON-able via to_dict/from_dict)."""

    cats: list[CatColumn] = field(default_factory=list)
    nums: list[NumColumn] = field(default_factory=list)
    response: str | None = None
    classification: bool = False
    autoencoder: bool = False
    response_domain: list[str] | None = None
    response_is_numeric: bool = False  # numeric column read as classes ("0", "1", ...)
    response_mean: float = 0.0
    response_sigma: float = 1.0
    # H2O-3's distribution family of a regression ("gaussian" when none was asked for) and
    # its parameter: tweedie_power, quantile_alpha, or the huber delta in response units.
    distribution: str = "gaussian"
    dist_param: float = 0.0
    huber_alpha: float = 0.9
    auc_type: str = "AUTO"  # H2O-3's multinomial AUC (AUTO = NONE: not computed)
    gainslift_bins: int = -1  # a binomial's gains/lift groups: -1 H2O-3's 16, 0 none
    # H2O-3's missing_values_handling=Skip: a row with a missing predictor becomes a row of NaN
    # (not trained on, predicted as missing) instead of taking the training means.
    skip_missing: bool = False
    ignored: list[str] = field(default_factory=list)  # constant or string columns dropped
    # The predictor columns as training named them, in that order (used or not): exports
    # read a row in this order. Empty in models saved before it was kept.
    predictors: list[str] = field(default_factory=list)
    # H2O-3's offset_column: a per-row offset added to a regression's output in link space
    # (response_to_original); read from every frame scored, never a predictor.
    offset_column: str | None = None
    # H2O-3's max_categorical_features: when the one-hot factor units outnumber it, they are
    # hashed into this many inputs (h2ocloud.dl.feature_hashing), seeded by hash_seed.
    max_categorical_features: int = 2147483647
    hash_seed: int = 0

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        metas: Sequence[Meta] | Mapping[str, Meta],
        x: Sequence[str] | None,
        y: str | None,
        params: Mapping[str, Any],
        y_values: np.ndarray | None = None,
        level_stats: Mapping[str, Any] | None = None,
    ) -> DataInfo:
        """Build from training metadata. ``x`` None means every column but ``y``;
        ``y_values`` (the training response) gives the classes of a numeric response turned
        into classes; without it the integers between min and max are used."""
        by_name = _metas_by_name(metas)
        autoencoder = bool(params.get("autoencoder", False))
        if y is not None and y not in by_name:
            raise ValueError(f"response column {y!r} is not in the frame")
        if y is None and not autoencoder:
            raise ValueError("parameter 'y': a response column is needed (or autoencoder=True)")
        if autoencoder:
            y = None  # an autoencoder reconstructs x; a response is ignored as in H2O
        ignored = list(params.get("ignored_columns") or [])
        weights = params.get("weights_column")
        if weights is not None:
            if weights not in by_name:
                raise ValueError(f"parameter 'weights_column': column {weights!r} is not in the frame")
            if by_name[weights]["type"] != "numeric":
                raise ValueError(f"parameter 'weights_column': {weights!r} is not a numeric column")
            if x is not None and weights in x:
                raise ValueError(f"parameter 'weights_column': {weights!r} is also a predictor in x")
            ignored.append(weights)  # a weight is never a predictor
        offset = params.get("offset_column")
        if offset is not None:
            _check_offset_column(offset, by_name, x, y, autoencoder)
            ignored.append(offset)  # an offset is never a predictor
        for c in ignored:
            if c not in by_name:
                raise ValueError(f"parameter 'ignored_columns': column {c!r} is not in the frame")
        # h2o-py's ignored_columns: every column but these (and y), or x without them.
        if x is None:
            x = [n for n in by_name if n != y and n not in ignored]
        else:
            x = [n for n in x if n not in ignored]
        for c in x:
            if c not in by_name:
                raise ValueError(f"predictor column {c!r} is not in the frame")
            if c == y:
                raise ValueError(f"column {c!r} is both predictor and response")

        info = cls(response=y, autoencoder=autoencoder, predictors=list(x),
                   skip_missing=params.get("missing_values_handling", "MeanImputation") == "Skip",
                   auc_type=str(params.get("auc_type", "AUTO") or "AUTO"),
                   gainslift_bins=int(params.get("gainslift_bins", -1)),
                   offset_column=offset,
                   max_categorical_features=int(params.get("max_categorical_features", 2147483647)),
                   hash_seed=int(params.get("seed") or 0))
        all_levels = bool(params.get("use_all_factor_levels", True)) or autoencoder
        ignore_const = bool(params.get("ignore_const_cols", True))
        for c in x:  # categorical first, then numeric; each in the order x gives
            m = by_name[c]
            if m["type"] == "enum" and not (ignore_const and _is_constant(m)):
                info.cats.append(_cat_column(c, list(m["domain"] or []), 0 if all_levels else 1,
                                             params, (level_stats or {}).get(c)))
            elif m["type"] not in ("enum", "numeric", "string"):
                raise ValueError(f"column {c!r} has unknown type {m['type']!r}")
        for c in x:
            m = by_name[c]
            if m["type"] == "numeric" and not (ignore_const and _is_constant(m)):
                sigma = float(m.get("sigma") or 0.0)
                mean = float(m.get("mean") or 0.0)
                mean = mean if math.isfinite(mean) else 0.0
                if params.get("standardize", True):
                    info.nums.append(NumColumn(c, mean, sigma if math.isfinite(sigma) and sigma > 0 else 1.0))
                else:  # H2O-3's standardize=False: raw values in, missing ones still the mean
                    info.nums.append(NumColumn(c, 0.0, 1.0, fill=mean))
        used = {c.name for c in info.cats} | {n.name for n in info.nums}
        info.ignored = [c for c in x if c not in used]
        if info.n_inputs == 0:
            raise ValueError("parameter 'x': no usable predictor columns (all constant or string)")

        if y is not None:
            info._build_response(by_name[y], params.get("classification"), y_values)
            if not info.classification:
                info._set_distribution(by_name[y], params)
            elif offset is not None:  # H2O-3's DeepLearningParameters.validate
                raise ValueError(f"parameter 'offset_column': Offset is only supported for regression "
                                 f"(as in H2O-3); the response {y!r} is categorical")
        return info

    def _build_response(self, m: Meta, classification: bool | None,
                        y_values: np.ndarray | None) -> None:
        if m["type"] == "string":
            raise ValueError(f"response column {m['name']!r} is a string column")
        if m["type"] == "enum":
            if classification is False:
                raise ValueError(
                    f"parameter 'classification': response {m['name']!r} is categorical")
            self.classification = True
            self.response_domain = list(m["domain"] or [])
        elif classification:
            self.classification = True
            self.response_is_numeric = True
            if y_values is not None:
                vals = np.unique(np.asarray(y_values, dtype=np.float64))
                vals = vals[~np.isnan(vals)]
            else:
                lo, hi = float(m["min"]), float(m["max"])
                if not (lo.is_integer() and hi.is_integer()) or hi - lo > 10000:
                    raise ValueError(f"classification on numeric response {m['name']!r} needs "
                                     "its values (y_values) to find the classes")
                vals = np.arange(lo, hi + 1)
            self.response_domain = [_format_level(v) for v in vals]
        else:
            self.classification = False
            mean, sigma = float(m.get("mean") or 0.0), float(m.get("sigma") or 0.0)
            self.response_mean = mean if math.isfinite(mean) else 0.0
            self.response_sigma = sigma if math.isfinite(sigma) and sigma > 0 else 1.0
        if self.classification and len(self.response_domain or []) < 2:
            raise ValueError(f"response column {m['name']!r} has fewer than two classes")

    def _set_distribution(self, m: Meta, params: Mapping[str, Any]) -> None:
        d = params.get("distribution", "AUTO")
        self.distribution = "gaussian" if d in (None, "AUTO") else str(d)
        self.dist_param = {"tweedie": params.get("tweedie_power", 1.5),
                           "quantile": params.get("quantile_alpha", 0.5)}.get(self.distribution, 0.0)
        self.huber_alpha = float(params.get("huber_alpha", 0.9))
        lo = float(m.get("min") if m.get("min") is not None else math.nan)
        need = {"poisson": (0.0, "non-negative"), "tweedie": (0.0, "non-negative"),
                "gamma": (None, "positive")}.get(self.distribution)
        if need is not None and math.isfinite(lo):
            floor, word = need
            if (floor is None and lo <= 0) or (floor is not None and lo < floor):
                raise ValueError(f"parameter 'distribution': {self.distribution} needs a {word} "
                                 f"response; {m['name']!r} has minimum {lo:g}")
        if self.response_link == "log":  # H2O-3 standardizes the response only for identity links
            self.response_mean, self.response_sigma = 0.0, 1.0
        if self.distribution == "huber":  # H2O starts at delta 1 (standardized units)
            self.dist_param = self.response_sigma

    @property
    def response_link(self) -> str:
        """The distribution's link: "log" for poisson, gamma and tweedie, else "identity"."""
        return "log" if self.distribution in LOG_LINK_FAMILIES else "identity"

    @property
    def kernel_dist_param(self) -> float:
        """dist_param as the kernel wants it (the huber delta in standardized units)."""
        if self.distribution == "huber":
            return self.dist_param / self.response_sigma
        return self.dist_param

    # ------------------------------------------------------------------ shape
    @property
    def one_hot_units(self) -> int:
        """The one-hot factor units before any hashing (table encodings not counted)."""
        return sum(c.n_units for c in self.cats if c.table is None)

    @property
    def hash_buckets(self) -> int:
        """Inputs the one-hot factor units are hashed into (max_categorical_features), 0
        when they are not hashed (they fit)."""
        k = int(self.max_categorical_features)
        return k if self.one_hot_units > k else 0

    @property
    def num_offset(self) -> int:
        """The first numeric input unit (the factors' units come first)."""
        k = self.hash_buckets
        if k:
            return k + sum(c.n_units for c in self.cats if c.table is not None)
        return sum(c.n_units for c in self.cats)

    @property
    def _num_means(self) -> np.ndarray:
        return self._num_inputs()[1]

    @property
    def _num_sigmas(self) -> np.ndarray:
        return self._num_inputs()[2]

    @property
    def _num_fills(self) -> np.ndarray:
        return self._num_inputs()[3]

    def _num_inputs(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """The numeric inputs' names, means, sigmas and fills, kept from one transform to the
        next (a chunk is transformed at a time, and MNIST has 717 of them); made again when
        ``nums`` holds other columns (a NumColumn is not changed in place once built)."""
        key = tuple(self.nums)
        kept = self.__dict__.get("_num_inputs_kept")
        if kept is None or kept[0] != key:
            nums = self.nums
            kept = self.__dict__["_num_inputs_kept"] = (
                key, [c.name for c in nums], np.array([c.mean for c in nums], dtype=np.float64),
                np.array([c.sigma for c in nums], dtype=np.float64),
                np.array([c.fill for c in nums], dtype=np.float64))
        return kept[1:]

    @property
    def n_inputs(self) -> int:
        return self.num_offset + len(self.nums)

    @property
    def model_columns(self) -> list[str]:
        """The columns a frame scored must hold: the inputs used and the offset column."""
        return self.x_columns + ([self.offset_column] if self.offset_column else [])

    @property
    def n_outputs(self) -> int:
        if self.autoencoder:
            return self.n_inputs
        return len(self.response_domain) if self.classification else 1

    @property
    def n_classes(self) -> int:
        return len(self.response_domain) if self.classification else 1

    @property
    def input_names(self) -> list[str]:
        """Expanded input names: "color.red" for a one-hot unit, the name for a numeric."""
        k = self.hash_buckets
        if k:
            names = [f"categorical_hash.{j}" for j in range(k)]
            names += [n for c in self.cats if c.table is not None for n in c.unit_names]
        else:
            names = [n for c in self.cats for n in c.unit_names]
        return names + [n.name for n in self.nums]

    @property
    def x_columns(self) -> list[str]:
        """Input columns actually used, in input order."""
        return [c.name for c in self.cats] + [n.name for n in self.nums]

    @property
    def used_predictors(self) -> list[str]:
        """Input columns actually used, in the training order of the predictors."""
        used = set(self.x_columns)
        ordered = [c for c in self.predictors if c in used]
        return ordered if len(ordered) == len(used) else self.x_columns

    @property
    def importance_columns(self) -> list[str]:
        """The variables input_column_index maps units to: x_columns, except that hashed
        factors (max_categorical_features) share their inputs, reported as one
        "categorical_hash" variable."""
        if not self.hash_buckets:
            return self.x_columns
        return [c.name for c in self.cats if c.table is not None] + [n.name for n in self.nums] \
            + ["categorical_hash"]

    def input_column_index(self) -> np.ndarray:
        """For every expanded input unit, the index of its variable in importance_columns."""
        k = self.hash_buckets
        if k:
            tables = [c for c in self.cats if c.table is not None]
            idx = [len(tables) + len(self.nums)] * k
            idx += [i for i, c in enumerate(tables) for _ in range(c.n_units)]
            idx += [len(tables) + j for j in range(len(self.nums))]
            return np.asarray(idx, dtype=np.int64)
        idx = [i for i, c in enumerate(self.cats) for _ in range(c.n_units)]
        idx += [len(self.cats) + j for j in range(len(self.nums))]
        return np.asarray(idx, dtype=np.int64)

    def unit_buckets(self) -> np.ndarray:
        """For every unit of the unhashed layout (factors' units in order, then numerics), the
        input it feeds once hashed (h2ocloud.dl.feature_hashing); numeric units keep theirs
        (shifted to num_offset), table-encoded factors' units follow the buckets."""
        from h2ocloud.dl.feature_hashing import buckets

        k = self.hash_buckets
        out, off, dst = [], 0, k
        for c in self.cats:
            u = np.arange(off, off + c.n_units)
            if c.table is not None or not k:
                out.append(np.arange(dst, dst + c.n_units) if k else u)
                dst += c.n_units if k else 0
            else:
                out.append(buckets(u, k, self.hash_seed))
            off += c.n_units
        out.append(np.arange(len(self.nums)) + self.num_offset)
        return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)

    # ------------------------------------------------------------------ transforms
    def transform(self, metas: Sequence[Meta] | Mapping[str, Meta],
                  columns: Mapping[str, np.ndarray] | EncodedColumns, order: str = "C") -> np.ndarray:
        """Rows of the scored frame as the kernel's float32 input matrix: row-major (``order``
        "C") for training, which reads a row at a time, or column-major ("F") for scoring,
        whose matrix products read either as fast and whose inputs are written a column at a
        time (h2ocloud.frame.standardize)."""
        if order not in ("C", "F"):
            raise ValueError(f"order must be 'C' or 'F', got {order!r}")
        by_name, enums = self._metas_index(metas)
        # A chunk's still-encoded columns know their row count; decoding them all to ask would
        # undo what they save.
        encoded = isinstance(columns, EncodedColumns)
        n = columns.nrows if encoded else _n_rows(columns, self.x_columns)
        # Zeros where factors' units are (most stay 0); numeric inputs alone fill every column
        # (zeroing MNIST's 4 MB a chunk first cost a tenth of the transform).
        X = np.zeros((n, self.n_inputs), dtype=np.float32, order=order) if self.cats else \
            np.empty((n, self.n_inputs), dtype=np.float32, order=order)
        missing = np.zeros(n, dtype=bool)  # rows with a missing predictor (skip_missing)
        k = self.hash_buckets
        off = 0  # the unit's position in the unhashed layout
        dst = k  # where the next table-encoded factor's units go once factors are hashed
        for c in self.cats:
            codes = self._codes_for(c.name, c.domain, by_name, columns, n)
            if self.skip_missing:
                missing |= codes < 0
            if c.table is not None:  # a table encoding; missing / unseen -> zeros (the mean)
                t = np.vstack([np.asarray(c.table, np.float32), np.zeros((1, c.n_units), np.float32)])
                at = dst if k else off
                X[:, at:at + c.n_units] = t[np.where(codes >= 0, codes, len(c.table))]
                off += c.n_units
                dst += c.n_units
                continue
            unit = codes - c.first_unit_level  # missing (-1) and dropped level 0 go negative
            hit = unit >= 0
            if k:  # max_categorical_features: the unit's hash bucket; collisions add up
                from h2ocloud.dl.feature_hashing import buckets

                np.add.at(X, (np.nonzero(hit)[0], buckets(off + unit[hit], k, self.hash_seed)), 1.0)
            else:
                X[np.nonzero(hit)[0], off + unit[hit]] = 1.0
            off += c.n_units
        if self.nums:
            names, means, sigmas, fills = self._num_inputs()
            # Encoded columns check that they hold every name (KeyError, named below); decoded
            # ones are asked here. A wide frame has hundreds, and a frame is scored a chunk at a time.
            if (enums and not enums.isdisjoint(names)) or \
                    (not encoded and any(name not in columns for name in names)):
                self._name_missing_input(by_name, columns)
            off = self.num_offset
            block = X[:, off:off + len(self.nums)]
            if encoded:  # a chunk's columns, still encoded
                try:
                    nan_rows = columns.standardize_into(names, means, sigmas, fills, block)
                except KeyError:
                    self._name_missing_input(by_name, columns)
                    raise
            else:
                nan_rows = self._standardize_decoded(columns, block)
            if self.skip_missing:
                missing |= nan_rows
        if missing.any():
            X[missing] = np.nan
        return X

    def _metas_index(self, metas: Sequence[Meta] | Mapping[str, Meta]) -> tuple[dict[str, Meta], set[str]]:
        """The scored frame's column metadata by name, and its categorical columns' names;
        kept for the last ``metas`` given (a frame is transformed a chunk at a time with the
        same metadata, and MNIST has 785 columns)."""
        kept = self.__dict__.get("_metas_index_kept")
        if kept is not None and kept[0] is metas:
            return kept[1], kept[2]
        by_name = _metas_by_name(metas)
        enums = {name for name, m in by_name.items() if m.get("type") == "enum"}
        self.__dict__["_metas_index_kept"] = (metas, by_name, enums)
        return by_name, enums

    def _name_missing_input(self, by_name: Mapping[str, Meta], columns: Mapping[str, np.ndarray]) -> None:
        """Raise the error naming the first numeric input the scored columns lack or hold as
        categorical."""
        for col in self.nums:
            if by_name.get(col.name, {}).get("type", "numeric") == "enum":
                raise ValueError(f"column {col.name!r} is categorical here but was numeric "
                                 "in training")
            _column_present(columns, col.name)

    def _standardize_decoded(self, columns: Mapping[str, np.ndarray], out: np.ndarray) -> np.ndarray:
        """The numeric inputs of decoded (float64) columns into ``out``, standardized as one
        block (a wide frame such as MNIST has hundreds: one numpy pass over the block, not
        several calls a column); missing -> the fill. Returns the rows with a missing value.
        h2ocloud.frame.standardize does the same arithmetic, to the bit, on encoded chunks."""
        V = np.empty((out.shape[0], len(self.nums)), dtype=np.float64, order="F")
        for j, col in enumerate(self.nums):
            V[:, j] = columns[col.name]
        Z = (V - self._num_means) * (1.0 / self._num_sigmas)  # H2O's _normMul, as standardize_into
        nan = np.isnan(Z)
        out[:] = np.where(nan, self._num_fills, Z)
        return nan.any(axis=1)

    def _codes_for(self, name: str, train_domain: list[str], by_name: dict[str, Meta],
                   columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The scored frame's codes of a categorical column, mapped into the training domain
        by level name; unseen levels and missing values -> -1."""
        v = np.asarray(_column(columns, name))
        meta = by_name.get(name)
        if meta is None or meta.get("type") != "enum":
            raise ValueError(f"column {name!r} must be categorical (it was in training)")
        return map_levels(v, list(meta.get("domain") or []), train_domain)

    def transform_response(self, meta: Meta, values: np.ndarray) -> np.ndarray:
        """The response as the kernel wants it (float32): class index or standardized value;
        NaN where missing (or a class training never saw)."""
        v = np.asarray(values)
        if not self.classification:
            if meta.get("type") == "enum":
                raise ValueError(f"response {meta['name']!r} is categorical; model is regression")
            if self.response_link == "log":
                return v.astype(np.float32)
            out = (v.astype(np.float64) - self.response_mean) / self.response_sigma
            return out.astype(np.float32)
        if self.response_is_numeric:
            lookup = {lvl: i for i, lvl in enumerate(self.response_domain or [])}
            codes = np.array([lookup.get(_format_level(x), -1) if not np.isnan(x) else -1
                              for x in v.astype(np.float64)], dtype=np.int64)
        else:
            if meta.get("type") != "enum":
                raise ValueError(f"response {meta['name']!r} must be categorical")
            codes = map_levels(v, list(meta.get("domain") or []), self.response_domain or [])
        out = codes.astype(np.float32)
        out[codes < 0] = np.nan
        return out

    def response_to_original(self, pred: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
        """Map the kernel's regression outputs to predictions in the response's units
        (float64): un-standardized (identity link) or exp (log link), with the rows' offsets
        added in link space. With offsets the kernel's output already holds
        kernel_offsets (o - mean) / sigma, as H2O-3's fpropMiniBatch adds (o - sub) * mul, so an
        identity link's prediction is output * sigma + o."""
        f = np.asarray(pred, dtype=np.float64)
        if self.response_link == "log":
            if offsets is not None:
                f = f + np.asarray(offsets, np.float64)
            return np.exp(np.minimum(f, 700.0))
        if offsets is None:
            return f * self.response_sigma + self.response_mean
        return f * self.response_sigma + np.asarray(offsets, np.float64)

    def target_to_original(self, y: np.ndarray) -> np.ndarray:
        """Inverse of transform_response for a regression target (float64)."""
        v = np.asarray(y, dtype=np.float64)
        return v if self.response_link == "log" else v * self.response_sigma + self.response_mean

    def row_offsets(self, columns: Mapping[str, np.ndarray], what: str = "frame") -> np.ndarray | None:
        """The offset_column's values of the rows (float64), None without one; a frame that
        lacks the column is refused, as H2O-3 refuses a test frame missing its offset."""
        if not self.offset_column:
            return None
        if self.offset_column not in columns:
            raise ValueError(f"parameter 'offset_column': the {what} is missing the model's offset "
                             f"column {self.offset_column!r}")
        return np.asarray(columns[self.offset_column], dtype=np.float64)

    def kernel_offsets(self, offsets: np.ndarray) -> np.ndarray:
        """Per-row offsets (response units, link space) in the kernel's output space:
        standardized as the response is, (o - mean) / sigma, as H2O-3's
        DeepLearningTask.fpropMiniBatch adds them: the network then learns (y - o) / sigma,
        centred like a response without offset."""
        o = np.asarray(offsets, dtype=np.float64)
        o = np.where(np.isnan(o), 0.0, o)
        if self.response_link == "log":
            return o.astype(np.float32)
        return ((o - self.response_mean) / self.response_sigma).astype(np.float32)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain dicts and lists, for the model file (model_format serializes
        it at once). A shallow copy: dataclasses.asdict deep-copied every input column's
        dataclass and domain, a third of storing a small model (ECG's 210 inputs)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["cats"] = [_fields_of(c) for c in self.cats]
        d["nums"] = [_fields_of(c) for c in self.nums]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataInfo:
        d = dict(d)
        d["cats"] = [CatColumn(**c) for c in d.get("cats", [])]
        d["nums"] = [NumColumn(**c) for c in d.get("nums", [])]
        return cls(**d)


def _fields_of(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict (not what it caches beside them)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _check_offset_column(offset: str, by_name: Mapping[str, Meta], x: Sequence[str] | None,
                         y: str | None, autoencoder: bool) -> None:
    """H2O-3's checks of an offset column (ModelBuilder.separateFeatureVecs): in the frame,
    numeric, no missing values, not the response nor a predictor."""
    if autoencoder:
        raise ValueError("parameter 'offset_column': Offset is only supported for regression, not an autoencoder")
    if offset not in by_name:
        raise ValueError(f"parameter 'offset_column': column {offset!r} is not in the frame")
    m = by_name[offset]
    if m["type"] != "numeric":
        raise ValueError(f"parameter 'offset_column': Invalid offset column {offset!r}, offset must be numeric")
    if int(m.get("missing") or 0) > 0:
        raise ValueError(f"parameter 'offset_column': Offset cannot have missing values ({offset!r} has "
                         f"{int(m['missing'])})")
    if offset == y:
        raise ValueError("parameter 'offset_column': the response cannot be the offset column")
    if x is not None and offset in x:
        raise ValueError(f"parameter 'offset_column': {offset!r} is also a predictor in x")


def _cat_column(name: str, domain: list[str], first: int, params: Mapping[str, Any],
                stats: Any) -> CatColumn:
    """A factor input as params' categorical_encoding makes it (h2ocloud.dl.categorical)."""
    from h2ocloud.dl import categorical as ce

    enc = params.get("categorical_encoding", "AUTO") or "AUTO"
    if enc in ce.ONE_HOT:
        return CatColumn(name, domain, first)
    if enc == "SortByResponse":
        dom = ce.sorted_domain(domain, stats) if stats is not None else domain
        return CatColumn(name, dom, first, encoding=enc)
    table, suffixes = ce.encoding_table(enc, len(domain), stats)
    return CatColumn(name, domain, 0, encoding=enc, table=table, suffixes=suffixes)


def map_levels(codes: np.ndarray, from_domain: list[str], to_domain: list[str]) -> np.ndarray:
    """Map integer codes into ``from_domain`` onto ``to_domain`` by level name (int64);
    missing codes and levels absent from ``to_domain`` become -1."""
    codes = np.asarray(codes)
    if codes.dtype.kind == "f":  # tolerate float codes with NaN for missing
        codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
    codes = codes.astype(np.int64)
    pos = {lvl: i for i, lvl in enumerate(to_domain)}
    table = np.array([pos.get(lvl, -1) for lvl in from_domain] + [-1], dtype=np.int64)
    safe = np.where((codes >= 0) & (codes < len(from_domain)), codes, len(from_domain))
    return table[safe]


def _column_present(columns: Mapping[str, np.ndarray], name: str) -> None:
    if name not in columns:
        raise ValueError(f"column {name!r} (used by the model) is missing from the frame")


def _column(columns: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    _column_present(columns, name)
    return columns[name]


def _n_rows(columns: Mapping[str, np.ndarray], names: list[str]) -> int:
    lengths = {len(_column(columns, c)) for c in names}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0
