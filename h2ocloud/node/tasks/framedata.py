"""Columns of a frame as numpy arrays: one chunk's (map/reduce tasks), or the whole frame's for
code that needs it on one node (training on replicated data).

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
from h2ocloud.node.store.hashing import chunk_key

if TYPE_CHECKING:
    from h2ocloud.node.tasks.host import TaskHost as Node


def frame_header_sync(node: Node, frame_id: str, what: str) -> FrameHeader:
    """The header of frame ``frame_id`` (thread-side); ``what`` names the parameter in errors."""
    if not isinstance(frame_id, str) or not frame_id:
        raise ValueError(f"{what} is required")
    return FrameHeader.from_dict(node.dkv.get_kind_sync(frame_id, "frame", what).meta)


def metas(header: FrameHeader) -> list[dict[str, Any]]:
    out = []
    for j, name in enumerate(header.names):
        s = header.stats[j] if j < len(header.stats) else {}
        out.append({"name": name, "type": header.types[j], "domain": header.domains[j],
                    "mean": s.get("mean"), "sigma": s.get("sigma"), "min": s.get("min"),
                    "max": s.get("max"), "missing": s.get("missing", 0)})
    return out


def chunk_columns(header: FrameHeader, chunk: Chunk, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """One chunk's columns decoded against the frame's domains (string columns skipped)."""
    out = {}
    for name in names if names is not None else header.names:
        j = header.col_index(name)
        if header.types[j] == "string":
            continue
        v = chunk.column(name, header.domains[j])
        out[name] = v.astype(np.int32 if header.types[j] == "enum" else np.float64, copy=False)
    return out


def columns(node: Node, header: FrameHeader, names: Sequence[str] | None = None,
            chunks: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Decoded columns of the given chunks (all by default), concatenated in row order.
    Runs in a worker thread (fetches remote chunks through the DKV)."""
    names = [n for n in (names if names is not None else header.names)
             if header.types[header.col_index(n)] != "string"]
    idx = list(range(header.nchunks)) if chunks is None else list(chunks)
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in idx:
        if header.chunk_rows[i] == 0:
            continue
        v = node.dkv.get_sync(chunk_key(header.frame_id, i))
        for n, values in chunk_columns(header, Chunk.from_wire(v.meta, v.blobs), names).items():
            parts[n].append(values)
    out = {}
    for n, p in parts.items():
        dtype = np.int32 if header.types[header.col_index(n)] == "enum" else np.float64
        out[n] = np.concatenate(p) if p else np.zeros(0, dtype)
    return out
