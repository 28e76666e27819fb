"""Frames in the DKV: parse files into chunk keys, and derive new frames by map/reduce.

A frame is a header key (`frame_id`, kind "frame", meta = FrameHeader.to_dict()) plus one key per
chunk (`<frame_id>/chunk/NNNNNN`, kind "chunk"). Parsing puts each chunk to its homes as soon as it
is cut, so no node holds the whole frame. Derived frames (column selection, asfactor, split, column
assignment) are written by one map/reduce task, `frame.derive`: each node transforms the chunks it
homes, puts the results under the new frames' chunk keys and returns their row counts and rollups;
the caller assembles the new headers from the reduced result.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.frame.chunk import ENUM, NUMERIC, Chunk, decode_column, encode_enum_codes
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.summary import (
    Rollups,
    chunk_rollups,
    rollup_finish,
    rollup_reduce,
    split_assign,
)
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.store.local import Value
from h2ocloud.node.tasks.framedata import stored_chunk
from h2ocloud.node.tasks.mrtask import MapContext, MRTask, load_header, run_task

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node

_VALID_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


def check_frame_id(frame_id: str, what: str = "destination_frame") -> str:
    if not isinstance(frame_id, str) or not _VALID_ID.match(frame_id) or "/chunk/" in frame_id:
        raise ValueError(f"{what} {frame_id!r} is not a valid key (letters, digits, '_', '.', '-')")
    return frame_id


def new_frame_id(prefix: str = "frame") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}.hex"


def chunk_value(chunk: Chunk) -> Value:
    meta, bufs = chunk.to_wire()
    return Value("chunk", meta, bufs)


def header_value(header: FrameHeader) -> Value:
    return Value("frame", header.to_dict(), [])


def header_from_rollups(frame_id: str, names: list[str], types: list[str], rollups: Rollups,
                        chunk_rows: list[int], source: str | None = None,
                        domains: list[list[str] | None] | None = None) -> FrameHeader:
    stats = rollup_finish(rollups, domains)
    domains: list[list[str] | None] = []
    for s in stats:
        domains.append(s.pop("domain", None))
        s.pop("level_counts", None)
    return FrameHeader(frame_id, list(names), list(types), domains, rollups.nrows, chunk_rows,
                       stats, rollups.nbytes, source)


# ---- deriving frames ----------------------------------------------------------------------
def set_column(names: list[str], values: list[Any], name: str, value: Any) -> None:
    """Replace column `name` (in place), or append it when the frame has none of that name."""
    if name in names:
        values[names.index(name)] = value
    else:
        names.append(name)
        values.append(value)


def _level_name(v: float) -> str:
    """H2O names the levels of whole numbers "0", "1" (not "0.0")."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def column_as_factor(chunk: Chunk, j: int, domain: list[str] | None) -> Chunk:
    """Chunk with column j turned into a factor (codes against a chunk-local domain)."""
    col = chunk.columns[j]
    if col.ctype == ENUM:
        return chunk
    values = decode_column(col)
    if col.ctype == NUMERIC:
        ok = ~np.isnan(values)
        uniq = np.unique(values[ok])
        codes = np.full(values.shape, -1, np.int32)
        codes[ok] = np.searchsorted(uniq, values[ok])
        local = [_level_name(u) for u in uniq]
    else:  # string
        strs = np.asarray(values, dtype=object)
        ok = np.array([s is not None for s in strs], bool)
        local = sorted({s for s in strs[ok]})
        index = {s: i for i, s in enumerate(local)}
        codes = np.array([index[s] if s is not None else -1 for s in strs], np.int32)
    cols = list(chunk.columns)
    cols[j] = encode_enum_codes(codes, local)
    return Chunk(list(chunk.names), cols, chunk.nrows, chunk.row_offset)


