"""Frame operations: import/upload (a parse job), get, list, summary, fetch, derive, remove."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from h2ocloud.errors import LimitExceeded, NotFound
from h2ocloud.frame.chunk import ENUM, NUMERIC, Chunk
from h2ocloud.frame.create import CreateFrameArgs
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.summary import summary as summary_rows
from h2ocloud.node.ops.registry import Reply
from h2ocloud.node.ops.schema import NoArgs
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.tasks import frames as fr
from h2ocloud.node.tasks import roots
from h2ocloud.node.tasks.framedata import stored_chunk
from h2ocloud.node.tasks.mrtask import run_task

log = logging.getLogger("h2ocloud.frames")


@dataclass(frozen=True)
class ParseOptions:
    """How to parse a file (h2o.import_file's options); shared by import and upload."""

    destination_frame: str | None = None
    header: int = 0  # -1 no header, 0 guess, 1 the first line
    sep: str | None = None
    col_names: list[str] | None = None
    col_types: list[str | None] | dict[str, str] | None = None
    na_strings: str | list[str] | dict[str, list[str] | str] | None = None  # one string: NA in every column
    chunk_rows: int | None = None

    def parse_kwargs(self, op: str) -> dict[str, Any]:
        from h2ocloud.node.ops.schema import OpArgumentError

        if self.header not in (-1, 0, 1):
            raise OpArgumentError(op, "header", f"must be -1 (none), 0 (guess) or 1 (first line), got {self.header}")
        if self.chunk_rows is not None and self.chunk_rows < 1:
            raise OpArgumentError(op, "chunk_rows", f"must be >= 1, got {self.chunk_rows}")
        if self.sep is not None and len(self.sep) != 1:
            raise OpArgumentError(op, "sep", f"must be a single character, got {self.sep!r}")
        options = {"header": self.header, "sep": self.sep, "col_names": self.col_names, "col_types": self.col_types,
                   "na_strings": self.na_strings, "chunk_rows": self.chunk_rows}
        return {k: v for k, v in options.items() if v is not None}


def _parse_job(node, paths: list[str], dest: str, options: dict[str, Any], cleanup: bool = False,
               pattern: re.Pattern | None = None, shown_as: str | None = None):
    """A job parsing ``paths`` (files and folders the node reads, http(s) URLs it fetches
    first) into one frame ``dest``. ``cleanup``: the files are the node's own (an upload) and
    are deleted, and an error names ``shown_as`` (the client's file name), never the spool path.
    A path that is not there fails the job with FileNotFoundError, as H2O's does."""
    from h2ocloud.frame.parse import parse_files
    from h2ocloud.node.tasks import fetch

    def work(job):
        fetched: list[str] = []
        emitted: set[str] = set()  # chunk keys written: removed again if the parse fails
        try:
            local = []
            for p in paths if cleanup else _import_sources(paths, pattern, node.config.import_root):
                if fetch.is_url(p):
                    job.update(msg=f"fetching {p}")
                    fetched.append(fetch.fetch_url(p, node.data_dir, job.check_cancelled))
                    local.append(fetched[-1])
                else:
                    local.append(p)

            def emit(index: int, chunk: Chunk) -> None:
                job.check_cancelled()
                key = chunk_key(dest, index)
                emitted.add(key)
                node.dkv.put_sync(key, fr.chunk_value(chunk))
                job.update(msg=f"parsed {index + 1} chunks")

            try:
                header = parse_files(local, emit=emit, frame_id=dest, **options)
            except ParseError as e:
                if shown_as is None:
                    raise
                raise ParseError(shown_as, e.detail.replace(paths[0], shown_as), e.line) from None
            if shown_as is not None:
                header.source = shown_as  # the client's file, not the spool path (deleted now)
            node.dkv.put_sync(dest, fr.header_value(header))
            emitted.clear()  # the frame's now
            job.update(1.0, f"parsed {header.nrows} rows", nrows=header.nrows, ncols=header.ncols)
        finally:
            if emitted:  # a parse that fails (bad row, cancel) leaves no orphaned chunks behind
                try:
                    node.dkv._sync(node.dkv.remove_many(sorted(emitted)))
                except Exception:  # the job's own error is the one to report
                    log.warning("removing the chunks of failed parse %s failed", dest, exc_info=True)
            for f in fetched:
                fetch.discard(f)
            if cleanup:
                for p in paths:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass

    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return node.jobs.start(f"Parse {os.path.basename(paths[0])}{more}", work, dest=dest)


def _dest_for(opts: ParseOptions, path: str) -> str:
    from h2ocloud.frame.parse import _frame_id

    dest = opts.destination_frame or _frame_id(path)
    return fr.check_frame_id(dest)


@dataclass(frozen=True)
class ImportArgs(ParseOptions):
    path: str | list[str] = ""  # a file or folder the node reads, an http(s) URL it fetches, or a list
    pattern: str | None = None  # a folder's files whose names match this regular expression


async def import_file(node, args: ImportArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Parse files into one frame, as H2O's import: a path is the node's (relative ones against
    the node's working directory, as an H2O server resolves them), a folder stands for its files
    (those matching ``pattern``), a URL is fetched by the node."""
    paths = [args.path] if isinstance(args.path, str) else list(args.path)
    if not paths or not all(paths):
        raise ValueError("path is required (a file, a folder, a URL, or a list of them)")
    try:
        regex = re.compile(args.pattern) if args.pattern else None
    except re.error as e:
        raise ValueError(f"pattern is not a regular expression: {e}") from None
    options = args.parse_kwargs("frames.import")
    for p in paths:  # refused now, by name; each file of a folder is checked again when listed
        _check_import(p, node.config.import_root)
    job = _parse_job(node, paths, _dest_for(args, paths[0]), options, pattern=regex)
    return {"job": job.to_json(), "frame_id": job.dest}


def _check_import(path: str, import_roots: list[str]) -> str:
    """A local path the node may read (--import-root), resolved; a URL as it is."""
    from h2ocloud.node.tasks.fetch import is_url

    return path if is_url(path) else roots.check(path, import_roots, roots.IMPORT_FLAG, "path")


def _import_sources(paths: list[str], regex: re.Pattern | None, import_roots: Sequence[str] = ()) -> list[str]:
    """The files (and URLs) that ``paths`` name: a folder stands for its files matching ``regex``.
    With --import-root, each file is checked where it resolves (a symlink in a root may lead out)."""
    from h2ocloud.node.tasks.fetch import is_url

    out: list[str] = []
    for p in paths:
        if is_url(p):
            out.append(p)
            continue
        p = _check_import(p, list(import_roots))
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if os.path.isfile(os.path.join(p, n))
                           and (regex is None or regex.search(n)))
            if not names:
                raise FileNotFoundError(f"no files in folder {p}" +
                                        (f" match pattern {regex.pattern!r}" if regex else ""))
            out += [_check_import(os.path.join(p, n), list(import_roots)) for n in names]
        elif not os.path.exists(p):
            raise FileNotFoundError(f"no such file on the node: {p}")
        else:
            out.append(p)
    return out


async def create_frame(node, args: CreateFrameArgs, blobs: list[bytes]) -> dict[str, Any]:
    """h2o.create_frame: a random frame made on this node chunk by chunk into the DKV, as a
    parse is (a job)."""
    import random

    from h2ocloud.frame import create
    from h2ocloud.frame.parse import parse_batches

    args.check()
    seed = args.seed if args.seed is not None and args.seed != -1 else random.randrange(2**31)
    spec = create.FrameSpec.plan(args, seed)
    dest = fr.check_frame_id(args.frame_id or fr.new_frame_id("create_frame"))
    schema = spec.schema()

    def work(job):
        def emit(index: int, chunk: Chunk) -> None:
            job.check_cancelled()
            node.dkv.put_sync(chunk_key(dest, index), fr.chunk_value(chunk))
            job.update(min(0.99, (chunk.row_offset + chunk.nrows) / args.rows), f"made {index + 1} chunks")

        header = parse_batches(schema, lambda rows: create.batches(spec, rows), emit=emit, nrows=args.rows,
                               frame_id=dest, col_types=spec.col_types(), chunk_rows=args.chunk_rows,
                               source="<create_frame>")
        node.dkv.put_sync(dest, fr.header_value(header))
        job.update(1.0, f"made {header.nrows} rows", nrows=header.nrows, ncols=header.ncols)

    job = node.jobs.start(f"CreateFrame {dest}", work, dest=dest)
    return {"job": job.to_json(), "frame_id": dest, "seed": seed}


class SpooledUpload:
    """The bytes of an upload, spooled by the client gRPC service to a file it named in the
    node's data dir. It reaches frames.upload as its blob, never as an argument: no caller can
    name the path (a path argument would let a client have the node delete any file)."""

    def __init__(self, path: str):
        self._path: str | None = path

    def claim(self) -> str:
        """The file's path; whoever claims it deletes it."""
        if self._path is None:
            raise RuntimeError("upload already claimed")
        path, self._path = self._path, None
        return path

    def discard(self) -> None:
        """Delete the file unless an operation claimed it."""
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None


def upload_too_large(size: int, cap: int) -> LimitExceeded:
    """The refusal of an upload past --max-upload (413 over REST, INVALID_ARGUMENT over gRPC)."""
    return LimitExceeded(f"upload refused: {size} bytes is more than the node's --max-upload of {cap} bytes")


@dataclass(frozen=True)
class UploadArgs(ParseOptions):
    filename: str = "upload.csv"  # the client's file name (its base name names the frame)


async def upload_file(node, args: UploadArgs, blobs: list[Any]) -> dict[str, Any]:
    """The bytes were spooled to a file by the client service (a SpooledUpload blob)."""
    if len(blobs) != 1 or not isinstance(blobs[0], SpooledUpload):
        raise ValueError("operation 'frames.upload' needs the file's bytes streamed with the call over gRPC")
    options = args.parse_kwargs("frames.upload")
    dest = _dest_for(args, os.path.basename(args.filename or "upload.csv"))
    job = _parse_job(node, [blobs[0].claim()], dest, options, cleanup=True,
                     shown_as=os.path.basename(args.filename or "upload.csv"))
    return {"job": job.to_json(), "frame_id": job.dest}


def header_json(h: FrameHeader) -> dict[str, Any]:
    d = h.to_dict()
    d["ncols"] = h.ncols
    d["nchunks"] = h.nchunks
    return fr.json_clean(d)


@dataclass(frozen=True)
class FrameArgs:
    frame_id: str = ""
    key: str = ""  # the REST routes' generic name for the frame id

    @property
    def id(self) -> str:
        return self.frame_id or self.key


async def get_frame(node, args: FrameArgs, blobs: list[bytes]) -> dict[str, Any]:
    return header_json(await fr.get_header(node, args.id))


async def list_frames(node, args: NoArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Every frame; one whose header is malformed is listed with its error (so it can be seen
    and removed), never breaking the list for everyone."""
    out = []
    for key, v in await node.dkv.values_of_kind("frame"):
        try:
            out.append({"frame_id": key, "nrows": int(v.meta["nrows"]), "ncols": len(v.meta["names"]),
                        "nbytes": int(v.meta.get("nbytes", 0))})
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            out.append({"frame_id": key, "nrows": None, "ncols": None, "nbytes": 0,
                        "error": f"malformed frame header ({type(e).__name__}: {e}); remove it with DELETE /3/Frames/{key}"})
    return {"frames": out}


# Each chunk's map keeps nbins counters per column and the reduce merges them: a bound keeps
# `summary?nbins=10000000` from costing a node a gigabyte (H2O's summaries use 20 to 1,000 bins).
MAX_SUMMARY_BINS = 10_000


@dataclass(frozen=True)
class SummaryArgs:
    frame_id: str
    nbins: int = 20


async def summary(node, args: SummaryArgs, blobs: list[bytes]) -> dict[str, Any]:
    if not 1 <= args.nbins <= MAX_SUMMARY_BINS:
        raise LimitExceeded(f"parameter 'nbins': {args.nbins} is outside 1..{MAX_SUMMARY_BINS} "
                            f"(the summary's limit on histogram bins)")
    h = await fr.get_header(node, args.frame_id)
    hist = await run_task(node, "frame.histogram", {"nbins": args.nbins}, h.frame_id, h)
    return {"frame_id": h.frame_id, "nrows": h.nrows, "columns": fr.json_clean(summary_rows(h, hist))}


@dataclass(frozen=True)
class MapFrameArgs:
    frame_id: str


async def rollups(node, args: MapFrameArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Statistics recomputed by map/reduce over the chunks (what the parse computed, checked)."""
    from h2ocloud.frame.summary import rollup_finish

    h = await fr.get_header(node, args.frame_id)
    r = await run_task(node, "frame.rollups", {}, h.frame_id, h)
    return {"frame_id": h.frame_id, "nrows": int(r.nrows), "stats": fr.json_clean(rollup_finish(r))}


async def colsum(node, args: MapFrameArgs, blobs: list[bytes]) -> dict[str, Any]:
    h = await fr.get_header(node, args.frame_id)
    r = await run_task(node, "frame.colsum", {}, h.frame_id, h)
    return {"sums": r["sums"].tolist(), "chunks": r["chunks"], "rows": r["rows"], "nodes": r["nodes"]}


@dataclass(frozen=True)
class FetchArgs:
    frame_id: str
    columns: list[str] | None = None  # all when absent
    nrows: int | None = None  # all when absent


async def fetch(node, args: FetchArgs, blobs: list[bytes]) -> Reply:
    """Column data of a frame (all rows, or the first `nrows`): numeric as float64, factors as
    int32 codes into the frame's domain, strings as JSON lists."""
    h = await fr.get_header(node, args.frame_id)
    columns = args.columns or h.names
    fr.check_columns(h, columns)
    limit = h.nrows if args.nrows is None else max(0, min(args.nrows, h.nrows))
    parts: dict[str, list] = {c: [] for c in columns}
    got = 0
    for i in range(h.nchunks):
        if got >= limit:
            break
        if h.chunk_rows[i] == 0:
            continue
        v = await node.dkv.get(chunk_key(h.frame_id, i))
        chunk = stored_chunk(v)
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


def _dest(dest: str | None, prefix: str) -> str:
    return fr.check_frame_id(dest or fr.new_frame_id(prefix))


@dataclass(frozen=True)
class SelectArgs:
    frame_id: str
    columns: list[str | int]
    dest: str | None = None


async def select(node, args: SelectArgs, blobs: list[bytes]) -> dict[str, Any]:
    h = await fr.get_header(node, args.frame_id)
    if not args.columns:
        raise ValueError("columns must be a non-empty list of column names")
    # Indices become names; an index out of range stays as it is and check_columns names it.
    cols = [h.names[c] if isinstance(c, int) and 0 <= c < h.ncols else str(c) for c in args.columns]
    fr.check_columns(h, cols)
    dest = _dest(args.dest, "select")
    types = [h.types[h.col_index(c)] for c in cols]
    domains = [h.domains[h.col_index(c)] for c in cols]
    (nh,) = await fr.derive(node, h, "select", [dest], cols, types, domains, columns=cols)
    return header_json(nh)


@dataclass(frozen=True)
class ConvertArgs:
    frame_id: str
    to: Literal["asfactor", "asnumeric"]
    columns: list[str] | None = None  # all when absent
    dest: str | None = None


async def convert(node, args: ConvertArgs, blobs: list[bytes]) -> dict[str, Any]:
    """asfactor / asnumeric of some columns into a new frame."""
    h = await fr.get_header(node, args.frame_id)
    kind = args.to
    cols = args.columns or h.names
    fr.check_columns(h, cols)
    dest = _dest(args.dest, kind)
    types = [ENUM if (c in cols and kind == "asfactor") else (NUMERIC if c in cols else t) for c, t in zip(h.names, h.types)]
    # Converted columns get the levels their chunks now hold; the others keep the parent's.
    domains = [None if c in cols else d for c, d in zip(h.names, h.domains)]
    (nh,) = await fr.derive(node, h, kind, [dest], h.names, types, domains, columns=cols)
    return header_json(nh)


@dataclass(frozen=True)
class AssignArgs:
    frame_id: str
    source_frame: str
    columns: list[str]
    source_columns: list[str] | None = None  # all of source_frame's when absent


async def assign(node, args: AssignArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Replace (or add) columns of frame_id with columns of source_frame, in place."""
    h = await fr.get_header(node, args.frame_id)
    src = await fr.get_header(node, args.source_frame)
    cols, src_cols = list(args.columns), list(args.source_columns or src.names)
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


@dataclass(frozen=True)
class SplitArgs:
    frame_id: str
    ratios: list[float]
    destination_frames: list[str] | None = None
    seed: int | None = None


async def split(node, args: SplitArgs, blobs: list[bytes]) -> dict[str, Any]:
    h = await fr.get_header(node, args.frame_id)
    ratios = args.ratios
    if not ratios:
        raise ValueError(f"ratios must be a non-empty list of numbers, got {ratios!r}")
    if any(r <= 0 for r in ratios) or sum(ratios) >= 1.0 + 1e-12:
        raise ValueError(f"ratios must be positive and sum to less than 1, got {ratios}")
    n = len(ratios) + 1
    dests = args.destination_frames or [fr.new_frame_id(f"{h.frame_id.removesuffix('.hex')}_part{i}") for i in range(n)]
    if len(dests) != n:
        raise ValueError(f"destination_frames must name {n} frames, got {len(dests)}")
    dests = [fr.check_frame_id(d, "destination_frames") for d in dests]
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(2**31))
    headers = await fr.derive(node, h, "split", dests, h.names, h.types, h.domains, ratios=ratios, seed=seed)
    return {"frames": [header_json(x) for x in headers]}


@dataclass(frozen=True)
class RemoveArgs:
    key: str = ""
    frame_id: str = ""
    model_id: str = ""
    grid_id: str = ""


async def remove(node, args: RemoveArgs, blobs: list[bytes]) -> dict[str, Any]:
    key = args.key or args.frame_id or args.model_id or args.grid_id
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


@dataclass(frozen=True)
class DistributionArgs:
    frame_id: str


async def distribution(node, args: DistributionArgs, blobs: list[bytes]) -> dict[str, Any]:
    """Which nodes home (and hold) each chunk of a frame: for tests and the console."""
    h = await fr.get_header(node, args.frame_id)
    homes: dict[str, int] = {}
    for i in range(h.nchunks):
        for r, nid in enumerate(node.dkv.homes(chunk_key(h.frame_id, i))):
            if r == 0:
                homes[nid] = homes.get(nid, 0) + 1
    return {"frame_id": h.frame_id, "nchunks": h.nchunks, "primary_homes": homes, "replication": node.dkv.replication()}
