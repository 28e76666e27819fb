"""Client operations on frames' contents: expressions, row selection, reductions, shape, export.

Every operation here is a map/reduce over the chunks (h2ocloud.node.tasks.frame_expr); the client
never holds the frame. Results are new frames, or small values (quantiles, a covariance matrix).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from h2ocloud.frame.chunk import ENUM, NUMERIC
from h2ocloud.node.ops.frames import _dest, header_json
from h2ocloud.node.tasks import frame_expr as fx
from h2ocloud.node.tasks import frames as fr
from h2ocloud.node.tasks import roots
from h2ocloud.node.tasks.mrtask import run_task

# A column selection as callers send it: a name, an index, or a list of them (None: all).
Columns = str | int | list[str | int] | None


def _columns(h, cols: Any, what: str = "columns") -> list[str]:
    if cols is None:
        return list(h.names)
    if isinstance(cols, str | int):
        cols = [cols]
    out = []
    for c in cols:
        if isinstance(c, int) and not isinstance(c, bool):
            if not -h.ncols <= c < h.ncols:
                raise ValueError(f"{what}: column index {c} out of range (the frame has {h.ncols} columns)")
            c = h.names[c]
        out.append(c)
    return fr.check_columns(h, out, what)


@dataclass(frozen=True)
class ExprArgs:
    tree: Any  # an expression tree (h2ocloud.frame.expr checks it node by node)
    rows: dict[str, Any] | None = None  # {"mask": tree} | {"range": [start, stop]} | {"index": [rows]}
    dest: str | None = None
    in_place: str | None = None  # impute / insert_missing_values change this frame itself
    base: str | None = None  # the frame the result's row layout follows


async def expr(node, args: ExprArgs, blobs: list[bytes]) -> dict[str, Any]:
    """A new frame from an expression tree (h2ocloud.frame.expr) and an optional row selection
    ({"mask": tree} | {"range": [start, stop]} | {"index": [rows]})."""
    if args.tree is None:
        raise ValueError("tree is required")
    dest = fr.check_frame_id(args.in_place) if args.in_place else _dest(args.dest, "expr")
    h = await fx.expr_frame(node, args.tree, args.rows or None, dest, base_id=args.base)
    return header_json(h)


@dataclass(frozen=True)
class RbindArgs:
    frame_ids: list[str]
    dest: str | None = None


async def rbind(node, args: RbindArgs, blobs: list[bytes]) -> dict[str, Any]:
    if len(args.frame_ids) < 2:
        raise ValueError("frame_ids must list at least two frames")
    headers = [await fr.get_header(node, i) for i in args.frame_ids]
    return header_json(await fx.rbind_frames(node, headers, _dest(args.dest, "rbind")))


@dataclass(frozen=True)
class QuantileArgs:
    frame_id: str
    probs: list[float] | tuple[float, ...] = (0.5,)  # a tuple default: the dataclass is frozen
    columns: Columns = None


async def quantile(node, args: QuantileArgs, blobs: list[bytes]) -> dict[str, Any]:
    h = await fr.get_header(node, args.frame_id)
    probs = list(args.probs)
    if not probs or not all(0 <= p <= 1 for p in probs):
        raise ValueError(f"prob must be a list of numbers in [0, 1], got {probs!r}")
    cols = _columns(h, args.columns)
    q = await fx.quantiles(node, h, cols, probs)
    return {"probs": probs, "quantiles": fr.json_clean(q)}


_AGGS = ("nrow", "mean", "sum", "sd", "var", "min", "max", "ss")


@dataclass(frozen=True)
class GroupByArgs:
    frame_id: str
    by: Columns
    aggs: list[list[Any]] | None = None  # [function, column, na] each; count of rows when absent
    dest: str | None = None


async def group_by(node, args: GroupByArgs, blobs: list[bytes]) -> dict[str, Any]:
    h = await fr.get_header(node, args.frame_id)
    by = _columns(h, args.by, "by")
    if not by:
        raise ValueError("by must name at least one column")
    aggs = []
    for a in args.aggs or []:
        fn, col, na = (list(a) + [None, "all"])[:3]
        if fn not in _AGGS:
            raise ValueError(f"unknown aggregate {fn!r}; expected one of {_AGGS}")
        if na not in ("all", "rm", "ignore"):
            raise ValueError(f"na must be 'all', 'rm' or 'ignore', got {na!r}")
        if col is not None:
            (col,) = _columns(h, [col], "aggregate column")
            if fn != "nrow" and h.types[h.col_index(col)] not in (NUMERIC, ENUM):
                raise ValueError(f"cannot take the {fn} of string column {col!r}")
        aggs.append((fn, col, na))
    if not aggs:
        aggs = [("nrow", None, "all")]
    result = await fx.group_by(node, h, by, aggs)
    types = {b: ("enum" if h.types[h.col_index(b)] != NUMERIC else "numeric") for b in by}
    out = await fx.small_frame(node, _dest(args.dest, "groupby"), result, types)
    return header_json(out)


@dataclass(frozen=True)
class TableArgs:
    frame_id: str
    columns: Columns = None
    unique: bool = False  # the levels only (h2o-py's unique())
    dest: str | None = None


async def table(node, args: TableArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Counts of each level (or value) of one or two columns, as a frame (h2o-py's table())."""
    h = await fr.get_header(node, args.frame_id)
    cols = _columns(h, args.columns)
    if not 1 <= len(cols) <= 2:
        raise ValueError(f"table takes one or two columns, got {len(cols)}")
    counts = await run_task(node, "frame.table", {"columns": cols}, h.frame_id, h) or {}
    numeric = [h.types[h.col_index(c)] == NUMERIC for c in cols]

    def key(k):
        return [float(v) if n else v for v, n in zip(k, numeric)]

    keys = sorted(counts, key=key)
    result: dict[str, list] = {c: [key(k)[i] for k in keys] for i, c in enumerate(cols)}
    result["Count"] = [counts[k] for k in keys]
    if args.unique:
        result = {cols[0]: result[cols[0]]}
    types = {c: ("numeric" if n else "enum") for c, n in zip(cols, numeric)}
    return header_json(await fx.small_frame(node, _dest(args.dest, "table"), result, types))