def column_as_numeric(chunk: Chunk, j: int, domain: list[str] | None) -> Chunk:
    """Chunk with factor column j turned into numbers: the level names read as numbers where they
    are numbers (as H2O's as.numeric on a factor of numbers), else the codes."""
    from h2ocloud.frame.chunk import encode_numeric_block

    col = chunk.columns[j]
    if col.ctype == NUMERIC:
        return chunk
    codes = decode_column(col, domain).astype(np.int64)
    try:
        level_values = np.array([float(d) for d in (domain or [])], np.float64)
    except ValueError:
        level_values = np.arange(len(domain or []), dtype=np.float64)
    vals = np.where(codes >= 0, level_values[np.clip(codes, 0, None)] if len(level_values) else np.nan, np.nan)
    cols = list(chunk.columns)
    cols[j] = encode_numeric_block(vals[None, :])[0]
    return Chunk(list(chunk.names), cols, chunk.nrows, chunk.row_offset)


@dataclass
class DerivedParts:
    """Per destination frame: chunk index -> (rows, rollups of what was written).

    Rollups stay per chunk until the caller reduces them in chunk order, so a derived frame's
    statistics are the same to the last bit however its chunks are spread over the cloud (floating
    point sums depend on their order; models standardize with these statistics).
    """

    parts: dict[str, dict[int, tuple[int, Rollups | None]]] = field(default_factory=dict)  # None: rebalance


class DeriveTask(MRTask):
    """Write new frames from an existing one, chunk by chunk, where the chunks live.

    args: {"kind": "select"|"asfactor"|"asnumeric"|"assign"|"split", "dests": [...], ...}
    """

    name = "frame.derive"

    def setup(self, ctx: MapContext) -> None:
        self.kind = self.args["kind"]
        self.dests = list(self.args["dests"])

    def _transform(self, ctx: MapContext, index: int, chunk: Chunk) -> list[Chunk]:
        a, h = self.args, ctx.header
        if self.kind == "select":
            return [chunk.take_columns(a["columns"])]
        if self.kind in ("asfactor", "asnumeric"):
            fn: Callable = column_as_factor if self.kind == "asfactor" else column_as_numeric
            out = chunk
            for name in a["columns"]:
                j = chunk.index(name)
                out = fn(out, j, h.domains[h.col_index(name)])
            return [out]
        if self.kind == "assign":
            src_v = ctx.node.dkv.get_sync(chunk_key(a["source_frame"], index))
            src = stored_chunk(src_v)
            if src.nrows != chunk.nrows:
                raise ValueError(f"cannot assign: chunk {index} has {src.nrows} rows in the source, {chunk.nrows} in the target")
            names, cols = list(chunk.names), list(chunk.columns)
            for target, source in zip(a["columns"], a["source_columns"]):
                set_column(names, cols, target, src.columns[src.index(source)])
            return [Chunk(names, cols, chunk.nrows, chunk.row_offset)]
        if self.kind == "predict":
            from h2ocloud.node.tasks.models import ChunkPredictor, load_model_sync

            predictor = self.__dict__.get("_predictor")  # made once a node, for all its chunks
            if predictor is None:
                predictor = self.__dict__.setdefault(
                    "_predictor", ChunkPredictor(load_model_sync(ctx.node, a["model_id"]), a, ctx.header))
            # The map threads already use the node's cores: a chunk's forward pass takes its
            # share (the model's slices in turn), not threads of its own that wait for a core.
            return [predictor(chunk, ctx.threads_per_map)]
        if self.kind == "expr":
            from h2ocloud.node.tasks.frame_expr import expr_chunk

            return [expr_chunk(ctx.node, a, self.__dict__.setdefault("_expr_state", {}), index, chunk)]
        if self.kind == "cv_holdout":
            from h2ocloud.node.tasks.cv_frames import holdout_chunks

            return holdout_chunks(ctx.node, a, ctx.header, index, chunk)
        if self.kind == "rename_chunk":  # rbind: the chunk as it is, under the first frame's names
            return [Chunk(list(a["names"]), list(chunk.columns), chunk.nrows, chunk.row_offset)]
        if self.kind == "split":
            part = split_assign(int(a["seed"]), chunk.row_offset, chunk.nrows, a["ratios"])
            outs = []
            for i in range(len(self.dests)):
                rows = np.flatnonzero(part == i)
                outs.append(chunk.take_rows(rows, row_offset=chunk.row_offset + (int(rows[0]) if rows.size else 0)))
            return outs
        raise ValueError(f"unknown derive kind {self.kind!r}")

    def map(self, ctx: MapContext, index: int, chunk: Chunk) -> DerivedParts:
        out = DerivedParts()
        if self.kind == "rebalance":
            # Chunk i becomes chunks i*k .. i*k+k-1 of the new frame: contiguous row ranges, so
            # the rows keep their order and the new chunks spread over the cloud's nodes.
            k = int(self.args["pieces"])
            dest = self.dests[0]
            bounds = np.linspace(0, chunk.nrows, k + 1).astype(np.int64)
            out.parts[dest] = {}
            for s in range(k):
                lo, hi = int(bounds[s]), int(bounds[s + 1])
                new = chunk.slice_rows(lo, hi, row_offset=chunk.row_offset + lo)
                ctx.put(chunk_key(dest, index * k + s), chunk_value(new))
                # No rollups: the copy holds the source's rows, so it takes the source's
                # statistics (derive), and summarizing every column again was the other half.
                out.parts[dest][index * k + s] = (new.nrows, None)
            return out
        at = index + int(self.args.get("index_offset", 0))  # rbind writes after earlier frames' chunks
        for dest, new in zip(self.dests, self._transform(ctx, index, chunk)):
            ctx.put(chunk_key(dest, at), chunk_value(new))
            out.parts[dest] = {at: (new.nrows, chunk_rollups(new))}
        return out

    def reduce(self, a: DerivedParts, b: DerivedParts) -> DerivedParts:
        for dest, per_chunk in b.parts.items():
            a.parts.setdefault(dest, {}).update(per_chunk)
        return a

    def to_wire(self, p: DerivedParts) -> tuple[dict[str, Any], list[Any]]:
        meta: dict[str, Any] = {"parts": []}
        blobs: list[Any] = []
        for dest, per_chunk in p.parts.items():
            for index, (rows, r) in per_chunk.items():
                rm, rb = (None, []) if r is None else r.to_wire()
                meta["parts"].append({"dest": dest, "index": index, "rows": rows, "meta": rm,
                                      "start": len(blobs), "n": len(rb)})
                blobs.extend(rb)
        return meta, blobs

    def from_wire(self, meta: dict[str, Any], blobs: list[bytes]) -> DerivedParts:
        p = DerivedParts()
        for m in meta["parts"]:
            r = None if m["meta"] is None else Rollups.from_wire(m["meta"], blobs[m["start"] : m["start"] + m["n"]])
            p.parts.setdefault(m["dest"], {})[int(m["index"])] = (int(m["rows"]), r)
        return p


