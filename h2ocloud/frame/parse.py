"""Streaming parse: a CSV/Parquet file or an in-memory table -> compressed chunks + header.

pyarrow's multithreaded CSV reader parses blocks with explicit column types from the parse
setup (so memory stays bounded and nothing is re-inferred); ``ChunkBuilder`` cuts the record
batches into row chunks, encodes them (chunk.py), hands each to ``emit(index, chunk)`` at once
and keeps only their rollups. Enum chunks carry their own local domain; the global domain
(the sorted union) is in the returned header.
"""

from __future__ import annotations

import csv
import io
import os
import queue
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from h2ocloud.frame.chunk import (
    ENUM,
    NUMERIC,
    Chunk,
    EncodedColumn,
    encode_numeric_block,
    enum_from_arrow,
    scan_numeric,
    string_from_arrow,
)
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.setup import (
    NA_DEFAULT,
    NUMBER_RE,
    ParseSetup,
    guess_setup,
    open_binary,
    schema_setup,
)
from h2ocloud.frame.summary import Rollups, chunk_rollups, rollup_finish, rollup_reduce

Emit = Callable[[int, Chunk], None]

TARGET_CHUNK_BYTES = 1 << 20  # aim at ~1 MiB stored a chunk, as H2O's chunks
MIN_CHUNK_ROWS = 1000
MIN_CHUNKS_ABOVE = 4 << 20  # sources bigger than this are cut into at least MIN_CHUNKS chunks
MIN_CHUNKS = 4
CSV_BLOCK_BYTES = 4 << 20  # text blocks parsed in parallel by PARSE_WORKERS threads
PARSE_WORKERS = max(2, min(8, os.cpu_count() or 2))
_CONVERSION_COLUMN = re.compile(r"In CSV column #(\d+):.*CSV conversion error")