@dataclass(frozen=True)
class CovArgs:
    frame_id: str
    columns: Columns = None
    cor: bool = False  # correlation rather than covariance
    use: str = "everything"  # or "complete.obs" / "all.obs"


async def cov(node, args: CovArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Covariance or correlation matrix of numeric columns, over the rows complete in all of
    them (use="complete.obs"); with use="everything" a column pair with a NA gives NaN."""
    h = await fr.get_header(node, args.frame_id)
    cols = _columns(h, args.columns)
    for c in cols:
        if h.types[h.col_index(c)] == "string":
            raise ValueError(f"column {c!r} is a string column; var/cor need numbers")
    r = await run_task(node, "frame.cov", {"columns": cols}, h.frame_id, h)
    n, s, xx = r["n"], r["s"], r["xx"]
    with np.errstate(all="ignore"):
        m = (xx - np.outer(s, s) / n) / (n - 1) if n > 1 else np.full(xx.shape, np.nan)
        if args.cor:
            d = np.sqrt(np.diag(m))
            m = m / np.outer(d, d)
    if args.use == "everything" and r["na"]:
        m = np.full(m.shape, np.nan)
    return {"columns": cols, "matrix": fr.json_clean(m.tolist())}


@dataclass(frozen=True)
class SortArgs:
    frame_id: str
    by: Columns
    ascending: bool | list[bool] = True  # one for all, or one per by column
    dest: str | None = None


async def sort(node, args: SortArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Rows ordered by the `by` columns (NAs first, as H2O puts them), stable. The coordinating
    node reads only the key columns to order the rows; each node then gathers its chunks' rows."""
    h = await fr.get_header(node, args.frame_id)
    by = _columns(h, args.by, "by")
    asc = [args.ascending] * len(by) if isinstance(args.ascending, bool) else list(args.ascending)
    if len(asc) != len(by):
        raise ValueError(f"ascending must be one bool or one per by column ({len(by)}), got {len(asc)}")
    keys_h = await fx.key_columns(node, h, by)
    order = []
    for c, a in zip(reversed(keys_h), reversed(asc)):
        x = c.numbers() if c.ctype != "string" else None
        if x is None:
            ranks = {v: i for i, v in enumerate(sorted({v for v in c.values if v is not None}))}
            x = np.asarray([np.nan if v is None else ranks[v] for v in c.values], np.float64)
        key = np.where(np.isnan(x), -np.inf, x if a else -x)
        order.append(key)
    perm = np.lexsort(order) if order else np.arange(h.nrows)
    dest = _dest(args.dest, "sort")
    out = await fx.expr_frame(node, {"frame": h.frame_id}, {"perm": perm.tolist()}, dest)
    return header_json(out)




@dataclass(frozen=True)
class MergeArgs:
    frame_id: str  # x
    other: str  # y
    all_x: bool = False  # keep x's rows without a match
    all_y: bool = False  # keep y's rows without a match
    by_x: Columns = None  # x's key columns (default: the columns both frames have)
    by_y: Columns = None  # y's key columns (default: by_x)
    method: Literal["auto", "radix", "hash"] = "auto"
    dest: str | None = None


async def merge(node, args: MergeArgs, blobs: list[bytes]) -> dict[str, Any]:
    """h2o-py's merge: the rows of x and y whose key columns (by_x, by_y; by default the
    columns both have) hold the same values, every pairing of them; all_x / all_y keep the
    rows of x / y without a match, the other side's columns NA. NA keys match nothing, as in
    H2O. The result has the keys, x's other columns, then y's (a repeated name gets cbind's
    suffix), ordered by the keys as H2O's merge orders them. ``method`` names H2O's algorithms
    (auto, radix, hash); one join here gives their one result. As sort does, the coordinating
    node reads only the key columns to pair the rows; each node then gathers its share of the
    result's rows from wherever they live."""
    x = await fr.get_header(node, args.frame_id)
    y = await fr.get_header(node, args.other)
    by_x = _columns(x, args.by_x, "by_x") if args.by_x is not None else None
    by_y = _columns(y, args.by_y, "by_y") if args.by_y is not None else None
    if by_x is None and by_y is None:
        by_x = by_y = [c for c in x.names if c in y.names]
        if not by_x:
            raise ValueError("by_x: the frames have no column name in common; name the key columns with by_x and by_y")
    by_x = by_x if by_x is not None else _columns(x, by_y, "by_x")
    by_y = by_y if by_y is not None else _columns(y, by_x, "by_y")
    if len(by_x) != len(by_y) or not by_x:
        raise ValueError(f"by_x and by_y must name as many key columns (got {len(by_x)} and {len(by_y)})")
    for bx, by in zip(by_x, by_y):
        tx, ty = x.types[x.col_index(bx)], y.types[y.col_index(by)]
        if tx != ty:
            raise ValueError(f"by_y: key column {by!r} is {ty} but {bx!r} of x is {tx}")
    copy = None
    if y.frame_id == x.frame_id:  # a self-merge gathers the frame twice: the second from a copy
        copy = fr.new_frame_id("merge_y")
        (y,) = await fr.derive(node, x, "select", [copy], x.names, x.types, x.domains, columns=x.names)
    try:
        kx, ky = await fx.key_columns(node, x, by_x), await fx.key_columns(node, y, by_y)
        left, right = await node.run_in_thread(_merge_pairs, kx, ky, args.all_x, args.all_y)
        xs, ys = {"frame": x.frame_id}, {"frame": y.frame_id}
        parts: list[Any] = [{"op": "coalesce", "args": [{"cols": [bx], "of": xs}, {"cols": [by], "of": ys}]}
                            for bx, by in zip(by_x, by_y)]
        rest_x, rest_y = [c for c in x.names if c not in by_x], [c for c in y.names if c not in by_y]
        parts += [{"cols": rest_x, "of": xs}] if rest_x else []
        parts += [{"cols": rest_y, "of": ys}] if rest_y else []
        rows = {"gather": {x.frame_id: left, y.frame_id: right}, "n": len(left)}
        out = await fx.expr_frame(node, {"op": "cbind", "args": parts}, rows, _dest(args.dest, "merge"),
                                  base_id=x.frame_id)
    finally:
        if copy is not None:
            await fr.remove_frame(node, copy)
    return header_json(out)


def _merge_pairs(key_x: list, key_y: list, all_x: bool, all_y: bool):
    """(x row, y row) of each result row, -1 for the side without a match, in key order."""
    import pandas as pd

    def keys(cols, row_name):
        df = pd.DataFrame({f"k{j}": c.values for j, c in enumerate(cols)})
        df[row_name] = np.arange(len(df), dtype=np.int64)
        return df

    kx, ky = keys(key_x, "__x"), keys(key_y, "__y")
    on = [f"k{j}" for j in range(len(key_x))]
    ok_x, ok_y = kx[on].notna().all(axis=1), ky[on].notna().all(axis=1)
    how = "outer" if all_x and all_y else "left" if all_x else "right" if all_y else "inner"
    parts = [kx[ok_x].merge(ky[ok_y], on=on, how=how, sort=False)]
    if all_x:
        parts.append(kx[~ok_x])
    if all_y:
        parts.append(ky[~ok_y])
    m = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    m = m.sort_values(on + ["__x", "__y"], na_position="first", kind="stable")
    return (m["__x"].fillna(-1).astype(np.int64).tolist(), m["__y"].fillna(-1).astype(np.int64).tolist())


@dataclass(frozen=True)
class ImputeArgs:
    frame_id: str
    method: Literal["mean", "median", "mode"] = "mean"
    column: Columns = -1  # -1 (or None): every column
    by: Columns = None  # group columns
    values: list[Any] | None = None  # given fill values, one per column of the frame


async def impute(node, args: ImputeArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Fill NAs in place with each column's mean, median or mode (by groups with `by`), or
    with given values; returns the values used, as h2o-py does."""
    h = await fr.get_header(node, args.frame_id)
    method = args.method
    column = args.column
    cols = list(h.names) if column in (-1, None) else _columns(h, column, "column")
    by = _columns(h, args.by, "by") if args.by else []
    cols = [c for c in cols if c not in by and h.types[h.col_index(c)] != "string"]
    given = args.values
    tree: Any = {"frame": h.frame_id}
    used: list[Any] = []
    if by:
        for c in cols:
            j = h.col_index(c)
            if h.types[j] == ENUM and method != "mode":
                raise ValueError(f"impute by groups: the {method} of factor column {c!r} is undefined; use method='mode'")
            table = await _group_values(node, h, by, c, method)
            tree = {"op": "fillna_groups", "args": [tree, {"cols": by, "of": {"frame": h.frame_id}}],
                    "column": j, "table": table}
            used.append(table)
    else:
        values: list[Any] = []
        med = await fx.quantiles(node, h, cols, [0.5]) if method == "median" and given is None else {}
        for k, name in enumerate(h.names):
            if name not in cols:
                values.append(None)
                continue
            j = h.col_index(name)
            if given is not None:
                v = given[k] if isinstance(given, list) else given
            elif h.types[j] == ENUM:
                v = await _mode(node, h, name)
            elif method == "median":
                v = med[name][0]
            elif method == "mode":
                v = await _mode(node, h, name)
            else:
                v = h.stats[j]["mean"]
            v = None if isinstance(v, float) and math.isnan(v) else v
            values.append(v)
            used.append(v)
        tree = {"op": "fillna_values", "args": [tree], "values": values}
    out = await fx.expr_frame(node, tree, None, h.frame_id)
    return {"values": fr.json_clean(used), "frame": header_json(out)}


async def _group_values(node, h, by: list[str], col: str, method: str) -> list[list[Any]]:
    """Rows (group key texts..., value) of ``method`` of ``col`` in each group of ``by``, by
    map/reduce: means from group_by's sums, modes from the table of (group, value) counts,
    medians from the group and value columns the nodes send (interpolated, as H2O)."""
    if method == "mean":
        g = await fx.group_by(node, h, by, [("mean", col, "rm")])
        return [[_text(v) if v is not None else None for v in key] + [val]
                for key, val in zip(zip(*[g[b] for b in by]), g[f"mean_{col}"])]
    if method == "mode":
        counts = await run_task(node, "frame.table", {"columns": [*by, col]}, h.frame_id, h) or {}
        best: dict[tuple, tuple] = {}
        for k in sorted(counts):  # a tie goes to the first value in sorted order
            if k[:-1] not in best or counts[k] > counts[best[k[:-1]]]:
                best[k[:-1]] = k
        factor = h.types[h.col_index(col)] == ENUM
        return [list(g) + [k[-1] if factor else float(k[-1])] for g, k in best.items()]
    import pandas as pd

    cols = await fx.key_columns(node, h, [*by, col])
    df = pd.DataFrame({f"g{i}": c.strings() for i, c in enumerate(cols[:-1])})
    df["v"] = cols[-1].values
    groups = [f"g{i}" for i in range(len(by))]
    med = df.dropna(subset=groups).groupby(groups, sort=True)["v"].median()
    return [[*(key if isinstance(key, tuple) else (key,)), None if pd.isna(v) else float(v)]
            for key, v in med.items()]


def _text(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


async def _mode(node, h, col: str) -> Any:
    counts = await run_task(node, "frame.table", {"columns": [col]}, h.frame_id, h) or {}
    if not counts:
        return None
    best = max(sorted(counts), key=lambda k: counts[k])[0]
    return best if h.types[h.col_index(col)] == ENUM else float(best)


@dataclass(frozen=True)
class ExportArgs:
    frame_id: str
    path: str  # a file on the node
    format: str | None = None  # "csv" or "parquet"; from the path's suffix when absent
    force: bool = False
    sep: str = ","
    header: bool = True


async def export(node, args: ExportArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Write a frame to a CSV or Parquet file on the node (chunk by chunk, in row order)."""
    h = await fr.get_header(node, args.frame_id)
    if not args.path:
        raise ValueError("path is required")
    path = roots.check(args.path, node.config.export_root, roots.EXPORT_FLAG, "path")
    fmt = args.format or ("parquet" if path.endswith(".parquet") else "csv")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    if os.path.exists(path) and not args.force:
        raise FileExistsError(f"{path} exists (pass force=True to overwrite)")
    if not os.path.isdir(os.path.dirname(path)):
        raise FileNotFoundError(f"no such directory: {os.path.dirname(path)}")
    await node.run_in_thread(_write, node, h, path, fmt, args.sep, args.header)
    return {"path": path, "nrows": h.nrows, "format": fmt}


def _write(node, h, path: str, fmt: str, sep: str, header: bool) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    def batch(cols):
        arrays = []
        for c in cols:
            if c.ctype == NUMERIC:
                arrays.append(pa.array(c.values, pa.float64(), mask=np.isnan(c.values)))
            else:
                arrays.append(pa.array(list(c.strings()), pa.string()))
        return pa.record_batch(arrays, names=list(h.names))

    tmp = path + ".part"
    writer = None
    try:
        for i, rows in enumerate(h.chunk_rows):
            if rows == 0 and writer is not None:
                continue
            b = batch(fx.rows_of(node, h, h.row_offsets[i], rows))
            if writer is None:
                writer = (pq.ParquetWriter(tmp, b.schema) if fmt == "parquet" else
                          pacsv.CSVWriter(tmp, b.schema, write_options=pacsv.WriteOptions(
                              include_header=header, delimiter=sep)))
            writer.write_batch(b) if fmt == "csv" else writer.write_batch(b)
        if writer is None:
            raise ValueError("the frame has no chunks")
        writer.close()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
