"""Columns of a frame as numpy arrays, for code that needs them whole on one node (model
training on replicated data, prediction), and frames made from such columns.

Numeric columns come back float64 with NaN for missing, factors as int32 codes into the frame's
domain with -1 for missing — the form h2ocloud.dl expects. Column metadata ("metas") is what
DataInfo reads: name, type, domain, mean, sigma, min, max, missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.frame.chunk import Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.node.hashing import chunk_key

if TYPE_CHECKING:
    from h2ocloud.node.server import Node


def metas(header: FrameHeader) -> list[dict[str, Any]]:
    out = []
    for j, name in enumerate(header.names):
        s = header.stats[j] if j < len(header.stats) else {}
        out.append({"name": name, "type": header.types[j], "domain": header.domains[j],
                    "mean": s.get("mean"), "sigma": s.get("sigma"), "min": s.get("min"),
                    "max": s.get("max"), "missing": s.get("missing", 0)})
    return out


def columns(node: Node, header: FrameHeader, names: Sequence[str] | None = None,
            chunks: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Decoded columns of the given chunks (all by default), concatenated in row order.
    Runs in a worker thread (fetches remote chunks through the DKV)."""
    names = list(names) if names is not None else list(header.names)
    idx = list(range(header.nchunks)) if chunks is None else list(chunks)
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in idx:
        if header.chunk_rows[i] == 0:
            continue
        v = node.dkv.get_sync(chunk_key(header.frame_id, i))
        chunk = Chunk.from_wire(v.meta, v.blobs)
        for n in names:
            parts[n].append(chunk.column(n, header.domains[header.col_index(n)]))
    out = {}
    for n in names:
        dtype = np.int32 if header.types[header.col_index(n)] == "enum" else np.float64
        out[n] = np.concatenate(parts[n]).astype(dtype, copy=False) if parts[n] else np.zeros(0, dtype)
    return out


def store_table(node: Node, frame_id: str, data: dict[str, Any], source: str) -> FrameHeader:
    """Parse in-memory columns into a new frame in the DKV (chunks to their homes). Thread-side."""
    from h2ocloud.frame.parse import parse_table
    from h2ocloud.node.frames import chunk_value, header_value

    def emit(index: int, chunk: Chunk) -> None:
        node.dkv.put_sync(chunk_key(frame_id, index), chunk_value(chunk))

    header = parse_table(data, emit=emit, frame_id=frame_id, source=source)
    node.dkv.put_sync(frame_id, header_value(header))
    return header
