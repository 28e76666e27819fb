"""Frame expressions evaluated chunk by chunk (in the spirit of H2O's Rapids).

A client operation on frames (`fr["x"] > 5`, `fr.log()`, `fr[mask, cols]`, `cbind`, `ifelse`,
`gsub`, `year`, ...) travels as a JSON expression tree, never as code. The node evaluates it over
each chunk with `eval_chunk`: one table of column operations (`COLUMN_OPS`), each a function of
decoded columns. Evaluated on zero rows, the same tree gives the result's names, types and factor
domains (`schema`), so the caller knows the new frame's layout before any chunk is written.

Tree nodes:
  {"frame": id}                  every column of a frame (rows aligned with the base frame)
  {"cols": [names|ints], "of": t} some columns of t
  {"op": name, "args": [t, ...], ...options}   a column operation from COLUMN_OPS
  number, string, true/false, null              a scalar (null is NA)
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from h2ocloud.frame.chunk import (
    ENUM,
    NUMERIC,
    STRING,
    EncodedColumn,
    encode_column,
    encode_enum_codes,
)

MAX_DEPTH = 200  # deeper trees are refused (a user mistake or a hostile request)


@dataclass
class Col:
    """A decoded column: numeric float64 (NaN = NA; time columns are ms since 1970), enum int32
    codes into `domain` (-1 = NA), or string objects (None = NA). An enum with domain None holds
    level strings and gets its domain from the data (asfactor of numbers or strings)."""

    name: str
    ctype: str
    values: np.ndarray
    domain: list[str] | None = None

    def strings(self) -> np.ndarray:
        """The values as strings (None = NA), whatever the type."""
        if self.ctype == STRING or (self.ctype == ENUM and self.domain is None):
            return self.values
        if self.ctype == ENUM:
            dom = np.asarray(list(self.domain) + [None], dtype=object)
            return dom[np.where(self.values < 0, len(self.domain), self.values)]
        return np.asarray([None if math.isnan(v) else _num_text(v) for v in self.values], dtype=object)

    def numbers(self) -> np.ndarray:
        """The values as float64: numbers as they are; factors by their codes, as H2O does."""
        if self.ctype == NUMERIC:
            return self.values
        if self.ctype == ENUM and self.domain is not None:
            return np.where(self.values < 0, np.nan, self.values.astype(np.float64))
        raise ValueError(f"column {self.name!r} is a {self.ctype} column; this operation needs numbers")

    def encode(self) -> EncodedColumn:
        if self.ctype == ENUM and self.domain is not None:
            return encode_enum_codes(self.values, self.domain)
        return encode_column(self.values, self.ctype)


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


Env = Callable[[str], list[Col]]  # frame id -> its columns for the chunk being evaluated


@dataclass
class Ctx:
    """What an operation may read besides its arguments: the chunk's rows."""

    frame: Env
    row_offset: int
    nrows: int


# ---------------------------------------------------------------------------- evaluation

def evaluate(tree: Any, ctx: Ctx, depth: int = 0) -> list[Col] | Any:
    """Columns (or a scalar) of `tree` for the rows of one chunk."""
    if depth > MAX_DEPTH:
        raise ValueError(f"expression deeper than {MAX_DEPTH} levels")
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if isinstance(tree, list):
        return [evaluate(t, ctx, depth + 1) for t in tree]
    if not isinstance(tree, dict):
        raise ValueError(f"bad expression node {tree!r}")
    if "frame" in tree:
        return ctx.frame(str(tree["frame"]))
    if "cols" in tree:
        cols = evaluate(tree["of"], ctx, depth + 1)
        return [cols[_col_index(cols, c)] for c in tree["cols"]]
    name = tree.get("op")
    fn = COLUMN_OPS.get(name)
    if fn is None:
        raise ValueError(f"unknown frame operation {name!r}")
    args = [evaluate(a, ctx, depth + 1) for a in tree.get("args", [])]
    opts = {k: v for k, v in tree.items() if k not in ("op", "args")}
    return fn(ctx, *args, **opts)


def _col_index(cols: list[Col], key: Any) -> int:
    names = [c.name for c in cols]
    if isinstance(key, int) and not isinstance(key, bool):
        if not -len(cols) <= key < len(cols):
            raise ValueError(f"column index {key} out of range (the frame has {len(cols)} columns)")
        return key % len(cols)
    if key not in names:
        raise ValueError(f"column {key!r} does not exist (columns: {', '.join(names[:20])})")
    return names.index(key)


