"""Frame operations: import/upload (a parse job), get, list, summary, fetch, derive, remove."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from h2ocloud.errors import NotFound
from h2ocloud.frame.chunk import ENUM, NUMERIC, Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.summary import summary as summary_rows
from h2ocloud.node.ops.registry import Reply, op
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import frames as fr
from h2ocloud.node.tasks.mrtask import run_task

PARSE_OPTIONS = ("header", "sep", "col_names", "col_types", "na_strings", "chunk_rows")


def _parse_job(node, path: str, dest: str, args: dict[str, Any], cleanup: bool = False):
    from h2ocloud.frame.parse import parse_file

    options = {k: args[k] for k in PARSE_OPTIONS if args.get(k) is not None}
    if "header" in options:
        options["header"] = int(options["header"])
        if options["header"] not in (-1, 0, 1):
            raise ValueError(f"header must be -1 (none), 0 (guess) or 1 (first line), got {options['header']}")
    if "chunk_rows" in options:
        options["chunk_rows"] = int(options["chunk_rows"])
        if options["chunk_rows"] < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {options['chunk_rows']}")
    if options.get("sep") is not None and len(options["sep"]) != 1:
        raise ValueError(f"sep must be a single character, got {options['sep']!r}")

    def work(job):
        try:
            def emit(index: int, chunk: Chunk) -> None:
                job.check_cancelled()
                node.dkv.put_sync(chunk_key(dest, index), fr.chunk_value(chunk))
                job.update(msg=f"parsed {index + 1} chunks")

            header = parse_file(path, emit=emit, frame_id=dest, **options)
            node.dkv.put_sync(dest, fr.header_value(header))
            job.update(1.0, f"parsed {header.nrows} rows", nrows=header.nrows, ncols=header.ncols)
        finally:
            if cleanup:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    return node.jobs.start(f"Parse {os.path.basename(path)}", work, dest=dest)


def _dest_for(args: dict[str, Any], path: str) -> str:
    from h2ocloud.frame.parse import _frame_id

    dest = args.get("destination_frame") or _frame_id(path)
    return fr.check_frame_id(dest)


@op("frames.import")
async def import_file(node, args, blobs):
    path = args.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError("path is required")
    job = _parse_job(node, path, _dest_for(args, path), args)
    return {"job": job.to_json(), "frame_id": job.dest}


@op("frames.upload")
async def upload_file(node, args, blobs):
    """The bytes were spooled to a file by the gRPC adapter (args['_spooled_path'])."""
    path = args.get("_spooled_path")
    if not path:
        raise ValueError("frames.upload needs the file's bytes streamed with the call")
    name = os.path.basename(str(args.get("filename") or "upload.csv"))
    job = _parse_job(node, path, _dest_for(args, name), args, cleanup=True)
    return {"job": job.to_json(), "frame_id": job.dest}


def header_json(h: FrameHeader) -> dict[str, Any]:
    d = h.to_dict()
    d["ncols"] = h.ncols
    d["nchunks"] = h.nchunks
    return fr.json_clean(d)


@op("frames.get")
async def get_frame(node, args, blobs):
    return header_json(await fr.get_header(node, args.get("frame_id") or args.get("key")))


@op("frames.list")
async def list_frames(node, args, blobs):
    return {"frames": [{"frame_id": key, "nrows": v.meta["nrows"], "ncols": len(v.meta["names"]),
                        "nbytes": v.meta.get("nbytes", 0)} for key, v in await node.dkv.values_of_kind("frame")]}


@op("frames.summary")
async def summary(node, args, blobs):
    h = await fr.get_header(node, args.get("frame_id"))
    hist = await run_task(node, "frame.histogram", {"nbins": int(args.get("nbins", 20))}, h.frame_id, h)
    return {"frame_id": h.frame_id, "nrows": h.nrows, "columns": fr.json_clean(summary_rows(h, hist))}


@op("frames.rollups")
async def rollups(node, args, blobs):
    """Statistics recomputed by map/reduce over the chunks (what the parse computed, checked)."""
    from h2ocloud.frame.summary import rollup_finish

    h = await fr.get_header(node, args.get("frame_id"))
    r = await run_task(node, "frame.rollups", {"delay_s": float(args.get("delay_s", 0.0))}, h.frame_id, h)
    return {"frame_id": h.frame_id, "nrows": int(r.nrows), "stats": fr.json_clean(rollup_finish(r))}


@op("frames.colsum")
async def colsum(node, args, blobs):
    h = await fr.get_header(node, args.get("frame_id"))
    r = await run_task(node, "frame.colsum", {"delay_s": float(args.get("delay_s", 0.0))}, h.frame_id, h)
    return {"sums": r["sums"].tolist(), "chunks": r["chunks"], "rows": r["rows"], "nodes": r["nodes"]}


@op("frames.fetch")
async def fetch(node, args, blobs):
    """Column data of a frame (all rows, or the first `nrows`): numeric as float64, factors as
    int32 codes into the frame's domain, strings as JSON lists."""
    h = await fr.get_header(node, args.get("frame_id"))
    columns = args.get("columns") or h.names
    fr.check_columns(h, columns)
    limit = args.get("nrows")
    limit = h.nrows if limit is None else max(0, min(int(limit), h.nrows))
    parts: dict[str, list] = {c: [] for c in columns}
    got = 0
    for i in range(h.nchunks):
        if got >= limit:
            break
        if h.chunk_rows[i] == 0:
            continue
        v = await node.dkv.get(chunk_key(h.frame_id, i))
        chunk = Chunk.from_wire(v.meta, v.blobs)
        take = min(chunk.nrows, limit - got)
        for c in columns:
            j = h.col_index(c)
            parts[c].append(chunk.column(c, h.domains[j])[:take])
        got += take
    meta: dict[str, Any] = {"frame_id": h.frame_id, "nrows": got, "columns": []}
    out_blobs: list[Any] = []
    for c in columns:
        j = h.col_index(c)
        t = h.types[j]
        data = np.concatenate(parts[c]) if parts[c] else np.zeros(0)
        col: dict[str, Any] = {"name": c, "type": t}
        if t == NUMERIC:
            col["blob"] = len(out_blobs)
            out_blobs.append(np.ascontiguousarray(data, dtype="<f8"))
        elif t == ENUM:
            col["blob"] = len(out_blobs)
            col["domain"] = h.domains[j]
            out_blobs.append(np.ascontiguousarray(data, dtype="<i4"))
        else:
            col["values"] = [None if s is None else str(s) for s in data]
        meta["columns"].append(col)
    return Reply(meta, out_blobs)


