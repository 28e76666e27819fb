"""h2o-py's frame operations on H2OFrame: each one an expression tree (h2ocloud.frame.expr) or a
reduction sent to the cloud and computed by map/reduce over the chunks; the client never holds
the frame. Operations make new frames; `impute`, `insert_missing_values`, `pop` and the setters
change the frame in place, as h2o-py's do."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from h2ocloud.client.session import connection
from h2ocloud.exceptions import H2OTypeError, H2OValueError

if TYPE_CHECKING:
    from h2ocloud.client.frame import H2OFrame


def _frame_cls():
    from h2ocloud.client.frame import H2OFrame

    return H2OFrame


def _tree(x: Any) -> Any:
    """An operand as an expression tree: a frame by id, a scalar as itself."""
    if isinstance(x, _frame_cls()):
        return {"frame": x.frame_id}
    if x is None or isinstance(x, bool | int | float | str):
        return x
    if hasattr(x, "item"):  # numpy scalar
        return x.item()
    raise H2OTypeError(f"cannot use a {type(x).__name__} in a frame expression", var_name="operand")


def _expr(tree: Any, rows: dict[str, Any] | None = None, **extra: Any) -> H2OFrame:
    args: dict[str, Any] = {"tree": tree, **extra}
    if rows is not None:
        args["rows"] = rows
    result, _ = connection().call("frames.expr", args)
    return _frame_cls()._from_header(result)


def _op(name: str, *operands: Any, **opts: Any) -> H2OFrame:
    return _expr({"op": name, "args": [_tree(o) for o in operands], **opts})


def _binary(name: str, reflected: bool = False):
    def method(self, other):
        return _op(name, other, self) if reflected else _op(name, self, other)
    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _unary(name: str, doc: str):
    def method(self):
        return _op(name, self)
    method.__doc__ = doc
    return method


def _nan(v: Any) -> float:
    return math.nan if v is None else float(v)


class FrameOps:
    """The operations part of H2OFrame (mixed into it)."""

    frame_id: str
    _header: dict[str, Any]
    __hash__ = object.__hash__  # comparisons build frames, identity stays the hash

    # ---- arithmetic, comparison and logic, column by column ---------------------------------
    __add__, __radd__ = _binary("+"), _binary("+", True)
    __sub__, __rsub__ = _binary("-"), _binary("-", True)
    __mul__, __rmul__ = _binary("*"), _binary("*", True)
    __truediv__, __rtruediv__ = _binary("/"), _binary("/", True)
    __floordiv__, __rfloordiv__ = _binary("//"), _binary("//", True)
    __mod__, __rmod__ = _binary("%"), _binary("%", True)
    __pow__, __rpow__ = _binary("**"), _binary("**", True)
    __eq__, __ne__ = _binary("=="), _binary("!=")  # type: ignore[assignment]
    __lt__, __le__, __gt__, __ge__ = _binary("<"), _binary("<="), _binary(">"), _binary(">=")
    __and__, __rand__ = _binary("&"), _binary("&", True)
    __or__, __ror__ = _binary("|"), _binary("|", True)

    def __invert__(self) -> H2OFrame:
        return _op("not", self)

    def __neg__(self) -> H2OFrame:
        return _op("neg", self)

    def __abs__(self) -> H2OFrame:
        return _op("abs", self)

    isna = _unary("isna", "1 where a value is missing, else 0 (one column per column).")
    abs = _unary("abs", "Absolute values.")
    log = _unary("log", "Natural logarithm.")
    log10 = _unary("log10", "Base-10 logarithm.")
    log1p = _unary("log1p", "log(1 + x).")
    exp = _unary("exp", "Exponential.")
    sqrt = _unary("sqrt", "Square root.")
    floor = _unary("floor", "Largest whole number not above.")
    ceil = _unary("ceil", "Smallest whole number not below.")
    sign = _unary("sign", "-1, 0 or 1.")
    toupper = _unary("toupper", "Upper-case strings (a factor's levels).")
    tolower = _unary("tolower", "Lower-case strings (a factor's levels).")
    trim = _unary("trim", "Strings without leading and trailing white space.")
    nchar = _unary("nchar", "Length of each string.")
    ascharacter = _unary("ascharacter", "The values as a string column.")
    year = _unary("year", "Year of a time column.")
    month = _unary("month", "Month (1-12) of a time column.")
    day = _unary("day", "Day of the month (1-31) of a time column.")
    hour = _unary("hour", "Hour (0-23) of a time column.")
    minute = _unary("minute", "Minute (0-59) of a time column.")
    second = _unary("second", "Second (0-59) of a time column.")
    week = _unary("week", "ISO week of the year of a time column.")
    dayOfWeek = _unary("dayOfWeek", "Day of the week (0 = Monday) of a time column.")

    def round(self, digits: int = 0) -> H2OFrame:
        """Values rounded to `digits` decimal places (half to even)."""
        return _op("round", self, digits=int(digits))

    def signif(self, digits: int = 6) -> H2OFrame:
        """Values rounded to `digits` significant digits."""
        return _op("signif", self, digits=int(digits))

    def ifelse(self, yes: Any, no: Any) -> H2OFrame:
        """Where this (boolean) column is true `yes`, else `no` (columns or scalars); NA stays NA."""
        return _op("ifelse", self, yes, no)

    def cut(self, breaks: Sequence[float], labels: Sequence[str] | None = None, include_lowest: bool = False,
            right: bool = True, dig_lab: int = 3) -> H2OFrame:
        """A factor naming the interval of `breaks` each value falls in."""
        return _op("cut", self, breaks=[float(b) for b in breaks], labels=None if labels is None else list(labels),
                   include_lowest=bool(include_lowest), right=bool(right), dig_lab=int(dig_lab))

    def gsub(self, pattern: str, replacement: str, ignore_case: bool = False) -> H2OFrame:
        """Every match of regular expression `pattern` replaced (strings or a factor's levels)."""
        return _op("gsub", self, pattern=str(pattern), replacement=str(replacement), ignore_case=bool(ignore_case))

    def sub(self, pattern: str, replacement: str, ignore_case: bool = False) -> H2OFrame:
        """The first match of `pattern` replaced."""
        return _op("sub", self, pattern=str(pattern), replacement=str(replacement), ignore_case=bool(ignore_case))

    def runif(self, seed: int | None = None) -> H2OFrame:
        """One column of uniform random numbers in [0, 1), one per row (the same for a seed,
        however the frame is spread over the cloud)."""
        import random

        return _op("runif", self, seed=int(seed if seed is not None and seed != -1 else random.randrange(2**31)))

    # ---- rows and columns ---------------------------------------------------------------------
    def _row_spec(self, rows: Any) -> dict[str, Any] | None:
        n = int(self._header["nrows"])
        if isinstance(rows, slice):
            if rows == slice(None):
                return None
            start, stop, step = rows.indices(n)
            if step != 1:
                return {"index": list(range(start, stop, step))}
            return {"range": [start, max(start, stop)]}
        if isinstance(rows, _frame_cls()):
            if rows.ncols != 1:
                raise H2OValueError(f"a row mask must be one column, got {rows.ncols}", var_name="rows")
            return {"mask": {"frame": rows.frame_id}}
        if isinstance(rows, int) and not isinstance(rows, bool):
            rows = [rows]
        if isinstance(rows, list | tuple) and all(isinstance(r, int) and not isinstance(r, bool) for r in rows):
            idx = sorted({r + n if r < 0 else r for r in rows})
            bad = [r for r in idx if not 0 <= r < n]
            if bad:
                raise H2OValueError(f"row {bad[0]} out of range 0..{n - 1}", var_name="rows")
            return {"index": idx}
        raise H2OTypeError(f"cannot select rows with {rows!r}", var_name="rows")

    def _select(self, item: Any) -> H2OFrame:
        """fr[cols], fr[rows, cols], fr[mask], fr[mask, cols] as h2o-py."""
        rows: Any = slice(None)
        cols: Any = slice(None)
        if isinstance(item, tuple) and len(item) == 2:
            rows, cols = item
        elif isinstance(item, _frame_cls()):
            rows = item
        else:
            cols = item
        names = self.columns if isinstance(cols, slice) and cols == slice(None) else self._names_of(cols)  # type: ignore[attr-defined]
        spec = self._row_spec(rows)
        if spec is None:
            result, _ = connection().call("frames.select", {"frame_id": self.frame_id, "columns": names})
            return _frame_cls()._from_header(result)
        tree = {"cols": names, "of": {"frame": self.frame_id}}
        return _expr(tree, spec, base=self.frame_id)

    def head(self, rows: int = 10, cols: int = 200) -> H2OFrame:
        """The first rows (and at most `cols` columns) as a new H2OFrame."""
        return self[0:min(int(rows), self.nrows), self.columns[:cols]]  # type: ignore[attr-defined]

    def tail(self, rows: int = 10, cols: int = 200) -> H2OFrame:
        """The last rows (and at most `cols` columns) as a new H2OFrame."""
        n = self.nrows  # type: ignore[attr-defined]
        return self[max(0, n - int(rows)):n, self.columns[:cols]]  # type: ignore[attr-defined]

    @property
    def nrow(self) -> int:
        return int(self._header["nrows"])

    @property
    def ncol(self) -> int:
        return len(self._header["names"])

    @property
    def dim(self) -> list[int]:
        return [self.nrow, self.ncol]

    # ---- reductions (one value per column, from the chunks' rollups or a map/reduce) ----------
    def _stat(self, key: str) -> list[Any]:
        return [s.get(key) for s in self._header["stats"]]

    def _numeric(self) -> list[bool]:
        return [t == "numeric" for t in self._header["types"]]

    def mean(self, skipna: bool = True, axis: int = 0, return_frame: bool = False, **kw: Any) -> Any:
        """Mean of each column (NaN for strings and factors; NaN with a missing value unless skipna)."""
        if axis != 0:
            raise H2OValueError("only axis=0 (one mean per column) is supported", var_name="axis")
        out = [(_nan(m) if num and (skipna or not s.get("missing")) else math.nan)
               for m, num, s in zip(self._stat("mean"), self._numeric(), self._header["stats"])]
        return self._maybe_frame(out, return_frame)

    def sum(self, skipna: bool = True, axis: int = 0, return_frame: bool = False) -> Any:
        """Sum of each column."""
        if axis != 0:
            raise H2OValueError("only axis=0 (one sum per column) is supported", var_name="axis")
        out = []
        for s, num in zip(self._header["stats"], self._numeric()):
            count = self.nrow - int(s.get("missing") or 0)
            if not num or (not skipna and s.get("missing")):
                out.append(math.nan)
            else:
                out.append(_nan(s.get("mean")) * count if count else 0.0)
        return self._maybe_frame(out, return_frame)

    def sd(self, na_rm: bool = False) -> list[float]:
        """Sample standard deviation of each column."""
        return [(_nan(v) if num and (na_rm or not s.get("missing")) else math.nan)
                for v, num, s in zip(self._stat("sigma"), self._numeric(), self._header["stats"])]

    def nacnt(self) -> list[int]:
        """Missing values in each column."""
        return [int(v or 0) for v in self._stat("missing")]

    def min(self) -> float:
        """The smallest value of the frame's numeric columns (h2o-py: one number)."""
        vals = [_nan(v) for v, num in zip(self._stat("min"), self._numeric()) if num]
        vals = [v for v in vals if not math.isnan(v)]
        return min(vals) if vals else math.nan

    def max(self) -> float:
        """The largest value of the frame's numeric columns (h2o-py: one number)."""
        vals = [_nan(v) for v, num in zip(self._stat("max"), self._numeric()) if num]
        vals = [v for v in vals if not math.isnan(v)]
        return max(vals) if vals else math.nan

    def _maybe_frame(self, values: list[Any], return_frame: bool) -> Any:
        if not return_frame:
            return values
        import pandas as pd

        return _frame_cls()(pd.DataFrame([values], columns=self.columns))  # type: ignore[attr-defined]

    def median(self, na_rm: bool = False) -> list[float]:
        """Median of each column (interpolated, as H2O), computed exactly over the cloud."""
        q = self._quantiles([0.5])
        return [(q[c][0] if na_rm or not s.get("missing") else math.nan)
                for c, s in zip(self.columns, self._header["stats"])]  # type: ignore[attr-defined]

    def _quantiles(self, probs: Sequence[float]) -> dict[str, list[float]]:
        result, _ = connection().call("frames.quantile", {"frame_id": self.frame_id, "probs": list(probs)})
        return {c: [_nan(v) for v in vs] for c, vs in result["quantiles"].items()}

    def quantile(self, prob: Sequence[float] | None = None, combine_method: str = "interpolate",
                 weights_column: str | None = None) -> H2OFrame:
        """A frame of quantiles: a `Probs` column and one `<column>Quantiles` column per column."""
        if combine_method != "interpolate":
            raise H2OValueError("only combine_method='interpolate' is supported", var_name="combine_method")
        if weights_column is not None:
            raise H2OValueError("weights_column is not supported", var_name="weights_column")
        probs = list(prob) if prob is not None else [0.001, 0.01, 0.1, 0.25, 0.333, 0.5, 0.667, 0.75, 0.9, 0.99, 0.999]
        q = self._quantiles(probs)
        import pandas as pd

        df = pd.DataFrame({"Probs": probs, **{f"{c}Quantiles": q[c] for c in self.columns}})  # type: ignore[attr-defined]
        return _frame_cls()(df)

    def _cov(self, y: H2OFrame | None, cor: bool, na_rm: bool, use: str | None) -> Any:
        use = use or ("complete.obs" if na_rm else "everything")
        if use not in ("everything", "complete.obs", "all.obs"):
            raise H2OValueError(f"use must be 'everything', 'all.obs' or 'complete.obs', got {use!r}", var_name="use")
        frame = self if y is None else self.cbind(y)
        result, _ = connection().call("frames.cov", {"frame_id": frame.frame_id, "cor": cor,
                                                     "use": "complete.obs" if use == "complete.obs" else "everything"})
        if use == "all.obs" and any(self.nacnt()):
            raise H2OValueError("use='all.obs' with missing values", var_name="use")
        m = [[_nan(v) for v in row] for row in result["matrix"]]
        k = self.ncol
        if y is not None:
            m = [row[k:] for row in m[:k]]
            names = y.columns
        else:
            names = result["columns"]
        if len(m) == 1 and len(m[0]) == 1:
            return m[0][0]
        import pandas as pd

        return _frame_cls()(pd.DataFrame(m, columns=names))

    def var(self, y: H2OFrame | None = None, na_rm: bool = False, use: str | None = None) -> Any:
        """The variance (one column), or the covariance matrix as a frame."""
        return self._cov(y, False, na_rm, use)

    def cor(self, y: H2OFrame | None = None, na_rm: bool = False, use: str | None = None,
            method: str = "Pearson") -> Any:
        """Pearson correlation (one pair: a number; else the matrix as a frame)."""
        if method != "Pearson":
            raise H2OValueError("only method='Pearson' is supported", var_name="method")
        return self._cov(y, True, na_rm, use)

    def unique(self, include_nas: bool = False) -> H2OFrame:
        """The distinct values of a column, as a one-column frame."""
        if self.ncol != 1:
            raise H2OValueError("unique needs a single column", var_name="self")
        result, _ = connection().call("frames.table", {"frame_id": self.frame_id, "unique": True})
        return _frame_cls()._from_header(result)

    def table(self, data2: H2OFrame | None = None, dense: bool = True) -> H2OFrame:
        """Counts of each value (or pair of values with data2), as a frame with a Count column."""
        frame = self if data2 is None else self.cbind(data2)
        result, _ = connection().call("frames.table", {"frame_id": frame.frame_id})
        return _frame_cls()._from_header(result)

    # ---- shape ----------------------------------------------------------------------------------
    def cbind(self, data: H2OFrame | Sequence[H2OFrame]) -> H2OFrame:
        """Columns of this frame and `data` side by side (a repeated name gets a number: x, x0, ...)."""
        others = list(data) if isinstance(data, list | tuple) else [data]
        return _expr({"op": "cbind", "args": [_tree(self)] + [_tree(o) for o in others]}, base=self.frame_id)

    def rbind(self, data: H2OFrame | Sequence[H2OFrame]) -> H2OFrame:
        """Rows of this frame followed by those of `data` (same columns and types)."""
        others = list(data) if isinstance(data, list | tuple) else [data]
        result, _ = connection().call("frames.rbind", {"frame_ids": [self.frame_id] + [o.frame_id for o in others]})
        return _frame_cls()._from_header(result)

    def merge(self, other: H2OFrame, all_x: bool = False, all_y: bool = False, by_x: Any = None,
              by_y: Any = None, method: str = "auto") -> H2OFrame:
        """h2o-py's merge (a join): rows of this frame (x) and `other` (y) whose key columns
        match, every pairing of them. Keys: by_x / by_y (names or positions), by default the
        columns the frames have in common. all_x / all_y keep x's / y's rows without a match
        (left, right, both: outer). NA keys match nothing. The result holds the keys, x's
        other columns, then y's, ordered by the keys; computed in the cloud (only the key
        columns are read to pair rows). method: "auto", "radix" or "hash" (one result)."""
        if not isinstance(other, _frame_cls()):
            raise H2OTypeError("other must be an H2OFrame", var_name="other")

        def keys(v: Any) -> list[Any] | None:
            return None if v is None else [v] if isinstance(v, str | int) else list(v)

        args = {"frame_id": self.frame_id, "other": other.frame_id, "all_x": bool(all_x), "all_y": bool(all_y),
                "by_x": keys(by_x), "by_y": keys(by_y), "method": str(method)}
        result, _ = connection().call("frames.merge", args)
        return _frame_cls()._from_header(result)

    def drop(self, index: Any, axis: int = 1) -> H2OFrame:
        """A frame without the given columns (axis=1) or rows (axis=0)."""
        if axis == 0:
            keep = sorted(set(range(self.nrow)) - set([index] if isinstance(index, int) else index))
            return self[keep, :]
        cols = [index] if isinstance(index, str | int) else list(index)
        return _op("drop", self, columns=cols)

    def rename(self, columns: dict[str, str] | None = None) -> H2OFrame:
        """A frame with columns renamed by the {old: new} mapping (h2o-py renames in place and
        returns the frame)."""
        mapping = dict(columns or {})
        unknown = [c for c in mapping if c not in self.columns]  # type: ignore[attr-defined]
        if unknown:
            raise H2OValueError(f"no column {unknown[0]!r} to rename", var_name="columns")
        return self.set_names([mapping.get(c, c) for c in self.columns])  # type: ignore[attr-defined]

    def set_names(self, names: Sequence[str]) -> H2OFrame:
        """Rename every column, in place; returns the frame."""
        self._replace(_expr({"op": "rename", "args": [_tree(self)], "names": [str(n) for n in names]},
                            in_place=self.frame_id))
        return self  # type: ignore[return-value]

    def set_name(self, col: int | str | None = None, name: str | None = None) -> H2OFrame:
        """Rename one column (by position or name), in place."""
        if name is None:
            raise H2OValueError("name is required", var_name="name")
        names = list(self.columns)  # type: ignore[attr-defined]
        j = (0 if col is None else col) if not isinstance(col, str) else names.index(col) if col in names else None
        if j is None or not -len(names) <= j < len(names):
            raise H2OValueError(f"no column {col!r}", var_name="col")
        names[j] = name
        return self.set_names(names)

    def _replace(self, other: H2OFrame) -> None:
        self._header = other._header

    def pop(self, i: int | str) -> H2OFrame:
        """Remove column i from this frame (in place) and return it as a frame."""
        col = self[i]  # type: ignore[index]
        self._replace(_expr({"op": "drop", "args": [_tree(self)], "columns": [i]}, in_place=self.frame_id))
        return col

    def sort(self, by: Any, ascending: bool | Sequence[bool] = True) -> H2OFrame:
        """Rows ordered by column(s) `by` (stable; NAs first)."""
        by = [by] if isinstance(by, str | int) else list(by)
        asc = ascending if isinstance(ascending, bool) else list(ascending)
        result, _ = connection().call("frames.sort", {"frame_id": self.frame_id, "by": by, "ascending": asc})
        return _frame_cls()._from_header(result)

    def na_omit(self) -> H2OFrame:
        """Rows with no missing value."""
        mask: Any = None
        for c in self.columns:  # type: ignore[attr-defined]
            term = {"op": "not", "args": [{"op": "isna", "args": [{"cols": [c], "of": _tree(self)}]}]}
            mask = term if mask is None else {"op": "&", "args": [mask, term]}
        return _expr(_tree(self), {"mask": mask}, base=self.frame_id)

    def impute(self, column: int | str = -1, method: str = "mean", combine_method: str = "interpolate",
               by: Any = None, group_by_frame: Any = None, values: Sequence[Any] | None = None) -> list[Any]:
        """Fill missing values in place with the column's mean, median or mode (factors: the mode),
        per group of `by` columns, or with `values`; returns the values used."""
        if group_by_frame is not None:
            raise H2OValueError("group_by_frame is not supported; use by=", var_name="group_by_frame")
        args: dict[str, Any] = {"frame_id": self.frame_id, "method": method, "column": column}
        if by is not None:
            args["by"] = [by] if isinstance(by, str | int) else list(by)
        if values is not None:
            args["values"] = list(values)
        result, _ = connection().call("frames.impute", args)
        self._header = result["frame"]
        return result["values"]

    def insert_missing_values(self, fraction: float = 0.1, seed: int | None = None) -> H2OFrame:
        """Make each cell missing with probability `fraction`, in place; returns the frame."""
        if not 0 <= fraction <= 1:
            raise H2OValueError(f"fraction must be in [0, 1], got {fraction}", var_name="fraction")
        import random

        s = int(seed) if seed is not None else random.randrange(2**31)
        self._replace(_expr({"op": "insert_na", "args": [_tree(self)], "fraction": float(fraction), "seed": s},
                            in_place=self.frame_id))
        return self  # type: ignore[return-value]

    def group_by(self, by: Any) -> GroupBy:
        """h2o-py's GroupBy: fr.group_by("g").count().mean("x").get_frame()."""
        return GroupBy(self, by)

    def getrow(self) -> list[Any]:
        """The values of a one-row frame as a list."""
        if self.nrow != 1:
            raise H2OValueError(f"getrow needs a frame of one row, this one has {self.nrow}", var_name="self")
        return self.as_data_frame().iloc[0].tolist()  # type: ignore[attr-defined]

    def structure(self) -> None:
        """Print each column's name, type and first values (R's str())."""
        head = self.head(10).as_data_frame()
        print(f"H2OFrame: {self.nrow} obs. of {self.ncol} variables:")
        for c, t, d in zip(self.columns, self._header["types"], self._header["domains"]):  # type: ignore[attr-defined]
            kind = {"numeric": "num", "enum": f"Factor w/ {len(d or [])} levels", "string": "chr"}[t]
            print(f" $ {c}: {kind} {' '.join(str(v) for v in head[c].tolist())}")

    # ---- display -------------------------------------------------------------------------------
    def _table(self, rows: int = 10):
        from h2ocloud.two_dim_table import H2OTwoDimTable

        df = self.head(rows).as_data_frame() if self.nrow else None
        return H2OTwoDimTable.from_data_frame(df, f"H2OFrame {self.frame_id}: {self.nrow} rows x {self.ncol} columns") \
            if df is not None else H2OTwoDimTable(f"H2OFrame {self.frame_id}: 0 rows", col_header=self.columns)  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return repr(self._table())

    def show(self) -> None:
        """Print the first rows as aligned text."""
        print(self)

    def _repr_html_(self) -> str:
        return self._table()._repr_html_()


def _aggregate(fn: str, what: str):
    def method(self: GroupBy, col: Any = None, na: str = "all") -> GroupBy:
        return self._add(fn, col, na)
    method.__name__ = fn
    method.__doc__ = (f"Add {what} of column(s) `col` (default: every non-group column). na: 'all' "
                      "(a NA makes the group's value NA), 'rm' (NAs skipped) or 'ignore'.")
    return method


class GroupBy:
    """Aggregations per group, computed by map/reduce; `get_frame()` returns them as a frame with
    the group columns first (sorted), then nrow, mean_x, sum_x, sdev_x, ..."""

    def __init__(self, fr: H2OFrame, by: Any):
        self._fr = fr
        self._by = [by] if isinstance(by, str | int) else list(by)
        self._aggs: list[list[Any]] = []
        self._frame: H2OFrame | None = None

    def _add(self, fn: str, col: Any, na: str) -> GroupBy:
        cols = [None] if col is None and fn == "nrow" else (
            [c for c in self._fr.columns if c not in self._by] if col is None else
            ([col] if isinstance(col, str | int) else list(col)))
        for c in cols:
            self._aggs.append([fn, c if not isinstance(c, int) else self._fr.columns[c], na])
        self._frame = None
        return self

    def count(self, na: str = "all") -> GroupBy:
        """The rows of each group (column nrow)."""
        return self._add("nrow", None, na)

    sum = _aggregate("sum", "sum_x: the sum per group")
    mean = _aggregate("mean", "mean_x: the mean per group")
    sd = _aggregate("sd", "sdev_x: the standard deviation per group")
    var = _aggregate("var", "var_x: the variance per group")
    min = _aggregate("min", "min_x: the smallest value per group")
    max = _aggregate("max", "max_x: the largest value per group")
    ss = _aggregate("ss", "ss_x: the sum of squares per group")

    def get_frame(self) -> H2OFrame:
        if self._frame is None:
            result, _ = connection().call("frames.group_by", {"frame_id": self._fr.frame_id, "by": self._by,
                                                              "aggs": self._aggs})
            self._frame = _frame_cls()._from_header(result)
        return self._frame

    @property
    def frame(self) -> H2OFrame:
        return self.get_frame()


# ---- module level: h2o.export_file, h2o.as_list, h2o.frames, h2o.remove_all ----------------------
def export_file(frame: H2OFrame, path: str, force: bool = False, sep: str = ",", header: bool = True,
                format: str | None = None, **ignored: Any) -> str:
    """Write a frame to `path` on the node, as CSV (the default) or Parquet (format="parquet" or a
    .parquet path); the node writes it chunk by chunk. A relative path is the client's working
    directory made absolute, as import_file does. Returns the path written."""
    import os

    if not isinstance(frame, _frame_cls()):
        raise H2OTypeError("frame must be an H2OFrame", var_name="frame")
    args = {"frame_id": frame.frame_id, "path": os.path.abspath(os.path.expanduser(path)), "force": bool(force),
            "sep": sep, "header": bool(header)}
    if format is not None:
        args["format"] = str(format).lower()
    result, _ = connection().call("frames.export", args)
    return result["path"]


def create_frame(frame_id: str | None = None, rows: int = 10000, cols: int = 10, randomize: bool = True,
                 real_fraction: float | None = None, categorical_fraction: float | None = None,
                 integer_fraction: float | None = None, binary_fraction: float | None = None,
                 time_fraction: float | None = None, string_fraction: float | None = None,
                 value: float = 0, real_range: float = 100, factors: int = 100, integer_range: int = 100,
                 binary_ones_fraction: float = 0.02, missing_fraction: float = 0.01, has_response: bool = False,
                 response_factors: int = 2, positive_response: bool = False, seed: int | None = None,
                 seed_for_column_types: int | None = None) -> H2OFrame:
    """h2o-py's h2o.create_frame: a random frame of ``rows`` x ``cols`` made on the node.

    Columns are real (uniform in +-real_range), categorical (``factors`` levels named
    c<col>.l<level>), integer (+-integer_range), binary (1 with binary_ones_fraction), time and
    string, in the given fractions (none given: 20% categorical, 20% integer, 10% binary, the
    rest real; a fraction left None when others are given gets 0, and real the rest), shuffled
    by seed_for_column_types. Each cell is missing with missing_fraction. randomize=False makes
    every value ``value``. has_response adds a first column "response": a factor of
    response_factors levels, or a real when response_factors is 1 (>= 0 with
    positive_response). The same seed makes the same frame."""
    from h2ocloud.client.jobs import wait_job

    args = {k: v for k, v in dict(
        frame_id=frame_id, rows=int(rows), cols=int(cols), randomize=bool(randomize), real_fraction=real_fraction,
        categorical_fraction=categorical_fraction, integer_fraction=integer_fraction,
        binary_fraction=binary_fraction, time_fraction=time_fraction, string_fraction=string_fraction,
        value=float(value), real_range=float(real_range), factors=int(factors), integer_range=int(integer_range),
        binary_ones_fraction=float(binary_ones_fraction), missing_fraction=float(missing_fraction),
        has_response=bool(has_response), response_factors=int(response_factors),
        positive_response=bool(positive_response), seed=seed, seed_for_column_types=seed_for_column_types,
    ).items() if v is not None}
    result, _ = connection().call("frames.create", args)
    wait_job(result["job"])
    return _frame_cls()._from_id(result["frame_id"])


def as_list(data: H2OFrame, use_pandas: bool = True, header: bool = True) -> Any:
    """The frame's values: a pandas DataFrame (use_pandas), else a list of rows (the first the
    column names when header)."""
    df = data.as_data_frame()
    if use_pandas:
        return df
    rows = df.astype(object).where(df.notna(), None).values.tolist()
    return ([list(df.columns)] + rows) if header else rows


def frames() -> dict[str, Any]:
    """The frames in the cloud: {"frames": [{"frame_id", "nrows", "ncols", "nbytes"}, ...]}."""
    result, _ = connection().call("frames.list")
    return result


def remove_all() -> None:
    """Remove every frame and model from the cloud (h2o-py's h2o.remove_all)."""
    from h2ocloud.client import tempframes
    from h2ocloud.errors import NotFound

    conn = connection()
    models, _ = conn.call("models.list")
    frames_, _ = conn.call("frames.list")
    keys = [m["model_id"] for m in models["models"]] + [f["frame_id"] for f in frames_["frames"]]
    tempframes.forget_all()  # nothing left for dropped handles to free
    for key in keys:
        try:
            conn.call("dkv.remove_user", {"key": key})
        except NotFound:
            pass  # removed meanwhile (another client)