def as_columns(v: Any, ctx: Ctx) -> list[Col]:
    """A result as columns (a scalar becomes one constant column)."""
    if isinstance(v, list):
        return v
    if v is None:
        return [Col("C1", NUMERIC, np.full(ctx.nrows, np.nan))]
    if isinstance(v, str):
        return [Col("C1", STRING, np.full(ctx.nrows, v, dtype=object))]
    return [Col("C1", NUMERIC, np.full(ctx.nrows, float(v)))]


def row_mask(v: Any, ctx: Ctx) -> np.ndarray:
    """Rows a one-column condition keeps: non-zero and not NA (h2o-py's fr[mask])."""
    cols = as_columns(v, ctx)
    if len(cols) != 1:
        raise ValueError(f"a row mask must be one column, got {len(cols)}")
    x = cols[0].numbers()
    return ~np.isnan(x) & (x != 0)


# ---------------------------------------------------------------------------- operations

COLUMN_OPS: dict[str, Callable[..., Any]] = {}


def column_op(*names: str):
    """Register fn under names; a function serving several names gets its name as `op`."""
    def register(fn):
        for n in names:
            COLUMN_OPS[n] = functools.partial(fn, op=n) if len(names) > 1 else fn
        return fn
    return register


def _pairs(a: Any, b: Any, ctx: Ctx) -> list[tuple[Col | Any, Col | Any, str]]:
    """Broadcast two operands: frame with frame (same width, or one of width 1), or a scalar."""
    if not isinstance(a, list) and not isinstance(b, list):
        a = as_columns(a, ctx)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b) and 1 not in (len(a), len(b)):
            raise ValueError(f"cannot combine a frame of {len(a)} columns with one of {len(b)}")
        n = max(len(a), len(b))
        return [(a[i % len(a)], b[i % len(b)], (a if len(a) == n else b)[i].name) for i in range(n)]
    if isinstance(a, list):
        return [(c, b, c.name) for c in a]
    return [(a, c, c.name) for c in b]


def _num(x: Col | Any) -> np.ndarray | float:
    if isinstance(x, Col):
        return x.numbers()
    if x is None:
        return np.nan
    if isinstance(x, str):
        raise ValueError(f"cannot do arithmetic with the string {x!r}")
    return float(x)


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
    "//": np.floor_divide, "%": np.mod, "**": np.power,
}


@column_op(*_ARITH)
def _arith(ctx: Ctx, a: Any, b: Any, op: str = "") -> list[Col]:
    fn = _ARITH[op]
    out = []
    with np.errstate(all="ignore"):
        for x, y, name in _pairs(a, b, ctx):
            out.append(Col(name, NUMERIC, np.asarray(fn(_num(x), _num(y)), np.float64) * np.ones(ctx.nrows)))
    return out


def _compare_values(x: Col | Any, y: Col | Any) -> tuple[Any, Any, Any]:
    """Operands as comparable arrays plus the NA mask: strings compare as strings (a factor's
    levels with a string or another factor), everything else as numbers."""
    def is_text(v):
        return isinstance(v, str) or (isinstance(v, Col) and v.ctype != NUMERIC)

    if is_text(x) or is_text(y):
        xs = x.strings() if isinstance(x, Col) else x
        ys = y.strings() if isinstance(y, Col) else y
        na = (_is_none(xs) if isinstance(xs, np.ndarray) else (xs is None)) | \
             (_is_none(ys) if isinstance(ys, np.ndarray) else (ys is None))
        xs = np.where(_is_none(xs), "", xs) if isinstance(xs, np.ndarray) else xs
        ys = np.where(_is_none(ys), "", ys) if isinstance(ys, np.ndarray) else ys
        return np.asarray(xs, dtype=object), np.asarray(ys, dtype=object), na
    xn, yn = _num(x), _num(y)
    return xn, yn, np.isnan(xn) | np.isnan(yn)


def _is_none(a: np.ndarray) -> np.ndarray:
    return np.array([v is None for v in a], dtype=bool)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}


@column_op(*_COMPARE)
def _compare(ctx: Ctx, a: Any, b: Any, op: str = "") -> list[Col]:
    out = []
    for x, y, name in _pairs(a, b, ctx):
        xs, ys, na = _compare_values(x, y)
        with np.errstate(invalid="ignore"):
            r = np.asarray(_COMPARE[op](xs, ys), dtype=np.float64) * np.ones(ctx.nrows)
        out.append(Col(name, NUMERIC, np.where(na, np.nan, r)))
    return out


