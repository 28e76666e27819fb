"""The frame header: everything about a frame except its chunks (one DKV key)."""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from h2ocloud.frame.chunk import ENUM, name_position

STAT_KEYS = ("min", "max", "mean", "sigma", "missing", "zeros", "cardinality")


@dataclass
class FrameHeader:
    """Names, types, factor domains, row count, chunk layout and per-column rollups.

    ``chunk_rows[i]`` is the row count of chunk i; ``row_offsets[i]`` its first global row.
    ``stats[j]`` holds STAT_KEYS for column j (NaN/None where not defined, e.g. the mean of a
    string column). ``nbytes`` is the stored size of all chunks.
    """

    frame_id: str
    names: list[str]
    types: list[str]
    domains: list[list[str] | None]
    nrows: int
    chunk_rows: list[int]
    stats: list[dict[str, Any]] = field(default_factory=list)
    nbytes: int = 0
    source: str | None = None
    # What readers work out from the header and keep while it lives (one read from the DKV
    # lives with its stored value: framedata.stored_header), keyed by reader: its JSON text
    # (to_json), the column metadata a model transforms chunks with (framedata.metas). Headers
    # that are read (from the DKV, from a call) are never changed; code making a new frame
    # builds a new header.
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def ncols(self) -> int:
        """Number of columns."""
        return len(self.names)

    @property
    def nchunks(self) -> int:
        """Number of chunks."""
        return len(self.chunk_rows)

    @property
    def row_offsets(self) -> list[int]:
        """Global index of each chunk's first row."""
        return [0, *accumulate(self.chunk_rows)][:-1] if self.chunk_rows else []

    def chunk_of_row(self, row: int) -> tuple[int, int]:
        """(chunk index, row within the chunk) of a global row index."""
        if not 0 <= row < self.nrows:
            raise IndexError(f"row {row} out of range 0..{self.nrows - 1}")
        offsets = self.row_offsets
        i = bisect.bisect_right(offsets, row) - 1
        return i, row - offsets[i]

    def col_index(self, name: str) -> int:
        """Position of a column by name."""
        j = name_position(self, self.names, name)
        if j is None:
            raise KeyError(f"no column {name!r} in frame {self.frame_id!r}")
        return j

    def domain(self, col: int | str) -> list[str] | None:
        """Factor levels of a column (None unless it is an enum)."""
        j = self.col_index(col) if isinstance(col, str) else col
        return self.domains[j]

    def is_enum(self, col: int | str) -> bool:
        """True for a factor column."""
        j = self.col_index(col) if isinstance(col, str) else col
        return self.types[j] == ENUM

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON dict (NaN and infinities become None)."""
        return {
            "frame_id": self.frame_id,
            "names": list(self.names),
            "types": list(self.types),
            "domains": [None if d is None else list(d) for d in self.domains],
            "nrows": int(self.nrows),
            "chunk_rows": [int(n) for n in self.chunk_rows],
            "stats": [{k: _json_number(v) for k, v in s.items()} for s in self.stats],
            "nbytes": int(self.nbytes),
            "source": self.source,
        }

    def to_json(self) -> str:
        """to_dict as JSON text, made once per header object: a header is sent with every
        map/reduce call over its frame (MNIST's is 120 KB of JSON, 5 ms to encode)."""
        text = self.derived.get("json")
        if text is None:
            text = self.derived["json"] = json.dumps(self.to_dict())
        return text

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrameHeader:
        """Inverse of to_dict (None statistics come back as NaN)."""
        stats = [
            {k: (math.nan if v is None and k in ("min", "max", "mean", "sigma") else v)
             for k, v in s.items()}
            for s in d.get("stats", [])
        ]
        return cls(
            frame_id=d["frame_id"],
            names=list(d["names"]),
            types=list(d["types"]),
            domains=[None if x is None else list(x) for x in d["domains"]],
            nrows=int(d["nrows"]),
            chunk_rows=[int(n) for n in d["chunk_rows"]],
            stats=stats,
            nbytes=int(d.get("nbytes", 0)),
            source=d.get("source"),
        )


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):  # numpy scalar
        return _json_number(v.item())
    return v
