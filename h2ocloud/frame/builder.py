"""Row chunks from typed record batches: cut, encode, emit, roll up.

``ChunkBuilder`` takes batches in source order (numeric columns as Arrow numbers, enum and
string columns as Arrow strings), cuts them into chunks of ``chunk_rows`` rows, encodes each
(chunk.py), hands it to ``emit(index, chunk)`` at once and keeps only its rollups, so a
parse never holds the whole frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

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
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.setup import ParseSetup
from h2ocloud.frame.summary import Rollups, chunk_rollups, rollup_finish, rollup_reduce

Emit = Callable[[int, Chunk], None]

TARGET_CHUNK_BYTES = 1 << 20  # aim at ~1 MiB stored a chunk, as H2O's chunks
MIN_CHUNK_ROWS = 1000
MIN_CHUNKS_ABOVE = 4 << 20  # sources bigger than this are cut into at least MIN_CHUNKS chunks
MIN_CHUNKS = 4


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

    def prepare(self, batch: pa.RecordBatch) -> tuple[np.ndarray, pa.RecordBatch | None]:
        """Split a typed batch into its numeric block and its other columns. Stateless, so
        parse workers run it in parallel; ``add_prepared`` takes the result in order."""
        others = batch.select(self.other) if self.other else None
        return _numeric_block(batch, self.numeric), others

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one typed batch; emit every full chunk."""
        self.add_prepared(*self.prepare(batch))

    def add_prepared(self, block: np.ndarray, others: pa.RecordBatch | None) -> None:
        """Take one prepared batch (in source order); emit every full chunk."""
        nrows = block.shape[1]  # (0 x rows) when there are no numeric columns
        if self._skip:
            take = min(self._skip, nrows)
            self._skip -= take
            block, nrows = block[:, take:], nrows - take
            others = others.slice(take) if others is not None else None
        if nrows == 0:
            return
        self._blocks.append(block)
        if self.other:
            self._others.append(others)
        self._pending_rows += nrows
        while self._pending_rows >= self.chunk_rows:
            self._make_chunk(*self._take(self.chunk_rows))

    def _take(self, nrows: int) -> tuple[np.ndarray, pa.Table | None]:
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
        self._pending_rows -= nrows
        numeric = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)
        if not self.other:
            return numeric, None
        others = pa.Table.from_batches(self._others)
        self._others = others.slice(nrows).to_batches()
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

    def _make_chunk(self, block: np.ndarray, others: pa.Table | None) -> None:
        n = block.shape[1]
        cols: list[EncodedColumn | None] = [None] * len(self.names)
        scan = None
        if self.numeric:
            scan = scan_numeric(block)
            for j, enc in zip(self.numeric, encode_numeric_block(block, scan), strict=True):
                cols[j] = enc
        for pos, j in enumerate(self.other):
            arr = others.column(pos)  # type: ignore[union-attr]
            cols[j] = enum_from_arrow(arr) if self.types[j] == ENUM else string_from_arrow(arr)
        chunk = Chunk(list(self.names), cols, n, self.emitted_rows)  # type: ignore[arg-type]
        self.emit(len(self.layout), chunk)
        self.rollups = rollup_reduce(self.rollups, chunk_rollups(chunk, scan))
        self.layout.append(n)


# Arrow types whose values buffer numpy reads directly.
NUMPY_OF = {
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
        dt = NUMPY_OF.get(arr.type)
        if dt is not None and arr.null_count == 0:  # read the Arrow buffer directly
            out[r] = np.frombuffer(arr.buffers()[1], dtype=dt, count=m,
                                   offset=arr.offset * dt.itemsize)
        else:  # nulls become NaN
            out[r] = arr.to_numpy(zero_copy_only=False)
    return out