@column_op("&", "|")
def _logic(ctx: Ctx, a: Any, b: Any, op: str = "") -> list[Col]:
    """Three-valued logic, as R and H2O: NA & FALSE is FALSE, NA | TRUE is TRUE."""
    out = []
    for x, y, name in _pairs(a, b, ctx):
        xn, yn = _num(x) * np.ones(ctx.nrows), _num(y) * np.ones(ctx.nrows)
        xt, yt = (xn != 0) & ~np.isnan(xn), (yn != 0) & ~np.isnan(yn)
        xf, yf = xn == 0, yn == 0
        if op == "&":
            r = np.where(xf | yf, 0.0, np.where(xt & yt, 1.0, np.nan))
        else:
            r = np.where(xt | yt, 1.0, np.where(xf & yf, 0.0, np.nan))
        out.append(Col(name, NUMERIC, r))
    return out


def _unary(fn: Callable[[np.ndarray], np.ndarray]):
    def apply(ctx: Ctx, a: Any, **_: Any) -> list[Col]:
        with np.errstate(all="ignore"):
            return [Col(c.name, NUMERIC, np.asarray(fn(c.numbers()), np.float64)) for c in as_columns(a, ctx)]
    return apply


for _name, _fn in {
    "abs": np.abs, "log": np.log, "log10": np.log10, "log2": np.log2, "log1p": np.log1p,
    "exp": np.exp, "expm1": np.expm1, "sqrt": np.sqrt, "floor": np.floor, "ceil": np.ceil,
    "sign": np.sign, "trunc": np.trunc, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "neg": np.negative,
}.items():
    COLUMN_OPS[_name] = _unary(_fn)


@column_op("not")
def _not(ctx: Ctx, a: Any) -> list[Col]:
    return [Col(c.name, NUMERIC, np.where(np.isnan(x := c.numbers()), np.nan, (x == 0).astype(np.float64)))
            for c in as_columns(a, ctx)]


@column_op("isna")
def _isna(ctx: Ctx, a: Any) -> list[Col]:
    out = []
    for c in as_columns(a, ctx):
        if c.ctype == NUMERIC:
            na = np.isnan(c.values)
        elif c.ctype == ENUM and c.domain is not None:
            na = c.values < 0
        else:
            na = _is_none(c.values)
        out.append(Col(c.name, NUMERIC, na.astype(np.float64)))
    return out


@column_op("round")
def _round(ctx: Ctx, a: Any, digits: int = 0) -> list[Col]:
    # H2O rounds half to even, as R's round and numpy's do
    return [Col(c.name, NUMERIC, np.round(c.numbers(), int(digits))) for c in as_columns(a, ctx)]


@column_op("signif")
def _signif(ctx: Ctx, a: Any, digits: int = 6) -> list[Col]:
    out = []
    for c in as_columns(a, ctx):
        x = c.numbers()
        with np.errstate(all="ignore"):
            mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
            scale = 10.0 ** (int(digits) - 1 - mag)
            out.append(Col(c.name, NUMERIC, np.where(x == 0, 0.0, np.round(x * scale) / scale)))
    return out


@column_op("ifelse")
def _ifelse(ctx: Ctx, test: Any, yes: Any, no: Any) -> list[Col]:
    """Element-wise choice; a NA test gives NA. Both branches factors or strings keep their text."""
    tcols = as_columns(test, ctx)
    out = []
    for i, t in enumerate(tcols):
        x = t.numbers()
        na, pick = np.isnan(x), (x != 0)
        y = yes[i % len(yes)] if isinstance(yes, list) else yes
        n = no[i % len(no)] if isinstance(no, list) else no
        textual = any(isinstance(v, str) or (isinstance(v, Col) and v.ctype != NUMERIC) for v in (y, n))
        if textual:
            ys = y.strings() if isinstance(y, Col) else np.full(ctx.nrows, y, dtype=object)
            ns = n.strings() if isinstance(n, Col) else np.full(ctx.nrows, n, dtype=object)
            v = np.where(pick, ys, ns).astype(object)
            v[na] = None
            out.append(Col(t.name, ENUM, v, None))
        else:
            v = np.where(pick, _num(y) * np.ones(ctx.nrows), _num(n) * np.ones(ctx.nrows))
            out.append(Col(t.name, NUMERIC, np.where(na, np.nan, v)))
    return out