def default_chunk_rows(setup: ParseSetup) -> int:
    """Rows a chunk: ~TARGET_CHUNK_BYTES stored, at least MIN_CHUNK_ROWS, and small enough
    that a source of several MiB makes several chunks for the cloud to spread."""
    rows = max(int(TARGET_CHUNK_BYTES / max(setup.bytes_per_row, 1.0)), MIN_CHUNK_ROWS)
    est = setup.est_rows
    if est and est * setup.bytes_per_row > MIN_CHUNKS_ABOVE:
        rows = min(rows, max(est // MIN_CHUNKS, 1))
    return max(rows, 1)


class ChunkBuilder:
    """Cuts typed record batches into chunks, encodes, emits and rolls them up.

    Batches must hold numeric columns as float64 and enum/string columns as strings. Numeric
    columns are copied out of Arrow once per batch into a (columns x rows) float64 block, so
    a chunk is one slice of that block for the scan and encode kernels.
    """

    def __init__(
        self, names: list[str], types: list[str], chunk_rows: int, emit: Emit
    ) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.names, self.types, self.chunk_rows, self.emit = names, types, chunk_rows, emit
        self.numeric = [j for j, t in enumerate(types) if t == NUMERIC]
        self.other = [j for j, t in enumerate(types) if t != NUMERIC]
        self.rollups = Rollups.empty(names, types)
        self.layout: list[int] = []
        self._blocks: list[np.ndarray] = []  # numeric columns x rows, per pending batch
        self._others: list[pa.RecordBatch] = []  # non-numeric columns, per pending batch
        self._pending_rows = 0
        self._skip = 0  # rows to drop after a restart (they were emitted already)

    @property
    def emitted_rows(self) -> int:
        """Rows already emitted in chunks."""
        return sum(self.layout)

    def restart(self) -> None:
        """Forget pending rows; the source is read again and rows already emitted skipped."""
        self._blocks, self._others, self._pending_rows = [], [], 0
        self._skip = self.emitted_rows

    def prepare(self, batch: pa.RecordBatch) -> tuple[np.ndarray, pa.RecordBatch]:
        """Split a typed batch into its numeric block and its other columns. Stateless, so
        parse workers run it in parallel; ``add_prepared`` takes the result in order."""
        return _numeric_block(batch, self.numeric), batch.select(self.other)

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one typed batch; emit every full chunk."""
        self.add_prepared(*self.prepare(batch))

    def add_prepared(self, block: np.ndarray, others: pa.RecordBatch) -> None:
        """Take one prepared batch (in source order); emit every full chunk."""
        nrows = others.num_rows
        if self._skip:
            take = min(self._skip, nrows)
            self._skip -= take
            block, others, nrows = block[:, take:], others.slice(take), nrows - take
        if nrows == 0:
            return
        self._blocks.append(block)
        self._others.append(others)
        self._pending_rows += nrows
        while self._pending_rows >= self.chunk_rows:
            self._make_chunk(*self._take(self.chunk_rows))

    def _take(self, nrows: int) -> tuple[np.ndarray, pa.Table]:
        """The first ``nrows`` pending rows; a view of one batch's block when the rows lie in
        one batch (the common case), a copy only for chunks that straddle two batches."""
        pieces, got = [], 0
        while got < nrows:
            block = self._blocks[0]
            take = min(nrows - got, block.shape[1])
            pieces.append(block[:, :take])
            if take == block.shape[1]:
                self._blocks.pop(0)
            else:
                self._blocks[0] = block[:, take:]
            got += take
        others = pa.Table.from_batches(self._others)
        self._others = others.slice(nrows).to_batches()
        self._pending_rows -= nrows
        numeric = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)
        return numeric, others.slice(0, nrows)

    def finish(self, frame_id: str, source: str | None) -> FrameHeader:
        """Emit the last partial chunk and return the header."""
        if self._pending_rows:
            self._make_chunk(*self._take(self._pending_rows))
        stats = rollup_finish(self.rollups)
        domains: list[list[str] | None] = []
        for s in stats:
            domains.append(s.pop("domain", None))
            s.pop("level_counts", None)
        return FrameHeader(frame_id, list(self.names), list(self.types), domains,
                           self.rollups.nrows, list(self.layout), stats, self.rollups.nbytes,
                           source)

    def _make_chunk(self, block: np.ndarray, others: pa.Table) -> None:
        n = block.shape[1]
        cols: list[EncodedColumn | None] = [None] * len(self.names)
        scan = None
        if self.numeric:
            scan = scan_numeric(block)
            for j, enc in zip(self.numeric, encode_numeric_block(block, scan), strict=True):
                cols[j] = enc
        for pos, j in enumerate(self.other):
            arr = others.column(pos)
            cols[j] = enum_from_arrow(arr) if self.types[j] == ENUM else string_from_arrow(arr)
        chunk = Chunk(list(self.names), cols, n, self.emitted_rows)  # type: ignore[arg-type]
        self.emit(len(self.layout), chunk)
        self.rollups = rollup_reduce(self.rollups, chunk_rollups(chunk, scan))
        self.layout.append(n)


# Arrow types whose values buffer numpy reads directly.
_NUMPY_OF = {
    pa.int8(): np.dtype("i1"), pa.int16(): np.dtype("i2"), pa.int32(): np.dtype("i4"),
    pa.int64(): np.dtype("i8"), pa.uint8(): np.dtype("u1"), pa.uint16(): np.dtype("u2"),
    pa.uint32(): np.dtype("u4"), pa.uint64(): np.dtype("u8"), pa.float32(): np.dtype("f4"),
    pa.float64(): np.dtype("f8"),
}


def _numeric_block(batch: pa.RecordBatch, cols: list[int]) -> np.ndarray:
    """The batch's numeric columns as a (columns x rows) float64 array, NaN for nulls."""
    m = batch.num_rows
    if cols and m:
        try:  # one C++ call gathers and widens every column (MNIST: 785 of them)
            tensor = batch.select(cols).to_tensor(null_to_nan=True, row_major=False)
            out = tensor.to_numpy().T  # column-major rows x cols -> C-ordered cols x rows
            if out.dtype == np.float64:
                return out
        except (pa.ArrowException, NotImplementedError):
            pass  # unusual types: the column by column path below
    out = np.empty((len(cols), m))
    for r, j in enumerate(cols):
        arr = batch.column(j)
        dt = _NUMPY_OF.get(arr.type)
        if dt is not None and arr.null_count == 0:  # read the Arrow buffer directly
            out[r] = np.frombuffer(arr.buffers()[1], dtype=dt, count=m,
                                   offset=arr.offset * dt.itemsize)
        else:  # nulls become NaN
            out[r] = arr.to_numpy(zero_copy_only=False)
    return out


# --------------------------------------------------------------------------- column typing


def _lenient_float(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strings -> float64 where they read as numbers, NA elsewhere (as H2O)."""
    arr = pc.utf8_trim_whitespace(arr)
    ok = pc.match_substring_regex(arr, NUMBER_RE.pattern, ignore_case=True)
    return pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.float64())


def _typed_column(arr: pa.Array, ctype: str, extra_na: Sequence[str]) -> pa.Array:
    """One column as the builder wants it: float64 for numeric, string otherwise; values in
    ``extra_na`` (the column's own NA strings) become null."""
    t = arr.type
    if ctype == NUMERIC and not extra_na and t in _NUMPY_OF:
        return arr  # the common case: the builder reads the Arrow buffer as it is
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)  # decode to plain values
        t = arr.type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if extra_na and is_text:
        arr = pc.if_else(pc.is_in(arr, pa.array(list(extra_na), t)), pa.scalar(None, t), arr)
    if ctype == NUMERIC:
        if is_text:
            return _lenient_float(arr)
        if pa.types.is_temporal(t):
            arr = pc.cast(arr, pa.int64())  # H2O keeps times as numbers
        elif pa.types.is_decimal(t):
            arr = pc.cast(arr, pa.float64(), safe=False)
        out = pc.cast(arr, pa.float64())
        if extra_na:  # numeric NA strings such as "-999"
            nums = [float(v) for v in extra_na if _is_float(v)]
            if nums:
                out = pc.if_else(pc.is_in(out, pa.array(nums, pa.float64())),
                                 pa.scalar(None, pa.float64()), out)
        return out
    if not is_text:
        arr = _numbers_as_text(arr)
    return pc.cast(arr, pa.string())


def _numbers_as_text(arr: pa.Array) -> pa.Array:
    """Numbers used as factor levels print as H2O does: whole floats without '.0'."""
    if pa.types.is_floating(arr.type):
        x = arr.to_numpy(zero_copy_only=False)
        whole = np.isfinite(x) & (x == np.rint(x))
        if whole.all() or not np.isfinite(x).any():
            return pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string())
    return pc.cast(arr, pa.string())


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _typed_batch(batch: pa.RecordBatch, setup: ParseSetup) -> pa.RecordBatch:
    cols = [
        _typed_column(batch.column(j), setup.column_types[j], setup.na_strings[j])
        for j in range(setup.ncols)
    ]
    return pa.RecordBatch.from_arrays(cols, names=setup.column_names)


# --------------------------------------------------------------------------- CSV


def _csv_read_types(setup: ParseSetup, as_float: set[int], as_text: set[int]) -> list[pa.DataType]:
    """What pyarrow parses each column as: int32 where the sample had only small integers
    (Arrow parses them faster than doubles), float64 for other numbers, strings for
    text and for numeric columns that turned out to hold words (``as_text``)."""
    out = []
    for j, t in enumerate(setup.column_types):
        if t != NUMERIC or j in as_text:
            out.append(pa.string())
        elif j < len(setup.int_text) and setup.int_text[j] and j not in as_float:
            out.append(pa.int32())  # Arrow parses int32 fastest; overflow widens
        else:
            out.append(pa.float64())
    return out


def _csv_options(
    setup: ParseSetup, read_types: list[pa.DataType], skip_header: bool, block_size: int
) -> dict[str, Any]:
    return {
        "read_options": pacsv.ReadOptions(
            use_threads=False,  # we parse blocks in parallel ourselves
            block_size=block_size,
            column_names=setup.column_names,
            skip_rows=1 if skip_header else 0,
        ),
        "parse_options": pacsv.ParseOptions(delimiter=setup.sep),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict(zip(setup.column_names, read_types, strict=True)),
            null_values=[*NA_DEFAULT, *setup.global_na],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _text_blocks(setup: ParseSetup, block_bytes: int) -> Iterator[bytes]:
    """The decompressed source cut into blocks that end at a line end. As pyarrow's own
    reader by default (newlines_in_values=False), a quoted field may not span lines."""
    if setup.compression == "zip":
        f: Any = open_binary(setup.source, "zip")
    else:
        f = pa.input_stream(setup.source, compression=setup.compression)
    with f:
        leftover = b""
        while True:
            data = f.read(block_bytes)  # Arrow decompresses with the GIL released
            if not data:
                break
            buf = leftover + data if leftover else data
            cut = buf.rfind(b"\n")
            if cut < 0:
                leftover = buf
                continue
            leftover = buf[cut + 1 :]
            yield buf[: cut + 1]
        if leftover.strip():
            yield leftover


def _parse_block(
    block: bytes, setup: ParseSetup, read_types: list[pa.DataType], skip_header: bool
) -> pa.RecordBatch:
    """One block of CSV text as one typed batch (Arrow parses with the GIL released)."""
    opts = _csv_options(setup, read_types, skip_header, max(len(block) + 1, 1 << 20))
    table = pacsv.read_csv(pa.py_buffer(block), **opts)
    if table.num_rows == 0:
        return _typed_batch(pa.RecordBatch.from_pylist([], schema=table.schema), setup)
    return _typed_batch(table.combine_chunks().to_batches()[0], setup)


def _csv_prepared(
    setup: ParseSetup,
    read_types: list[pa.DataType],
    prepare: Callable[[pa.RecordBatch], Any],
    workers: int = PARSE_WORKERS,
) -> Iterator[Any]:
    """Parse and prepare blocks of a CSV source on ``workers`` threads, in source order,
    with a bounded number in flight (memory stays a few blocks whatever the file size)."""

    def work(block: bytes, first: bool) -> Any:
        return prepare(_parse_block(block, setup, read_types, first and setup.header))

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="h2ocloud-parse")
    inflight: deque[Future[Any]] = deque()
    try:
        for i, block in enumerate(_text_blocks(setup, CSV_BLOCK_BYTES)):
            inflight.append(pool.submit(work, block, i == 0))
            if len(inflight) > workers:
                yield inflight.popleft().result()
        while inflight:
            yield inflight.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ragged_line(setup: ParseSetup) -> tuple[int, int] | None:
    """(physical line, field count) of the first row whose field count differs (slow path,
    only after pyarrow reported a ragged row without its line)."""
    with open_binary(setup.source, setup.compression) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=setup.sep)
        line = 1
        for rec in reader:
            if rec and not (len(rec) == 1 and rec[0].strip() == "") and len(rec) != setup.ncols:
                return line, len(rec)
            line = reader.line_num + 1
    return None


def _csv_error(setup: ParseSetup, exc: Exception) -> ParseError:
    msg = str(exc)
    if "Expected" in msg and "columns" in msg:
        found = _ragged_line(setup)
        if found:
            line, nf = found
            return ParseError(setup.source, f"ragged row: {nf} fields, expected {setup.ncols}", line)
        return ParseError(setup.source, f"ragged rows ({msg})")
    if "UTF8" in msg or "utf8" in msg.lower():
        return ParseError(setup.source, f"not UTF-8 text ({msg})")
    return ParseError(setup.source, msg)


def parse_csv(setup: ParseSetup, builder: ChunkBuilder) -> None:
    """Stream a CSV source through the builder; a numeric column holding a non-number is
    re-read as text (values that are not numbers become NA, as H2O) without re-emitting."""
    # Columns with their own NA strings are read as text so those strings can be matched.
    as_text = {j for j in range(setup.ncols) if setup.na_strings[j]}
    as_float: set[int] = set()
    while True:
        read_types = _csv_read_types(setup, as_float, as_text)
        try:
            for block, others in prefetch(_csv_prepared(setup, read_types, builder.prepare)):
                builder.add_prepared(block, others)
            return
        except pa.ArrowInvalid as exc:
            # A value the sample did not foresee: widen that column (int32 -> float64 ->
            # text read leniently) and read again; chunks already emitted are not redone.
            m = _CONVERSION_COLUMN.search(str(exc))
            col = int(m.group(1)) if m else None
            if col is None or col in as_text:
                raise _csv_error(setup, exc) from None
            if pa.types.is_integer(read_types[col]):
                as_float.add(col)
            else:
                as_text.add(col)
            builder.restart()
        except (OSError, EOFError) as exc:
            raise ParseError(setup.source, f"cannot read ({exc})") from None


def prefetch(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, ``depth`` ahead, so reading and parsing the
    next batches (Arrow, GIL released) overlaps with encoding the current one."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="h2ocloud-parse-read", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)
        worker.join()


# --------------------------------------------------------------------------- entry points


def parse_file(
    path: str | Path,
    *,
    emit: Emit,
    sep: str | None = None,
    header: int = 0,
    col_names: Sequence[str] | None = None,
    col_types: Sequence[str] | Mapping[str | int, str] | None = None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None = None,
    chunk_rows: int | None = None,
    frame_id: str | None = None,
    setup: ParseSetup | None = None,
) -> FrameHeader:
    """Parse a CSV (plain, .gz, single-member .zip) or Parquet file into chunks.

    ``emit(index, chunk)`` is called as each chunk is made (in index order); the returned
    header has the global enum domains, layout and rollups. A ``setup`` from guess_setup
    (possibly edited) skips guessing. Raises ParseError naming the file for bad input.
    """
    if setup is None:
        setup = guess_setup(path, sep=sep, header=header, col_names=col_names,
                            col_types=col_types, na_strings=na_strings)
    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(setup)
    builder = ChunkBuilder(setup.column_names, setup.column_types, rows, emit)
    if setup.format == "parquet":
        _feed(builder, _parquet_batches(setup, rows), setup)
    else:
        parse_csv(setup, builder)
    hdr = builder.finish(frame_id or _frame_id(setup.source), setup.source)
    if hdr.nrows == 0:
        raise ParseError(setup.source, "no data rows")
    return hdr


def _parquet_batches(setup: ParseSetup, rows: int) -> Iterator[pa.RecordBatch]:
    try:
        pf = pq.ParquetFile(setup.source)
        yield from pf.iter_batches(batch_size=max(rows, 1024), use_threads=True)
    except (pa.ArrowException, OSError) as exc:
        raise ParseError(setup.source, f"cannot read Parquet data ({exc})") from None


def _feed(builder: ChunkBuilder, batches: Iterable[pa.RecordBatch], setup: ParseSetup) -> None:
    for batch in batches:
        builder.add(_typed_batch(batch, setup))


def as_arrow_table(data: Any) -> pa.Table:
    """A pyarrow Table from a Table, RecordBatch, pandas DataFrame, dict of columns or a
    1-/2-D numpy array (columns C1..Cn)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, np.ndarray):
        arr = data.reshape(-1, 1) if data.ndim == 1 else data
        if arr.ndim != 2:
            raise ParseError("<array>", f"expected a 1-D or 2-D array, got {arr.ndim}-D")
        return pa.table({f"C{j + 1}": _np_column(arr[:, j]) for j in range(arr.shape[1])})
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(data, Mapping):
        return pa.table({str(k): _np_column(np.asarray(v)) if isinstance(v, np.ndarray) else v
                         for k, v in data.items()})
    raise ParseError("<table>", f"cannot parse a {type(data).__name__}")


def _np_column(col: np.ndarray) -> pa.Array:
    if col.dtype.kind in "OUS":
        return pa.array(list(col), type=pa.string(), from_pandas=True)
    return pa.array(col, from_pandas=True)


def parse_table(
    data: Any,
    *,
    emit: Emit,
    frame_id: str | None = None,
    col_names: Sequence[str] | None = None,
    col_types: Sequence[str] | Mapping[str | int, str] | None = None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None = None,
    chunk_rows: int | None = None,
    source: str = "<table>",
) -> FrameHeader:
    """Parse an in-memory table (see as_arrow_table) exactly as a file: types from the
    schema (strings -> enum), overrides, chunks emitted as made, header returned."""
    table = as_arrow_table(data)
    setup = schema_setup(source, table.schema, col_names, col_types, na_strings, "table",
                         table.num_rows)
    if table.num_rows == 0:
        raise ParseError(source, "no data rows")
    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(setup)
    builder = ChunkBuilder(setup.column_names, setup.column_types, rows, emit)
    _feed(builder, table.to_batches(max_chunksize=rows), setup)
    return builder.finish(frame_id or _frame_id(source), None)


def _frame_id(source: str) -> str:
    """H2O's style of frame key: the file's base name with '.hex', or a random one."""
    name = Path(source).name if not source.startswith("<") else ""
    for ext in (".gz", ".zip", ".csv", ".parquet", ".txt"):
        name = name.removesuffix(ext)
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"{base}.hex" if base else f"frame-{uuid.uuid4().hex[:12]}.hex"
