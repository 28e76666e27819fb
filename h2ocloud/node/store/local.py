"""A node's shard of the distributed key-value store: the values this node holds.

A value is a kind ("frame", "chunk", "model", "job", ...), a JSON-able meta dict and a list of raw
byte blobs (numpy buffers). Nothing is pickled. The shard is read by the event loop and by worker
threads, so it has a lock; it refuses a put past `max_mem` with OutOfMemory instead of letting the
process be killed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from h2ocloud.errors import NotFound, OutOfMemory


@dataclass
class Value:
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(len(memoryview(b).cast("B")) for b in self.blobs)


def expect_kind(v: Value | None, key: str, kind: str, what: str = "") -> Value:
    """``v`` (the value stored under ``key``) when it is a ``kind``; NotFound when there is
    none, ValueError when it is another kind. ``what`` (a parameter name) prefixes the error."""
    prefix = f"{what}: " if what else ""
    if v is None:
        raise NotFound(f"{prefix}no {kind} {key!r}")
    if v.kind != kind:
        raise ValueError(f"{prefix}{key!r} is a {v.kind}, not a {kind}")
    return v


class Store:
    """Local key -> Value map with a byte cap."""

    def __init__(self, max_mem: int = 0):
        self.max_mem = max_mem
        self._lock = threading.Lock()
        self._values: dict[str, Value] = {}
        self._nbytes = 0

    def put(self, key: str, value: Value) -> None:
        size = value.nbytes
        with self._lock:
            old = self._values.get(key)
            new_total = self._nbytes - (old.nbytes if old else 0) + size
            if self.max_mem and new_total > self.max_mem:
                raise OutOfMemory(
                    f"storing {key!r} ({size} bytes) would take this node's store to {new_total} bytes,"
                    f" past --max-mem {self.max_mem}"
                )
            self._values[key] = value
            self._nbytes = new_total

    def get(self, key: str) -> Value | None:
        with self._lock:
            return self._values.get(key)

    def remove(self, key: str) -> bool:
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
            return old is not None

    def keys(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [k for k in self._values if k.startswith(prefix)]

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (keys, bytes) held here (for /metrics)."""
        out: dict[str, list[int]] = {}
        with self._lock:
            for v in self._values.values():
                acc = out.setdefault(v.kind, [0, 0])
                acc[0] += 1
                acc[1] += v.nbytes
        return {k: (c, b) for k, (c, b) in out.items()}

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._values

    @property
    def count(self) -> int:
        return len(self._values)

    @property
    def nbytes(self) -> int:
        return self._nbytes