def _recode(c: Col, domain: list[str]) -> np.ndarray:
    """A factor's codes into a larger `domain` holding all its levels (-1 stays NA)."""
    where = {d: i for i, d in enumerate(domain)}
    table = np.asarray([where[d] for d in c.domain] + [-1], np.int32)
    return table[np.where(c.values < 0, len(c.domain), c.values)]


@column_op("coalesce")
def _coalesce(ctx: Ctx, a: Any, b: Any) -> list[Col]:
    """Each value of `a`, or `b`'s where `a` is NA (merge's key columns: x's key, else y's).
    Factors get the union of both domains, sorted as H2O sorts levels."""
    out = []
    for x, y in zip(as_columns(a, ctx), as_columns(b, ctx)):
        if x.ctype != y.ctype:
            raise ValueError(f"cannot combine {x.ctype} column {x.name!r} with {y.ctype} column {y.name!r}")
        if x.ctype == NUMERIC:
            out.append(Col(x.name, NUMERIC, np.where(np.isnan(x.values), y.values, x.values)))
        elif x.ctype == ENUM and x.domain is not None and y.domain is not None:
            dom = sorted(set(x.domain) | set(y.domain))
            xc, yc = _recode(x, dom), _recode(y, dom)
            out.append(Col(x.name, ENUM, np.where(xc < 0, yc, xc).astype(np.int32), dom))
        else:
            xs, ys = x.strings(), y.strings()
            out.append(Col(x.name, x.ctype, np.where(_is_none(xs), ys, xs).astype(object), None))
    return out


@column_op("cut")
def _cut(ctx: Ctx, a: Any, breaks: Sequence[float] = (), labels: Sequence[str] | None = None,
         include_lowest: bool = False, right: bool = True, dig_lab: int = 3) -> list[Col]:
    """A factor of which interval of `breaks` each value falls in (R's and h2o-py's cut)."""
    br = np.asarray(sorted(float(b) for b in breaks))
    if br.size < 2:
        raise ValueError("breaks must hold at least two numbers")
    k = br.size - 1
    if labels is None:
        def fmt(v):
            return f"{v:.{int(dig_lab)}g}"
        labels = [f"({fmt(br[i])},{fmt(br[i + 1])}]" if right else f"[{fmt(br[i])},{fmt(br[i + 1])})"
                  for i in range(k)]
    labels = [str(x) for x in labels]
    if len(labels) != k:
        raise ValueError(f"labels must name {k} intervals, got {len(labels)}")
    out = []
    for c in as_columns(a, ctx):
        x = c.numbers()
        idx = np.searchsorted(br, x, side="left" if right else "right") - 1
        if include_lowest:
            idx = np.where(x == (br[0] if right else br[-1]), 0 if right else k - 1, idx)
        idx = np.where(np.isnan(x) | (idx < 0) | (idx >= k), -1, idx).astype(np.int32)
        out.append(Col(c.name, ENUM, idx, labels))
    return out


# ---- strings: on string and factor columns (a factor's levels change, its codes do not)
def _string_map(fn: Callable[[pa.Array], pa.Array]):
    def apply(ctx: Ctx, a: Any, **opts: Any) -> list[Col]:
        out = []
        for c in as_columns(a, ctx):
            if c.ctype == NUMERIC:
                raise ValueError(f"column {c.name!r} is numeric; string functions need a string or factor column")
            if c.ctype == ENUM and c.domain is not None:
                new = fn(pa.array(c.domain, pa.string()), **opts).to_pylist()
                out.append(_relevel(c, new))
            else:
                out.append(Col(c.name, c.ctype, np.asarray(fn(pa.array(list(c.values), pa.string()), **opts)
                                                           .to_pylist(), dtype=object), None))
        return out
    return apply


def _relevel(c: Col, new_levels: list[str]) -> Col:
    """A factor whose level names changed (several may merge into one): codes remapped."""
    dom = sorted(set(new_levels))
    pos = {lev: i for i, lev in enumerate(dom)}
    lut = np.asarray([pos[lev] for lev in new_levels] + [-1], np.int32)
    return Col(c.name, ENUM, lut[np.where(c.values < 0, len(new_levels), c.values)], dom)


def _gsub(arr: pa.Array, pattern: str = "", replacement: str = "", ignore_case: bool = False,
          first: bool = False) -> pa.Array:
    rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    return pa.array([None if s is None else rx.sub(replacement, s, count=1 if first else 0)
                     for s in arr.to_pylist()], pa.string())


