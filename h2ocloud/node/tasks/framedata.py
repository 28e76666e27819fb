"""Columns of a frame as numpy arrays: one chunk's (map/reduce tasks), or the whole frame's for
code that needs it on one node (training on replicated data).

Numeric columns come back float64 with NaN for missing, factors as int32 codes into the frame's
domain with -1 for missing — the form h2ocloud.dl expects. Column metadata ("metas") is what
DataInfo reads: name, type, domain, mean, sigma, min, max, missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from h2ocloud.frame.chunk import Chunk
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.standardize import StandardizePlan, standardize_into
from h2ocloud.node.store.hashing import chunk_key

if TYPE_CHECKING:
    from h2ocloud.dl.datainfo import DataInfo
    from h2ocloud.node.store.local import Value
    from h2ocloud.node.tasks.host import TaskHost as Node


def frame_header_sync(node: Node, frame_id: str, what: str) -> FrameHeader:
    """The header of frame ``frame_id`` (thread-side); ``what`` names the parameter in errors."""
    if not isinstance(frame_id, str) or not frame_id:
        raise ValueError(f"{what} is required")
    return stored_header(node.dkv.get_kind_sync(frame_id, "frame", what))


def stored_header(v: Value) -> FrameHeader:
    """The header a stored frame value holds, parsed the first time it is read and kept on the
    value, as stored_chunk keeps chunks: so is its JSON text once made (FrameHeader.to_json,
    which every map/reduce call over the frame sends). Every reader of the value shares it,
    so nobody changes it: code that makes a new frame builds a header of its own."""
    h = v.decoded
    if not isinstance(h, FrameHeader):
        h = FrameHeader.from_dict(v.meta)
        v.decoded = h
    return h


def metas(header: FrameHeader) -> list[dict[str, Any]]:
    """Each column's metadata as DataInfo reads it (name, type, domain and statistics); made
    once per header and kept on it (every prediction and validation scoring asked again, 785
    dicts for MNIST). Shared: read, do not change."""
    kept = header.derived.get("metas")
    if kept is None:
        kept = header.derived["metas"] = _metas(header)
    return kept


def _metas(header: FrameHeader) -> list[dict[str, Any]]:
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
        out[name] = _decoded(header, chunk, name, j)
    return out


def _decoded(header: FrameHeader, chunk: Chunk, name: str, j: int) -> np.ndarray:
    v = chunk.column(name, header.domains[j])
    return v.astype(np.int32 if header.types[j] == "enum" else np.float64, copy=False)


def stored_chunk(v: Value) -> Chunk:
    """The chunk a stored value holds, decoded the first time it is read and kept on the value.

    Every map over a frame reads its chunks again (a prediction, each training iteration's
    scoring), and rebuilding MNIST's 785 column objects cost about 1 ms a chunk, a tenth of a
    prediction's CPU. What is kept is small: the column objects, whose arrays are views of the
    value's own blobs. A malformed value raises each time (nothing is kept)."""
    c = v.decoded
    if not isinstance(c, Chunk):
        c = Chunk.from_wire(v.meta, v.blobs)
        v.decoded = c  # two threads decoding at once keep one of two equal chunks
    return c


class ChunkColumns(Mapping[str, np.ndarray]):
    """chunk_columns's mapping, each column decoded when first read; the numeric ones a model
    reads as inputs are never decoded, but standardized straight into its input matrix
    (DataInfo.transform calls standardize_into): MNIST's 717 pixel columns would otherwise go
    through a float64 array each on their way to one float32 matrix."""

    def __init__(self, header: FrameHeader, chunk: Chunk, names: Sequence[str] | None = None):
        self._header, self._chunk = header, chunk
        strings = {n for n, t in zip(header.names, header.types, strict=True) if t == "string"}
        self._names = [n for n in (names if names is not None else header.names) if n not in strings]
        self._known = set(self._names)
        self._values: dict[str, np.ndarray] = {}
        self.nrows = chunk.nrows

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._known:
            raise KeyError(name)
        v = self._values.get(name)
        if v is None:
            v = self._values[name] = _decoded(self._header, self._chunk, name, self._header.col_index(name))
        return v

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def standardize_into(self, names: Sequence[str], mean: np.ndarray, sigma: np.ndarray,
                         fill: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The numeric columns ``names``, standardized into ``out``'s columns: see
        h2ocloud.frame.standardize.standardize_into (rows with a missing value returned)."""
        if not self._known.issuperset(names):
            raise KeyError(sorted(set(names) - self._known)[0])
        # The plan of these columns is kept on the chunk: a stored chunk is decoded once and
        # scored again and again (every prediction, every training iteration's scoring).
        key = ("standardize", tuple(names))
        plan = self._chunk.derived.get(key)
        if plan is None:
            columns = self._chunk.columns
            plan = StandardizePlan([columns[j] for j in self._chunk.indices(names)], self.nrows)
            self._chunk.derived[key] = plan
        return standardize_into(plan, mean, sigma, fill, out)


def model_inputs(node: Node, header: FrameHeader, info: DataInfo, metas: list[dict[str, Any]]) -> np.ndarray:
    """A model's input matrix (info.transform, row-major) of a whole frame, in row order: each
    chunk's columns standardized from their stored form (ChunkColumns), not decoded to float64
    first. Decoding MNIST's 785 columns chunk by chunk and concatenating them, then transforming
    the whole float64 block, cost as much as the rest of setting up a training job."""
    present = set(header.names)
    names = [n for n in info.model_columns if n in present]  # a missing one is named by transform
    parts = [info.transform(metas, ChunkColumns(header, stored_chunk(node.dkv.get_sync(chunk_key(header.frame_id, i))),
                                                names))
             for i in range(header.nchunks) if header.chunk_rows[i]]
    if not parts:
        return info.transform(metas, columns(node, header, names))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


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
        for n, values in chunk_columns(header, stored_chunk(v), names).items():
            parts[n].append(values)
    out = {}
    for n, p in parts.items():
        dtype = np.int32 if header.types[header.col_index(n)] == "enum" else np.float64
        out[n] = np.concatenate(p) if p else np.zeros(0, dtype)
    return out
