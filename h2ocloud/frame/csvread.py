"""CSV reading in parallel: line-aligned text blocks parsed by a pool of threads.

pyarrow's streaming CSV reader parses on one thread; here a reader cuts the decompressed
text into blocks that end at a line end, ``PARSE_WORKERS`` threads parse blocks (GIL
released) and prepare them for the builder, and results come back in source order with a
bounded number in flight. All-numeric files go through a Numba parser (_fastcsv.py) straight
into float64 blocks; a block it cannot read, and every other file, goes through
``pyarrow.csv.read_csv``. A value the setup's sample did not foresee widens its column and
the source is read again without re-emitting chunks.
"""

from __future__ import annotations

import csv
import io
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from h2ocloud.frame._fastcsv import try_parse_numeric
from h2ocloud.frame.builder import ChunkBuilder
from h2ocloud.frame.chunk import NUMERIC
from h2ocloud.frame.columns import typed_batch
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.setup import NA_DEFAULT, ParseSetup, is_number, open_binary

CSV_BLOCK_BYTES = 4 << 20  # text blocks parsed in parallel by PARSE_WORKERS threads
PARSE_WORKERS = max(2, min(8, os.cpu_count() or 2))
_CONVERSION_COLUMN = re.compile(r"In CSV column #(\d+):.*CSV conversion error")