COLUMN_OPS["toupper"] = _string_map(lambda arr: pc.utf8_upper(arr))
COLUMN_OPS["tolower"] = _string_map(lambda arr: pc.utf8_lower(arr))
COLUMN_OPS["trim"] = _string_map(lambda arr: pc.utf8_trim_whitespace(arr))
COLUMN_OPS["gsub"] = _string_map(_gsub)
COLUMN_OPS["sub"] = _string_map(lambda arr, **o: _gsub(arr, first=True, **o))


@column_op("nchar")
def _nchar(ctx: Ctx, a: Any) -> list[Col]:
    return [Col(c.name, NUMERIC, np.asarray([np.nan if s is None else len(s) for s in c.strings()], np.float64))
            for c in as_columns(a, ctx)]


# ---- conversions
@column_op("asnumeric")
def _asnumeric(ctx: Ctx, a: Any) -> list[Col]:
    """Numbers: a factor of numbers by its level values (else its codes), strings parsed."""
    out = []
    for c in as_columns(a, ctx):
        if c.ctype == NUMERIC:
            out.append(c)
        elif c.ctype == ENUM and c.domain is not None:
            try:
                lv = np.asarray([float(d) for d in c.domain] + [np.nan])
            except ValueError:
                lv = np.asarray(list(range(len(c.domain))) + [np.nan], np.float64)
            out.append(Col(c.name, NUMERIC, lv[np.where(c.values < 0, len(c.domain), c.values)]))
        else:
            out.append(Col(c.name, NUMERIC, np.asarray([_to_float(s) for s in c.values], np.float64)))
    return out


def _to_float(s: Any) -> float:
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


@column_op("ascharacter")
def _ascharacter(ctx: Ctx, a: Any) -> list[Col]:
    return [Col(c.name, STRING, c.strings()) for c in as_columns(a, ctx)]


@column_op("asfactor")
def _asfactor(ctx: Ctx, a: Any) -> list[Col]:
    out = []
    for c in as_columns(a, ctx):
        out.append(c if c.ctype == ENUM else Col(c.name, ENUM, c.strings(), None))
    return out