def _dest(args: dict[str, Any], prefix: str) -> str:
    return fr.check_frame_id(args.get("dest") or fr.new_frame_id(prefix))


@op("frames.select")
async def select(node, args, blobs):
    h = await fr.get_header(node, args.get("frame_id"))
    cols = args.get("columns")
    if not isinstance(cols, list) or not cols:
        raise ValueError("columns must be a non-empty list of column names")
    cols = [h.names[c] if isinstance(c, int) and 0 <= c < h.ncols else c for c in cols]
    fr.check_columns(h, cols)
    dest = _dest(args, "select")
    types = [h.types[h.col_index(c)] for c in cols]
    domains = [h.domains[h.col_index(c)] for c in cols]
    (nh,) = await fr.derive(node, h, "select", [dest], cols, types, domains, columns=cols)
    return header_json(nh)


@op("frames.convert")
async def convert(node, args, blobs):
    """asfactor / asnumeric of some columns into a new frame."""
    h = await fr.get_header(node, args.get("frame_id"))
    kind = args.get("to")
    if kind not in ("asfactor", "asnumeric"):
        raise ValueError(f"to must be 'asfactor' or 'asnumeric', got {kind!r}")
    cols = args.get("columns") or h.names
    fr.check_columns(h, cols)
    dest = _dest(args, kind)
    types = [ENUM if (c in cols and kind == "asfactor") else (NUMERIC if c in cols else t) for c, t in zip(h.names, h.types)]
    # Converted columns get the levels their chunks now hold; the others keep the parent's.
    domains = [None if c in cols else d for c, d in zip(h.names, h.domains)]
    (nh,) = await fr.derive(node, h, kind, [dest], h.names, types, domains, columns=cols)
    return header_json(nh)


