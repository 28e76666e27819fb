"""Parse entry points: a CSV/Parquet file or an in-memory table -> chunks + header.

``parse_file`` guesses (or takes) a ParseSetup, streams the source through a ChunkBuilder
(CSV blocks parsed in parallel, csvread.py; Parquet row groups by pyarrow) and returns the
FrameHeader; ``emit(index, chunk)`` gets each chunk as soon as it is made. Enum chunks carry
their own local domain; the global domain (the sorted union) is in the header.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from h2ocloud.frame.builder import ChunkBuilder, Emit, default_chunk_rows
from h2ocloud.frame.columns import as_arrow_table, typed_batch
from h2ocloud.frame.csvread import parse_csv
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.setup import ParseSetup, guess_setup, schema_setup

__all__ = ["default_chunk_rows", "parse_batches", "parse_file", "parse_files", "parse_table"]


def parse_file(path: str | Path, *, emit: Emit, **options: Any) -> FrameHeader:
    """Parse a CSV (plain, .gz, single-member .zip) or Parquet file into chunks.

    ``emit(index, chunk)`` is called as each chunk is made (in index order); the returned
    header has the global enum domains, layout and rollups. Options are parse_files' (sep,
    header, col_names, col_types, na_strings, chunk_rows, frame_id, and a ``setup`` from
    guess_setup, possibly edited, that skips guessing). Raises ParseError naming the file.
    """
    return parse_files([path], emit=emit, **options)


def parse_files(
    paths: Sequence[str | Path],
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
    """Parse several files of one layout into one frame, each file's rows after the previous
    one's (H2O's import of a folder or a list of files): the setup is guessed from the first
    file and read into every file, as H2O's ParseSetup is; a file of another format or width
    is refused naming it."""
    if not paths:
        raise ParseError("<no files>", "no files to parse")
    if setup is None:
        setup = guess_setup(paths[0], sep=sep, header=header, col_names=col_names,
                            col_types=col_types, na_strings=na_strings)
    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(setup)
    builder = ChunkBuilder(setup.column_names, setup.column_types, rows, emit)
    for path in paths:
        one = setup if str(path) == setup.source else _same_layout(setup, path)
        if one.format == "parquet":
            _feed(builder, _parquet_batches(one, rows), one)
        else:
            parse_csv(one, builder)
    hdr = builder.finish(frame_id or _frame_id(setup.source), setup.source)
    if hdr.nrows == 0:
        raise ParseError(setup.source, "no data rows")
    return hdr


def _same_layout(first: ParseSetup, path: str | Path) -> ParseSetup:
    """The first file's setup for another file (its own format sniffed, its width checked)."""
    from dataclasses import replace

    from h2ocloud.frame.setup import sniff_format

    fmt, compression = sniff_format(path)
    if fmt != first.format:
        raise ParseError(str(path), f"is {fmt} but {first.source} is {first.format}; one frame needs one format")
    own = guess_setup(path, sep=first.sep, header=1 if first.header else -1)
    if own.ncols != first.ncols:
        raise ParseError(str(path), f"has {own.ncols} columns but {first.source} has {first.ncols}")
    return replace(first, source=str(path), compression=compression, est_rows=own.est_rows)


def _parquet_batches(setup: ParseSetup, rows: int) -> Iterator[pa.RecordBatch]:
    try:
        pf = pq.ParquetFile(setup.source)
        yield from pf.iter_batches(batch_size=max(rows, 1024), use_threads=True)
    except (pa.ArrowException, OSError) as exc:
        raise ParseError(setup.source, f"cannot read Parquet data ({exc})") from None


def _feed(builder: ChunkBuilder, batches: Iterable[pa.RecordBatch], setup: ParseSetup) -> None:
    for batch in batches:
        builder.add(typed_batch(batch, setup))


def parse_table(data: Any, *, emit: Emit, **options: Any) -> FrameHeader:
    """Parse an in-memory table (see as_arrow_table) exactly as a file: types from the
    schema (strings -> enum), overrides, chunks emitted as made, header returned. Options are
    parse_batches' (frame_id, col_names, col_types, na_strings, chunk_rows, source)."""
    table = as_arrow_table(data)
    return parse_batches(table.schema, lambda rows: table.to_batches(max_chunksize=rows), emit=emit,
                         nrows=table.num_rows, **options)


def parse_batches(
    schema: pa.Schema,
    batches: Callable[[int], Iterable[pa.RecordBatch]],
    *,
    emit: Emit,
    nrows: int,
    frame_id: str | None = None,
    col_names: Sequence[str] | None = None,
    col_types: Sequence[str] | Mapping[str | int, str] | None = None,
    na_strings: Sequence[str] | Mapping[str | int, Sequence[str] | str] | None = None,
    chunk_rows: int | None = None,
    source: str = "<table>",
) -> FrameHeader:
    """Parse Arrow record batches of ``schema`` made as they are needed (``batches(rows)``
    yields them ``rows`` at a time, the chunk size), so a large generated frame (create_frame)
    is never whole in memory; ``nrows`` is their total."""
    setup = schema_setup(source, schema, col_names, col_types, na_strings, "table", nrows)
    if nrows == 0:
        raise ParseError(source, "no data rows")
    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(setup)
    builder = ChunkBuilder(setup.column_names, setup.column_types, rows, emit)
    _feed(builder, batches(rows), setup)
    return builder.finish(frame_id or _frame_id(source), None)


def _frame_id(source: str) -> str:
    """H2O's style of frame key: the file's base name with '.hex', or a random one."""
    name = Path(source).name if not source.startswith("<") else ""
    for ext in (".gz", ".zip", ".csv", ".parquet", ".txt"):
        name = name.removesuffix(ext)
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"{base}.hex" if base else f"frame-{uuid.uuid4().hex[:12]}.hex"