# ---- time parts of time columns (ms since 1970, UTC as H2O stores them)
def _time_part(part: str):
    def apply(ctx: Ctx, a: Any) -> list[Col]:
        out = []
        for c in as_columns(a, ctx):
            ms = c.numbers()
            ok = ~np.isnan(ms)
            t = np.zeros(ms.shape, "datetime64[ms]")
            t[ok] = ms[ok].astype(np.int64).astype("datetime64[ms]")
            days = t.astype("datetime64[D]")
            if part == "year":
                v = t.astype("datetime64[Y]").astype(np.int64) + 1970
            elif part == "month":
                v = t.astype("datetime64[M]").astype(np.int64) % 12 + 1
            elif part == "day":
                v = (days - t.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
            elif part == "dayOfWeek":  # 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday
                v = (days.astype(np.int64) + 3) % 7
            elif part == "week":  # ISO week number
                dow = (days.astype(np.int64) + 3) % 7
                thursday = days + (3 - dow).astype("timedelta64[D]")
                start = thursday.astype("datetime64[Y]").astype("datetime64[D]")
                v = (thursday - start).astype(np.int64) // 7 + 1
            else:
                unit = {"hour": ("h", 24), "minute": ("m", 60), "second": ("s", 60), "millis": ("ms", 1000)}[part]
                v = t.astype(f"datetime64[{unit[0]}]").astype(np.int64) % unit[1]
            out.append(Col(c.name, NUMERIC, np.where(ok, v.astype(np.float64), np.nan)))
        return out
    return apply


for _part in ("year", "month", "day", "hour", "minute", "second", "millis", "dayOfWeek", "week"):
    COLUMN_OPS[_part] = _time_part(_part)


# ---- shape within a row: columns side by side, names
@column_op("cbind")
def _cbind(ctx: Ctx, *frames: Any) -> list[Col]:
    """Columns of every frame side by side; a repeated name gets H2O's suffix (x, x0, x1, ...)."""
    out: list[Col] = []
    seen: set[str] = set()
    for f in frames:
        for c in as_columns(f, ctx):
            name, k = c.name, 0
            while name in seen:
                name = f"{c.name}{k}"
                k += 1
            seen.add(name)
            out.append(Col(name, c.ctype, c.values, c.domain))
    return out


@column_op("rename")
def _rename(ctx: Ctx, a: Any, names: Sequence[str] = ()) -> list[Col]:
    cols = as_columns(a, ctx)
    if len(names) != len(cols):
        raise ValueError(f"{len(names)} names for {len(cols)} columns")
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be unique, got {list(names)}")
    return [Col(str(n), c.ctype, c.values, c.domain) for n, c in zip(names, cols)]


@column_op("drop")
def _drop(ctx: Ctx, a: Any, columns: Sequence[Any] = ()) -> list[Col]:
    cols = as_columns(a, ctx)
    gone = {_col_index(cols, c) for c in columns}
    if len(gone) == len(cols):
        raise ValueError("cannot drop every column of a frame")
    return [c for i, c in enumerate(cols) if i not in gone]


# ---- randomness that does not depend on where chunks live (seeded by the global row)
@column_op("runif")
def _runif(ctx: Ctx, a: Any = None, seed: int = -1) -> list[Col]:
    from h2ocloud.frame.summary import row_uniform

    return [Col("rnd", NUMERIC, row_uniform(int(seed), ctx.row_offset, ctx.nrows))]


@column_op("insert_na")
def _insert_na(ctx: Ctx, a: Any, fraction: float = 0.1, seed: int = 0) -> list[Col]:
    """Each cell becomes NA with probability `fraction` (h2o-py's insert_missing_values)."""
    from h2ocloud.frame.summary import row_uniform

    out = []
    for j, c in enumerate(as_columns(a, ctx)):
        drop = row_uniform(int(seed) * 1_000_003 + j, ctx.row_offset, ctx.nrows) < float(fraction)
        if c.ctype == NUMERIC:
            v = np.where(drop, np.nan, c.values)
        elif c.ctype == ENUM and c.domain is not None:
            v = np.where(drop, -1, c.values).astype(np.int32)
        else:
            v = c.values.copy()
            v[drop] = None
        out.append(Col(c.name, c.ctype, v, c.domain))
    return out


@column_op("fillna_values")
def _fillna_values(ctx: Ctx, a: Any, values: Sequence[Any] = ()) -> list[Col]:
    """NAs of column j replaced by values[j] (a number, or a level of a factor); None leaves it."""
    out = []
    for c, v in zip(as_columns(a, ctx), values):
        out.append(_fill(c, np.full(ctx.nrows, v, dtype=object) if v is not None else None))
    return out


def _fill(c: Col, fill: np.ndarray | None) -> Col:
    if fill is None:
        return c
    if c.ctype == NUMERIC:
        f = np.asarray([np.nan if v is None else float(v) for v in fill], np.float64)
        return Col(c.name, NUMERIC, np.where(np.isnan(c.values), f, c.values))
    if c.ctype == ENUM and c.domain is not None:
        pos = {lev: i for i, lev in enumerate(c.domain)}
        f = np.asarray([pos.get(str(v), -1) if v is not None else -1 for v in fill], np.int32)
        return Col(c.name, ENUM, np.where(c.values < 0, f, c.values).astype(np.int32), c.domain)
    v = c.values.copy()
    na = _is_none(v)
    v[na] = fill[na]
    return Col(c.name, c.ctype, v, c.domain)


@column_op("fillna_groups")
def _fillna_groups(ctx: Ctx, a: Any, by: Any = None, column: int = 0, table: Sequence[Sequence[Any]] = ()) -> list[Col]:
    """Column `column` of `a` with NAs replaced by the value of its row's group: `table` rows
    are (group key strings..., value), `by` the group columns."""
    cols = list(as_columns(a, ctx))
    keys = [c.strings() for c in as_columns(by, ctx)]
    lookup = {tuple(r[:-1]): r[-1] for r in table}
    fill = np.asarray([lookup.get(tuple(k[i] for k in keys)) for i in range(ctx.nrows)], dtype=object)
    cols[column] = _fill(cols[column], fill)
    return cols


# ---------------------------------------------------------------------------- schema

def schema(tree: Any, empty: Env) -> list[Col]:
    """The result's columns evaluated on zero rows: names, types and known factor domains."""
    return as_columns(evaluate(tree, Ctx(empty, 0, 0)), Ctx(empty, 0, 0))


def frames_of(tree: Any, out: list[str] | None = None) -> list[str]:
    """Ids of the frames a tree reads, in first-use order."""
    out = [] if out is None else out
    if isinstance(tree, dict):
        if "frame" in tree:
            if tree["frame"] not in out:
                out.append(str(tree["frame"]))
        for v in tree.values():
            frames_of(v, out)
    elif isinstance(tree, list):
        for v in tree:
            frames_of(v, out)
    return out