async def derive(node: Node, src: FrameHeader, kind: str, dests: list[str], names: list[str],
                 types: list[str], domains: list[list[str] | None] | None = None,
                 **args: Any) -> list[FrameHeader]:
    """Run frame.derive and store the new frames' headers; return them.

    ``domains``: per new column, the factor levels it keeps (its parent's), None where the levels
    are those the new chunks hold (a column just made a factor). Every derived frame passes its
    parent's domains, as H2O keeps them: a chunk's local codes then always map into the header's
    domain, even where a part lacks a level."""
    parts: DerivedParts = await run_task(node, "frame.derive", {"kind": kind, "dests": dests, **args},
                                         src.frame_id, src)
    headers = []
    for dest in dests:
        per_chunk = parts.parts.get(dest, {}) if parts else {}
        nchunks = src.nchunks * int(args.get("pieces", 1)) if kind == "rebalance" else src.nchunks
        layout = [per_chunk[i][0] if i in per_chunk else 0 for i in range(nchunks)]
        if kind == "rebalance":  # the source's rows cut finer: its statistics and (as the pieces
            # slice its buffers) its bytes, but for a string column's one extra offset a piece
            if sum(layout) != src.nrows:
                raise RuntimeError(f"rebalance of {src.frame_id!r} wrote {sum(layout)} of {src.nrows} rows")
            h = FrameHeader(dest, list(names), list(types), [None if d is None else list(d) for d in src.domains],
                            src.nrows, layout, [dict(s) for s in src.stats], src.nbytes, src.source)
        else:
            roll = Rollups.empty(names, types)
            for i in sorted(per_chunk):  # chunk order: the same statistics wherever chunks live
                roll = rollup_reduce(roll, per_chunk[i][1])
            h = header_from_rollups(dest, names, types, roll, layout, src.source, domains)
        await node.dkv.put(dest, header_value(h))
        headers.append(h)
    return headers