@op("frames.assign")
async def assign(node, args, blobs):
    """Replace (or add) columns of frame_id with columns of source_frame, in place."""
    h = await fr.get_header(node, args.get("frame_id"))
    src = await fr.get_header(node, args.get("source_frame"))
    cols, src_cols = list(args.get("columns") or []), list(args.get("source_columns") or src.names)
    if len(cols) != len(src_cols):
        raise ValueError(f"assigning {len(src_cols)} source column(s) to {len(cols)} column name(s)")
    fr.check_columns(src, src_cols)
    if src.chunk_rows != h.chunk_rows:
        raise ValueError(f"frame {src.frame_id!r} does not have the row layout of {h.frame_id!r} (it must be derived from it)")
    names, types = list(h.names), list(h.types)
    domain_names, domains = list(h.names), list(h.domains)
    for c, s in zip(cols, src_cols):
        fr.set_column(names, types, c, src.types[src.col_index(s)])
        fr.set_column(domain_names, domains, c, src.domains[src.col_index(s)])
    (nh,) = await fr.derive(node, h, "assign", [h.frame_id], names, types, domains, columns=cols,
                            source_columns=src_cols, source_frame=src.frame_id)
    return header_json(nh)


@op("frames.split")
async def split(node, args, blobs):
    h = await fr.get_header(node, args.get("frame_id"))
    ratios = args.get("ratios")
    if not isinstance(ratios, list) or not ratios or not all(isinstance(r, int | float) for r in ratios):
        raise ValueError(f"ratios must be a non-empty list of numbers, got {ratios!r}")
    if any(r <= 0 for r in ratios) or sum(ratios) >= 1.0 + 1e-12:
        raise ValueError(f"ratios must be positive and sum to less than 1, got {ratios}")
    n = len(ratios) + 1
    dests = args.get("destination_frames") or [fr.new_frame_id(f"{h.frame_id.removesuffix('.hex')}_part{i}") for i in range(n)]
    if len(dests) != n:
        raise ValueError(f"destination_frames must name {n} frames, got {len(dests)}")
    dests = [fr.check_frame_id(d, "destination_frames") for d in dests]
    seed = int(args.get("seed") if args.get("seed") is not None else np.random.SeedSequence().entropy % (2**31))
    headers = await fr.derive(node, h, "split", dests, h.names, h.types, h.domains, ratios=ratios, seed=seed)
    return {"frames": [header_json(x) for x in headers]}


@op("dkv.remove_user")
async def remove(node, args, blobs):
    key = args.get("key") or args.get("frame_id") or args.get("model_id")
    if not key:
        raise ValueError("key is required")
    v = await node.dkv.get_or_none(key)
    if v is None:
        raise NotFound(f"no key {key!r}")
    if v.kind == "frame":
        await fr.remove_frame(node, key)
    else:
        await node.dkv.remove(key)
    return {"removed": key}


@op("frames.distribution")
async def distribution(node, args, blobs):
    """Which nodes home (and hold) each chunk of a frame: for tests and the console."""
    h = await fr.get_header(node, args.get("frame_id"))
    homes: dict[str, int] = {}
    for i in range(h.nchunks):
        for r, nid in enumerate(node.dkv.homes(chunk_key(h.frame_id, i))):
            if r == 0:
                homes[nid] = homes.get(nid, 0) + 1
    return {"frame_id": h.frame_id, "nchunks": h.nchunks, "primary_homes": homes, "replication": node.dkv.replication()}