def _csv_read_types(setup: ParseSetup, as_float: set[int], as_text: set[int]) -> list[pa.DataType]:
    """What pyarrow parses each column as: int32 where the sample had only small integers
    (Arrow parses them faster than doubles), float64 for other numbers, strings for
    text and for numeric columns that turned out to hold words (``as_text``)."""
    out = []
    times = set(setup.time_columns)
    for j, t in enumerate(setup.column_types):
        if t != NUMERIC or j in as_text or j in times:  # dates are read as text, then converted
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
        # A quoted field may hold line ends (blocks are cut outside quotes, see _text_blocks).
        "parse_options": pacsv.ParseOptions(delimiter=setup.sep, newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict(zip(setup.column_names, read_types, strict=True)),
            null_values=[*NA_DEFAULT, *setup.global_na],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _last_record_end(buf: bytes, start: int = 0, odd: bool = False) -> tuple[int, bool]:
    """(index just past the last line end outside double quotes in ``buf[start:]``, or -1 when
    there is none; whether an odd number of quotes is open at the end of ``buf``).

    A block always starts outside quotes (it starts where the previous one was cut), and
    CSV's escaped quote is doubled, so a line end is inside a quoted field exactly when an
    odd number of quotes precede it in the block. ``start``/``odd``: the bytes before ``start``
    were scanned already (no record end outside quotes in them) and left ``odd`` quotes open,
    so a record longer than many blocks is scanned once, not once per block it spans."""
    a = np.frombuffer(buf, dtype=np.uint8)[start:]
    quotes = a == 34  # '"'; a '\n' is never a quote itself
    if not odd and not quotes.any():
        cut = buf.rfind(b"\n", start)
        return (cut + 1 if cut >= 0 else -1), False
    parity = np.cumsum(quotes, dtype=np.uint8) % 2  # uint8 wraps at 256: parity kept
    outside = parity == (1 if odd else 0)
    ends = np.flatnonzero((a == 10) & outside)
    now_odd = bool(parity[-1] != odd) if a.size else odd
    return (start + int(ends[-1]) + 1 if ends.size else -1), now_odd


def _unclosed_quote(buf: bytes, sep: str) -> int | None:
    """Offset in `buf` (the source's last block) of a quote that opens a field and is never
    closed, or None. Only a quote at a field's start counts: one inside a field (5'11")
    quotes nothing for the CSV reader."""
    a = np.frombuffer(buf, dtype=np.uint8)
    quotes = np.flatnonzero(a == 34)
    if quotes.size % 2 == 0:
        return None
    q = int(quotes[-1])  # with an odd count, the last quote is left open
    # the field it opens: scan back over the quotes before it in the same field ("" escapes)
    start = q
    while start > 0 and buf[start - 1] == 34:
        start -= 1
    if start == 0 or buf[start - 1 : start] in (sep.encode(), b"\n", b"\r"):
        return start
    return None


def _text_blocks(setup: ParseSetup, block_bytes: int) -> Iterator[bytes]:
    """The decompressed source cut into blocks that end at a record end: a line end outside
    quotes, so a quoted field may span lines. A quote never closed would make the rest of the
    file one field: it is refused naming the line where it opened."""
    if setup.compression == "zip":
        f: Any = open_binary(setup.source, "zip")
    else:
        f = pa.input_stream(setup.source, compression=setup.compression)
    with f:
        pieces: list[bytes] = []  # a record not yet ended, as read: joined once it ends
        pending = 0  # its length
        odd = False  # its quotes left open
        first = True
        lines = 0  # line ends before the current block
        while True:
            data = f.read(block_bytes)  # Arrow decompresses with the GIL released
            if not data:
                break
            if first:
                data, first = data.removeprefix(b"\xef\xbb\xbf"), False  # UTF-8 BOM
            if setup.cr_newlines:
                data = data.replace(b"\r", b"\n")
            cut, now_odd = _last_record_end(data, 0, odd)
            if cut < 0:  # the record goes on: keep the piece, scan only new bytes next time
                pieces.append(data)
                pending += len(data)
                odd = now_odd
                continue
            buf = b"".join([*pieces, data]) if pieces else data
            cut += pending
            # the bytes after the cut start a record: their quotes are counted afresh
            odd = _last_record_end(buf, cut)[1] if cut < len(buf) else False
            leftover = buf[cut:]
            pieces, pending = ([leftover], len(leftover)) if leftover else ([], 0)
            lines += buf.count(b"\n", 0, cut)
            yield buf[:cut]
        leftover = b"".join(pieces)
        if leftover.strip():
            opened = _unclosed_quote(leftover, setup.sep)
            if opened is not None:
                line = lines + leftover.count(b"\n", 0, opened) + 1
                raise ParseError(setup.source, "unclosed quote: the quoted field that opens here runs to the "
                                               "end of the file", line)
            yield leftover


def _parse_block(
    block: bytes, setup: ParseSetup, read_types: list[pa.DataType], skip_header: bool
) -> pa.RecordBatch:
    """One block of CSV text as one typed batch (Arrow parses with the GIL released)."""
    opts = _csv_options(setup, read_types, skip_header, max(len(block) + 1, 1 << 20))
    table = pacsv.read_csv(pa.py_buffer(block), **opts)
    if table.num_rows == 0:
        return typed_batch(pa.RecordBatch.from_pylist([], schema=table.schema), setup)
    return typed_batch(table.combine_chunks().to_batches()[0], setup)


def fast_path_applies(setup: ParseSetup) -> bool:
    """True when every column is numeric and only empty fields are NA by value (a numeric
    NA string such as "-999" would be read as a number by the fast parser)."""
    return (
        all(t == NUMERIC for t in setup.column_types)
        and not setup.time_columns
        and not any(setup.na_strings)
        and not any(is_number(v.strip()) for v in setup.global_na)
        and len(setup.sep.encode()) == 1
        and setup.sep not in "0123456789.+-eE\"\r\n"
    )


def _csv_prepared(
    setup: ParseSetup,
    read_types: list[pa.DataType],
    prepare: Callable[[pa.RecordBatch], Any],
    workers: int = PARSE_WORKERS,
) -> Iterator[Any]:
    """Parse and prepare blocks of a CSV source on ``workers`` threads, in source order,
    with a bounded number in flight (memory stays a few blocks whatever the file size)."""

    fast = [fast_path_applies(setup)]  # cleared (by any worker) once a block gives up

    def work(block: bytes, first: bool) -> Any:
        if fast[0]:
            text = block[block.find(b"\n") + 1 :] if first and setup.header else block
            values = try_parse_numeric(text, setup.sep, setup.ncols)
            if values is not None:
                return values, None
            fast[0] = False  # this file has what the fast path does not read: stop trying
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


def _bad_utf8_line(setup: ParseSetup) -> int | None:
    """Physical line of the first bytes that are not UTF-8 (slow path, errors only)."""
    with open_binary(setup.source, setup.compression) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _csv_error(setup: ParseSetup, exc: Exception) -> ParseError:
    msg = str(exc)
    if "Expected" in msg and "columns" in msg:
        found = _ragged_line(setup)
        if found:
            line, nf = found
            return ParseError(setup.source, f"ragged row: {nf} fields, expected {setup.ncols}", line)
        return ParseError(setup.source, f"ragged rows ({msg})")
    if "utf8" in msg.lower():
        return ParseError(setup.source, "not UTF-8 text (binary data?)", _bad_utf8_line(setup))
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
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator's cleanup (its worker pool) runs now
                close()

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