async def remove_frame(node: Node, frame_id: str) -> None:
    """Remove a frame and its chunks. A header that does not decode (a malformed value planted
    in the DKV) must still be removable: its chunks are then found by their keys' prefix."""
    try:
        header = await load_header(node, frame_id)
        chunks = [chunk_key(frame_id, i) for i in range(header.nchunks)]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        if isinstance(e, KeyError) and await node.dkv.get_or_none(frame_id) is None:
            raise
        chunks = await node.dkv.keys(chunk_key(frame_id, 0)[: -len("000000")])
    await node.dkv.remove_many([frame_id, *chunks])


async def get_header(node: Node, frame_id: str) -> FrameHeader:
    if not isinstance(frame_id, str) or not frame_id:
        raise ValueError("frame_id is required")
    return await load_header(node, frame_id)


def check_columns(header: FrameHeader, columns: list[str], what: str = "column") -> list[str]:
    for c in columns:
        if c not in header.names:
            raise ValueError(f"{what} {c!r} does not exist in frame {header.frame_id!r} (columns: {', '.join(header.names[:20])}{'...' if header.ncols > 20 else ''})")
    return columns


def json_clean(v: Any) -> Any:
    """NaN/inf -> None so the result is strict JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: json_clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_clean(x) for x in v]
    return v


# ---- read-only tasks ----------------------------------------------------------------------
class HistogramTask(MRTask):
    """Per-column histograms for the frame summary."""

    name = "frame.histogram"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        from h2ocloud.frame.summary import histogram_map

        return histogram_map(chunk, ctx.header, int(self.args.get("nbins", 20)))

    def reduce(self, a, b):
        from h2ocloud.frame.summary import histogram_reduce

        return histogram_reduce(a, b)

    def to_wire(self, p):
        return p.to_wire()

    def from_wire(self, meta, blobs):
        from h2ocloud.frame.summary import Histograms

        return Histograms.from_wire(meta, blobs)


class RollupTask(MRTask):
    """Column statistics recomputed from the chunks (min, max, mean, sigma, NAs, levels)."""

    name = "frame.rollups"

    def map(self, ctx: MapContext, index: int, chunk: Chunk) -> Rollups:
        r = chunk_rollups(chunk)
        r.nbytes = chunk.nbytes
        return r

    def reduce(self, a: Rollups, b: Rollups) -> Rollups:
        return rollup_reduce(a, b)

    def to_wire(self, p: Rollups):
        return p.to_wire()

    def from_wire(self, meta, blobs) -> Rollups:
        return Rollups.from_wire(meta, blobs)


class ColumnSumTask(MRTask):
    """Sum and count of every numeric column (the benchmark's map/reduce), with the chunks counted."""

    name = "frame.colsum"

    def map(self, ctx: MapContext, index: int, chunk: Chunk):
        sums = np.zeros(len(chunk.names))
        for j, c in enumerate(chunk.columns):
            if c.ctype == NUMERIC:
                sums[j] = np.nansum(decode_column(c))
        return {"sums": sums, "chunks": 1, "rows": chunk.nrows, "nodes": {ctx.node.node_id: 1}}

    def reduce(self, a, b):
        nodes = dict(a["nodes"])
        for k, v in b["nodes"].items():
            nodes[k] = nodes.get(k, 0) + v
        return {"sums": a["sums"] + b["sums"], "chunks": a["chunks"] + b["chunks"], "rows": a["rows"] + b["rows"], "nodes": nodes}

    def to_wire(self, p):
        return {"chunks": p["chunks"], "rows": p["rows"], "nodes": p["nodes"]}, [p["sums"].astype("<f8")]

    def from_wire(self, meta, blobs):
        return {**meta, "sums": np.frombuffer(blobs[0], "<f8").copy()}
