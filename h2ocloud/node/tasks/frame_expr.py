"""Frame expressions on the cloud: h2ocloud.frame.expr's trees evaluated chunk by chunk.

`expr_frame` writes a new frame from an expression tree (and optionally a row selection) with
the one derive task (`frame.derive`, kind "expr"): each node evaluates the tree on the chunks it
homes and writes the result chunk where it is made. Frames a tree reads besides the first are
aligned with it by row: the same layout reads the same chunk index, another layout reads the rows
of that range from whichever chunks hold them. Reductions that a header's rollups cannot answer
(quantiles, group_by, tables, correlations) are map/reduce tasks here too; their results are
small and come back to the caller, or become small frames stored like a parse's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.frame.chunk import ENUM, NUMERIC, STRING, Chunk, decode_column
from h2ocloud.frame.expr import Col, Ctx, as_columns, evaluate, frames_of, row_mask, schema
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.summary import Rollups, rollup_reduce
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import frames as fr
from h2ocloud.node.tasks.framedata import stored_chunk
from h2ocloud.node.tasks.mrtask import MapContext, MRTask, run_task

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node


# ---------------------------------------------------------------------------- reading rows

def chunk_cols(h: FrameHeader, chunk: Chunk) -> list[Col]:
    """A chunk's columns decoded against the frame's domains."""
    out = []
    for j, name in enumerate(h.names):
        enc = chunk.columns[chunk.index(name)]
        dom = h.domains[j] if h.types[j] == ENUM else None
        out.append(Col(name, h.types[j], decode_column(enc, dom), dom))
    return out


def empty_cols(h: FrameHeader) -> list[Col]:
    """Zero rows of every column (for the schema pass)."""
    empty = {NUMERIC: np.zeros(0), ENUM: np.zeros(0, np.int32), STRING: np.zeros(0, dtype=object)}
    return [Col(n, t, empty[t], h.domains[j] if t == ENUM else None) for j, (n, t) in enumerate(zip(h.names, h.types))]


def _concat(parts: list[list[Col]], h: FrameHeader) -> list[Col]:
    if not parts:
        return empty_cols(h)
    return [Col(c.name, c.ctype, np.concatenate([p[j].values for p in parts]), c.domain)
            for j, c in enumerate(parts[0])]


def rows_of(node: Node, h: FrameHeader, start: int, n: int) -> list[Col]:
    """Rows [start, start + n) of a frame, from whichever chunks hold them."""
    parts, offsets = [], h.row_offsets
    for i, (off, rows) in enumerate(zip(offsets, h.chunk_rows)):
        lo, hi = max(start, off), min(start + n, off + rows)
        if lo >= hi:
            continue
        v = node.dkv.get_sync(chunk_key(h.frame_id, i))
        cols = chunk_cols(h, stored_chunk(v))
        parts.append([Col(c.name, c.ctype, c.values[lo - off:hi - off], c.domain) for c in cols])
    return _concat(parts, h)


def gather_rows(node: Node, h: FrameHeader, rows: np.ndarray) -> list[Col]:
    """The given global rows of a frame, in the given order (sort's permutation)."""
    offsets = np.asarray(h.row_offsets, np.int64)
    which = np.searchsorted(offsets, rows, side="right") - 1
    out = [Col(c.name, c.ctype, np.empty(rows.size, c.values.dtype), c.domain) for c in empty_cols(h)]
    for i in np.unique(which):
        v = node.dkv.get_sync(chunk_key(h.frame_id, int(i)))
        cols = chunk_cols(h, stored_chunk(v))
        sel = which == i
        for o, c in zip(out, cols):
            o.values[sel] = c.values[rows[sel] - offsets[i]]
    return out


class KeyColumnsTask(MRTask):
    """Some columns of every row, read where the chunks live (sort's and merge's keys): each
    node sends only those columns of its chunks, numbers as float64, anything else as text."""

    name = "frame.key_columns"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        h = ctx.header
        cols = []
        for name in self.args["columns"]:
            j = h.col_index(name)
            dom = h.domains[j] if h.types[j] == ENUM else None
            c = Col(name, h.types[j], decode_column(chunk.columns[chunk.index(name)], dom), dom)
            cols.append(c.values if c.ctype == NUMERIC else c.strings())
        return {index: cols}

    def reduce(self, a, b):
        a.update(b)
        return a

    def to_wire(self, p):
        meta, blobs = [], []
        for index, cols in p.items():
            kinds = []
            for v in cols:
                if v.dtype == object:
                    kinds.append([None if x is None else str(x) for x in v])
                else:
                    kinds.append(len(blobs))
                    blobs.append(np.ascontiguousarray(v, "<f8").tobytes())
            meta.append([index, kinds])
        return {"chunks": meta}, blobs

    def from_wire(self, meta, blobs):
        return {int(i): [np.frombuffer(blobs[k], "<f8").copy() if isinstance(k, int)
                         else np.asarray(k, dtype=object) for k in kinds] for i, kinds in meta["chunks"]}


async def key_columns(node: Node, h: FrameHeader, columns: list[str]) -> list[Col]:
    """Columns ``columns`` of every row of frame h, in row order, by map/reduce: numeric ones
    as float64 Cols, the others as string Cols (a factor by its level names)."""
    parts = await run_task(node, "frame.key_columns", {"columns": list(columns)}, h.frame_id, h) or {}
    out = []
    for k, name in enumerate(columns):
        numeric = h.types[h.col_index(name)] == NUMERIC
        pieces = [parts[i][k] for i in sorted(parts)]
        empty = np.zeros(0) if numeric else np.zeros(0, dtype=object)
        values = np.concatenate(pieces) if pieces else empty
        out.append(Col(name, NUMERIC if numeric else STRING, values))
    return out


# ---------------------------------------------------------------------------- expressions

def expr_chunk(node: Node, args: dict[str, Any], state: dict[str, Any], index: int, chunk: Chunk) -> Chunk:
    """One result chunk: the tree evaluated on chunk `index` of the base frame, rows selected."""
    if "headers" not in state:
        state["headers"] = {k: FrameHeader.from_dict(d) for k, d in args["headers"].items()}
    headers: dict[str, FrameHeader] = state["headers"]
    base = headers[args["base"]]
    off, n = base.row_offsets[index], chunk.nrows
    perm = args.get("rows", {}).get("perm") if args.get("rows") else None
    gather = args.get("rows", {}).get("gather") if args.get("rows") else None
    if gather is not None:  # this chunk makes rows [off, off + n) of the gathered result
        off, n = gather_bounds(int(args["rows"]["n"]), base.nchunks, index)
    cache: dict[str, list[Col]] = {}

    def frame(fid: str) -> list[Col]:
        if fid not in cache:
            h = headers.get(fid)
            if h is None:
                raise ValueError(f"frame {fid!r} is not part of this expression")
            if gather is not None:
                cache[fid] = gather_rows_or_na(node, h, np.asarray(gather[fid][off:off + n], np.int64))
            elif perm is not None:
                cache[fid] = gather_rows(node, h, np.asarray(perm[off:off + n], np.int64))
            elif fid == base.frame_id:
                cache[fid] = chunk_cols(h, chunk)
            elif h.chunk_rows == base.chunk_rows:
                v = node.dkv.get_sync(chunk_key(fid, index))
                cache[fid] = chunk_cols(h, stored_chunk(v))
            else:
                cache[fid] = rows_of(node, h, off, n)
        return cache[fid]

    ctx = Ctx(frame, off, n)
    cols = as_columns(evaluate(args["tree"], ctx), ctx)
    names = [c.name for c in cols]
    out = Chunk(names, [c.encode() for c in cols], n, off)
    keep = _kept_rows(args.get("rows"), ctx)
    if keep is not None:
        idx = np.flatnonzero(keep)
        out = out.take_rows(idx, row_offset=off + (int(idx[0]) if idx.size else 0))
    return out


def gather_bounds(nrows: int, nchunks: int, index: int) -> tuple[int, int]:
    """(first row, rows) of chunk `index` when `nrows` gathered rows are cut into `nchunks`."""
    bounds = np.linspace(0, nrows, max(nchunks, 1) + 1).astype(np.int64)
    return int(bounds[index]), int(bounds[index + 1] - bounds[index])


def gather_rows_or_na(node: Node, h: FrameHeader, rows: np.ndarray) -> list[Col]:
    """gather_rows where a row of -1 is a row of NAs (merge's unmatched side)."""
    have = rows >= 0
    got = gather_rows(node, h, rows[have]) if have.any() else empty_cols(h)
    na = {NUMERIC: np.nan, ENUM: -1, STRING: None}
    out = []
    for c in got:
        v = np.full(rows.size, na[c.ctype], dtype=c.values.dtype if c.ctype != STRING else object)
        v[have] = c.values
        out.append(Col(c.name, c.ctype, v, c.domain))
    return out


def _kept_rows(rows: dict[str, Any] | None, ctx: Ctx) -> np.ndarray | None:
    if not rows or "perm" in rows or "gather" in rows:
        return None
    g = np.arange(ctx.row_offset, ctx.row_offset + ctx.nrows)
    if "mask" in rows:
        return row_mask(evaluate(rows["mask"], ctx), ctx)
    if "range" in rows:
        start, stop = rows["range"]
        return (g >= start) & (g < stop)
    if "index" in rows:
        return np.isin(g, np.asarray(rows["index"], np.int64))
    raise ValueError(f"unknown row selection {sorted(rows)}")


async def expr_frame(node: Node, tree: Any, rows: dict[str, Any] | None, dest: str,
                     base_id: str | None = None) -> FrameHeader:
    """Write frame `dest` = tree (rows selected by `rows`) by map/reduce over the base frame."""
    ids = frames_of(tree)
    ids += [i for i in frames_of(rows) if i not in ids]
    if base_id:
        ids = [base_id] + [i for i in ids if i != base_id]
    if not ids:
        raise ValueError("an expression must read at least one frame")
    gather = (rows or {}).get("gather")  # {frame id: its row (or -1) for each result row}
    headers = {i: await fr.get_header(node, i) for i in ids}
    base = headers[ids[0]]
    for i, h in headers.items():
        if gather is not None:
            r = np.asarray(gather.get(i, []), np.int64)
            if i not in gather or (r.size and not (-1 <= r.min() and r.max() < h.nrows)):
                raise ValueError(f"a gather must give each row of frame {i!r} read (0..{h.nrows - 1}, or -1)")
        elif h.nrows != base.nrows:
            raise ValueError(f"frames {base.frame_id!r} ({base.nrows} rows) and {h.frame_id!r} ({h.nrows} rows) "
                             "do not have the same number of rows")
    _check_rows(rows, base)
    cols = schema(tree, lambda fid: empty_cols(headers[fid]) if fid in headers else _unknown(fid))
    names, types = [c.name for c in cols], [c.ctype for c in cols]
    if len(set(names)) != len(names):
        raise ValueError(f"the result would have repeated column names {names}")
    (h,) = await fr.derive(node, base, "expr", [dest], names, types, tree=tree, rows=rows or {},
                           base=base.frame_id, headers={k: v.to_dict() for k, v in headers.items()})
    return await keep_domains(node, h, [c.domain for c in cols])


def _unknown(fid: str):
    raise ValueError(f"frame {fid!r} is not part of this expression")


def _check_rows(rows: dict[str, Any] | None, h: FrameHeader) -> None:
    if not rows:
        return
    if "range" in rows:
        start, stop = rows["range"]
        if not all(isinstance(v, int) for v in (start, stop)):
            raise ValueError(f"a row range needs integer bounds, got {rows['range']}")
    if "index" in rows:
        bad = [r for r in rows["index"] if not isinstance(r, int) or not 0 <= r < h.nrows]
        if bad:
            raise ValueError(f"row index {bad[0]!r} out of range 0..{h.nrows - 1}")
    if "perm" in rows and len(rows["perm"]) != h.nrows:
        raise ValueError("a row permutation must name every row once")
    if "gather" in rows:
        if any(len(r) != rows["n"] for r in rows["gather"].values()):
            raise ValueError("every gathered frame must name one row (or -1) per result row")



async def keep_domains(node: Node, h: FrameHeader, domains: list[list[str] | None]) -> FrameHeader:
    """Give factor columns the domain they were derived with (the parent's levels, even those no
    kept row uses, as H2O keeps them) instead of the levels the rows happen to hold."""
    changed = False
    for j, dom in enumerate(domains):
        if dom is not None and h.types[j] == ENUM and h.domains[j] != list(dom):
            h.domains[j] = list(dom)
            h.stats[j]["cardinality"] = len(dom)
            changed = True
    if changed:
        await node.dkv.put(h.frame_id, fr.header_value(h))
    return h


# ---------------------------------------------------------------------------- rbind

async def rbind_frames(node: Node, frames: list[FrameHeader], dest: str) -> FrameHeader:
    """Rows of each frame after the previous one's: chunks copied under the new frame's keys
    (each by the node that homes it). Factor domains are merged; column types must agree."""
    first = frames[0]
    for h in frames[1:]:
        if h.ncols != first.ncols:
            raise ValueError(f"rbind: {h.frame_id!r} has {h.ncols} columns, {first.frame_id!r} {first.ncols}")
        for a, b, n in zip(first.types, h.types, h.names):
            if a != b:
                raise ValueError(f"rbind: column {n!r} is {b} in {h.frame_id!r} but {a} in {first.frame_id!r}")
    layout: list[int] = []
    roll = Rollups.empty(first.names, first.types)
    for h in frames:
        parts = await run_task(node, "frame.derive", {"kind": "rename_chunk", "dests": [dest],
                                                      "names": first.names, "index_offset": len(layout)},
                               h.frame_id, h)
        per_chunk = parts.parts.get(dest, {}) if parts else {}
        for _ in range(h.nchunks):
            rows, r = per_chunk.get(len(layout), (0, None))
            layout.append(rows)
            if r is not None:
                roll = rollup_reduce(roll, r)
    out = fr.header_from_rollups(dest, first.names, first.types, roll, layout, first.source)
    for j, t in enumerate(first.types):
        if t == ENUM:
            out.domains[j] = sorted(set().union(*[set(h.domains[j] or []) for h in frames]))
            out.stats[j]["cardinality"] = len(out.domains[j])
    await node.dkv.put(dest, fr.header_value(out))
    return out


# ---------------------------------------------------------------------------- quantiles

class QuantileProbe(MRTask):
    """For each probe (column, lo, hi): the count of values below lo, a histogram of [lo, hi] in
    `nbins` bins, and with `collect` the values in [lo, hi] themselves."""

    name = "frame.quantile_probe"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        out = []
        nb = int(self.args["nbins"])
        for p in self.args["probes"]:
            x = chunk.column(p["column"])
            x = x[~np.isnan(x)]
            lo, hi = float(p["lo"]), float(p["hi"])
            inside = x[(x >= lo) & (x <= hi)]
            if hi > lo:
                counts = np.histogram(inside, bins=nb, range=(lo, hi))[0].astype(np.int64)
            else:
                counts = np.asarray([inside.size] + [0] * (nb - 1), np.int64)
            out.append({"below": int((x < lo).sum()), "counts": counts,
                        "values": np.sort(inside) if p.get("collect") else None})
        return out

    def reduce(self, a, b):
        return [{"below": x["below"] + y["below"], "counts": x["counts"] + y["counts"],
                 "values": None if x["values"] is None else np.concatenate([x["values"], y["values"]])}
                for x, y in zip(a, b)]

    def to_wire(self, p):
        meta, blobs = [], []
        for x in p:
            meta.append({"below": x["below"], "has_values": x["values"] is not None})
            blobs.append(x["counts"].astype("<i8").tobytes())
            blobs.append(b"" if x["values"] is None else x["values"].astype("<f8").tobytes())
        return {"probes": meta}, blobs

    def from_wire(self, meta, blobs):
        return [{"below": m["below"], "counts": np.frombuffer(blobs[2 * i], "<i8").copy(),
                 "values": np.frombuffer(blobs[2 * i + 1], "<f8").copy() if m["has_values"] else None}
                for i, m in enumerate(meta["probes"])]


COLLECT_AT = 20_000  # a probe's range holding at most this many values is collected exactly
NBINS = 1024


async def kth_values(node: Node, h: FrameHeader, wanted: list[tuple[str, int]]) -> list[float]:
    """The exact k-th smallest non-missing value (0-based) of each (column, k), by narrowing
    histograms over the cloud (H2O's Quantile): each pass bins every probe's current range, and a
    range small enough is collected; a few passes for any column size."""
    probes = []
    for col, k in wanted:
        s = h.stats[h.col_index(col)]
        probes.append({"column": col, "k": k, "lo": float(s["min"]), "hi": float(s["max"]), "collect": False})
    result: list[float | None] = [None] * len(probes)
    for _ in range(64):
        open_ = [i for i, r in enumerate(result) if r is None]
        if not open_:
            break
        args = {"nbins": NBINS, "probes": [probes[i] for i in open_]}
        got = await run_task(node, "frame.quantile_probe", args, h.frame_id, h)
        for i, g in zip(open_, got):
            p = probes[i]
            k = p["k"] - g["below"]
            if g["values"] is not None:
                result[i] = float(np.sort(g["values"])[k])
                continue
            csum = np.cumsum(g["counts"])
            b = int(np.searchsorted(csum, k, side="right"))
            width = (p["hi"] - p["lo"]) / NBINS
            if width <= 0 or width <= abs(p["lo"]) * 1e-15:
                result[i] = p["lo"]  # the range is one value
                continue
            lo, hi = p["lo"] + b * width, p["lo"] + (b + 1) * width
            p.update(lo=lo, hi=min(hi, p["hi"]), collect=int(g["counts"][b]) <= COLLECT_AT)
    return [float("nan") if r is None else r for r in result]


async def quantiles(node: Node, h: FrameHeader, columns: list[str], probs: list[float]) -> dict[str, list[float]]:
    """Each column's quantiles at probs, interpolated between order statistics (H2O's
    combine_method="interpolate", numpy's default "linear")."""
    wanted, plan = [], []
    for c in columns:
        j = h.col_index(c)
        if h.types[j] != NUMERIC:
            plan.append((c, None))
            continue
        n = h.nrows - int(h.stats[j].get("missing") or 0)
        for p in probs:
            if n == 0:
                plan.append((c, None))
                continue
            pos = p * (n - 1)
            lo, hi = int(math.floor(pos)), int(math.ceil(pos))
            plan.append((c, (len(wanted), len(wanted) + 1, pos - lo)))
            wanted += [(c, lo), (c, hi)]
    values = await kth_values(node, h, wanted) if wanted else []
    out: dict[str, list[float]] = {c: [] for c in columns}
    it = iter(plan)
    for c in columns:
        j = h.col_index(c)
        for _ in (probs if h.types[j] == NUMERIC else [None]):
            _, spec = next(it)
            if spec is None:
                out[c].append(float("nan"))
            else:
                a, b, f = spec
                out[c].append(values[a] + f * (values[b] - values[a]))
        if h.types[j] != NUMERIC:
            out[c] = [float("nan")] * len(probs)
    return out


# ---------------------------------------------------------------------------- group by, tables

_AGG_STATS = ("count", "sum", "sumsq", "min", "max", "nacnt")


class GroupByTask(MRTask):
    """Per group of `by` values (as text): row count, and per aggregated column the non-NA count,
    sum, sum of squares, min, max and NA count."""

    name = "frame.groupby"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        h = ctx.header
        cols = {c.name: c for c in chunk_cols(h, chunk)}
        keys = [cols[b].strings() for b in self.args["by"]]
        aggs = self.args["columns"]
        xs = [cols[c].numbers() if cols[c].ctype != STRING else np.full(chunk.nrows, np.nan) for c in aggs]
        groups: dict[tuple, list] = {}
        key_rows = list(zip(*keys)) if keys else [()] * chunk.nrows
        inverse: dict[tuple, list[int]] = {}
        for r, k in enumerate(key_rows):
            inverse.setdefault(k, []).append(r)
        for k, rows in inverse.items():
            idx = np.asarray(rows)
            acc = [len(rows)]
            for x in xs:
                v = x[idx]
                ok = v[~np.isnan(v)]
                acc.append([int(ok.size), float(ok.sum()), float((ok * ok).sum()),
                            float(ok.min()) if ok.size else math.inf, float(ok.max()) if ok.size else -math.inf,
                            int(v.size - ok.size)])
            groups[k] = acc
        return groups

    def reduce(self, a, b):
        for k, acc in b.items():
            if k not in a:
                a[k] = acc
                continue
            mine = a[k]
            mine[0] += acc[0]
            for s, t in zip(mine[1:], acc[1:]):
                s[0] += t[0]
                s[1] += t[1]
                s[2] += t[2]
                s[3] = min(s[3], t[3])
                s[4] = max(s[4], t[4])
                s[5] += t[5]
        return a

    def to_wire(self, p):
        return {"groups": [[list(k), _finite(v)] for k, v in p.items()]}, []

    def from_wire(self, meta, blobs):
        return {tuple(k): _unfinite(v) for k, v in meta["groups"]}


def _finite(acc):
    return [acc[0]] + [[s[0], s[1], s[2], None if math.isinf(s[3]) else s[3], None if math.isinf(s[4]) else s[4], s[5]]
                       for s in acc[1:]]


def _unfinite(acc):
    return [acc[0]] + [[s[0], s[1], s[2], math.inf if s[3] is None else s[3], -math.inf if s[4] is None else s[4], s[5]]
                       for s in acc[1:]]


async def group_by(node: Node, h: FrameHeader, by: list[str], aggs: list[tuple[str, str, str]]) -> dict[str, list]:
    """Columns of the group_by result: the by columns (sorted by group, as H2O does) then one
    column per (function, column, na) of aggs: count -> nrow, mean/sum/sd/var/min/max ->
    mean_x, sum_x, sdev_x, var_x, min_x, max_x. na is "all" (NA rows count; a mean with an NA is
    NA), "rm" (NAs skipped) or "ignore" (as rm, and the count skips NA rows too)."""
    cols = sorted({c for f, c, _ in aggs if f != "nrow" and c is not None})
    groups = await run_task(node, "frame.groupby", {"by": by, "columns": cols}, h.frame_id, h) or {}

    def sort_key(k):
        out = []
        for b, v in zip(by, k):
            if h.types[h.col_index(b)] == NUMERIC:
                out.append((0, float(v)) if v is not None else (1, 0.0))
            else:
                out.append((0, v) if v is not None else (1, ""))
        return out

    keys = sorted(groups, key=sort_key)
    result: dict[str, list] = {}
    for i, b in enumerate(by):
        numeric = h.types[h.col_index(b)] == NUMERIC
        result[b] = [(float(k[i]) if numeric and k[i] is not None else k[i]) for k in keys]
    for fn, col, na in aggs:
        name = "nrow" if fn == "nrow" else f"{ {'sd': 'sdev'}.get(fn, fn) }_{col}".replace(" ", "")
        vals = []
        for k in keys:
            acc = groups[k]
            if fn == "nrow":
                if col is None or na == "all":
                    vals.append(acc[0])
                else:
                    vals.append(acc[1 + cols.index(col)][0])
                continue
            n, s, ss, mn, mx, nas = acc[1 + cols.index(col)]
            if na == "all" and nas:
                vals.append(None)
                continue
            mean = s / n if n else None
            var = (ss - n * mean * mean) / (n - 1) if n > 1 else None
            vals.append({"mean": mean, "sum": s, "min": mn if n else None, "max": mx if n else None,
                         "var": var, "sd": math.sqrt(max(var, 0.0)) if var is not None else None,
                         "ss": ss}[fn])
        result[name] = vals
    return result


class TableTask(MRTask):
    """Counts of each value (as text) of one column, or of each pair of values of two."""

    name = "frame.table"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        cols = {c.name: c for c in chunk_cols(ctx.header, chunk)}
        keys = [cols[c].strings() for c in self.args["columns"]]
        out: dict[tuple, int] = {}
        for k in zip(*keys):
            if any(v is None for v in k):
                continue
            out[k] = out.get(k, 0) + 1
        return out

    def reduce(self, a, b):
        for k, v in b.items():
            a[k] = a.get(k, 0) + v
        return a

    def to_wire(self, p):
        return {"counts": [[list(k), v] for k, v in p.items()]}, []

    def from_wire(self, meta, blobs):
        return {tuple(k): v for k, v in meta["counts"]}


class CovTask(MRTask):
    """Sums over the rows complete in every named column: n, sum x, sum x x^T (for var and cor)."""

    name = "frame.cov"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        x = np.column_stack([Col(c, NUMERIC, chunk.column(c)).values if ctx.header.types[ctx.header.col_index(c)] == NUMERIC
                             else chunk.column(c, ctx.header.domain(c)).astype(np.float64)
                             for c in self.args["columns"]])
        if not self.args.get("na_rm", True):
            x = np.where(np.isnan(x), np.nan, x)
        ok = ~np.isnan(x).any(axis=1)
        x = x[ok]
        return {"n": int(x.shape[0]), "s": x.sum(axis=0), "xx": x.T @ x, "na": int((~ok).sum())}

    def reduce(self, a, b):
        return {"n": a["n"] + b["n"], "s": a["s"] + b["s"], "xx": a["xx"] + b["xx"], "na": a["na"] + b["na"]}

    def to_wire(self, p):
        k = p["s"].size
        return {"n": p["n"], "k": k, "na": p["na"]}, [p["s"].astype("<f8").tobytes(), p["xx"].astype("<f8").tobytes()]

    def from_wire(self, meta, blobs):
        k = meta["k"]
        return {"n": meta["n"], "na": meta["na"], "s": np.frombuffer(blobs[0], "<f8").copy(),
                "xx": np.frombuffer(blobs[1], "<f8").reshape(k, k).copy()}


async def small_frame(node: Node, dest: str, columns: dict[str, list], types: dict[str, str] | None = None) -> FrameHeader:
    """Store a small result (group_by, table, unique, cor) as a frame, parsed as an upload is."""
    import pyarrow as pa

    table = pa.table({k: pa.array(v) for k, v in columns.items()}) if columns else None
    if table is None or table.num_rows == 0:
        raise ValueError("the result has no rows")
    return await node.run_in_thread(store_table_sync, node, dest, table, types)


def store_table_sync(node: Node, dest: str, table, types: dict[str, str] | None = None) -> FrameHeader:
    """Parse a pyarrow table into a frame under ``dest`` (thread-side), chunks first."""
    from h2ocloud.frame.parse import parse_table

    def emit(index: int, chunk: Chunk) -> None:
        node.dkv.put_sync(chunk_key(dest, index), fr.chunk_value(chunk))

    h = parse_table(table, emit=emit, frame_id=dest, col_types=types)
    node.dkv.put_sync(dest, fr.header_value(h))
    return h
