"""A node's shard of the distributed key-value store: the values this node holds.

A value is a kind ("frame", "chunk", "model", "job", ...), a JSON-able meta dict and a list of raw
byte blobs (numpy buffers). Nothing is pickled. The shard is read by the event loop and by worker
threads, so it has a lock; it refuses a put past `max_mem` with OutOfMemory instead of letting the
process be killed.

Each value carries a stamp (when it was made). A key removed from the cloud leaves a tombstone
(when it was removed) so that an older copy arriving later (a late write, a node back from the
dead or restarted from its data dir) is recognised as stale rather than bringing the key back. With
a DiskStore attached (--data-dir) every change is also written to disk (see disk.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from h2ocloud.errors import NotFound, OutOfMemory

if TYPE_CHECKING:
    from h2ocloud.node.store.disk import DiskStore

log = logging.getLogger("h2ocloud.store")
# Job records (tasks/jobs.py) are bookkeeping, not data: a node's key count (its status, the
# console) leaves them out, as it leaves out everything but what users stored and computed.
RECORD_KINDS = frozenset({"job"})
MAX_TOMBSTONES = 100_000  # removals remembered in memory (oldest forgotten first)


@dataclass
class Value:
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)
    stamp: float = field(default_factory=time.time)  # when it was made (wall clock, as tombstones)
    # The value decoded, kept by the first reader that decodes it (framedata.stored_chunk): a
    # value is never changed once made, so its decoded form lives and dies with it. Not data:
    # left out of comparisons and of the byte count (a chunk's arrays are views of the blobs).
    decoded: Any = field(default=None, compare=False, repr=False)

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
        self._records = 0  # values of RECORD_KINDS held (not counted as data keys)
        self._tombstones: OrderedDict[str, float] = OrderedDict()  # key -> when it was removed
        self.disk: DiskStore | None = None

    def attach_disk(self, disk: DiskStore) -> int:
        """Load what disk holds (values and tombstones) and write every later change to it.
        Returns the values loaded; a value past max_mem is reported and left on disk."""
        loaded = 0
        for item in disk.load():
            if item.kind is None:
                self._remember_removal(item.key, item.stamp)
                continue
            try:
                self.put(item.key, Value(item.kind, item.meta, item.blobs, item.stamp))
                loaded += 1
            except OutOfMemory as e:
                log.error("stored value %r not loaded: %s", item.key, e)
        self.disk = disk
        return loaded

    def removed_at(self, key: str) -> float | None:
        """When key was removed from the cloud (its tombstone), or None."""
        with self._lock:
            return self._tombstones.get(key)

    def _remember_removal(self, key: str, stamp: float) -> None:
        with self._lock:
            self._tombstones.pop(key, None)
            self._tombstones[key] = stamp
            while len(self._tombstones) > MAX_TOMBSTONES:
                self._tombstones.popitem(last=False)

    def put(self, key: str, value: Value) -> bool:
        """Hold value under key; False (and nothing stored) when the key was removed after the
        value was made: a stale copy arriving late."""
        size = value.nbytes
        with self._lock:
            removed = self._tombstones.get(key)
            if removed is not None:
                if value.stamp < removed:
                    return False
                del self._tombstones[key]
            old = self._values.get(key)
            new_total = self._nbytes - (old.nbytes if old else 0) + size
            if self.max_mem and new_total > self.max_mem:
                raise OutOfMemory(
                    f"storing {key!r} ({size} bytes) would take this node's store to {new_total} bytes,"
                    f" past --max-mem {self.max_mem}"
                )
            self._values[key] = value
            self._nbytes = new_total
            self._records += (value.kind in RECORD_KINDS) - (old is not None and old.kind in RECORD_KINDS)
        if self.disk is not None:
            self.disk.save(key, value.kind, value.meta, value.blobs, value.stamp)
        return True

    def get(self, key: str) -> Value | None:
        with self._lock:
            return self._values.get(key)

    def remove(self, key: str) -> bool:
        """Drop this node's copy (the key moved to other homes); no tombstone."""
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
                self._records -= old.kind in RECORD_KINDS
        if old is not None and self.disk is not None:
            self.disk.delete(key)
        return old is not None

    def delete(self, key: str, stamp: float | None = None) -> bool:
        """The key was removed from the cloud at stamp (default now): drop the copy and keep a
        tombstone (on disk too where the value was, so a restart does not bring it back)."""
        stamp = time.time() if stamp is None else stamp
        with self._lock:
            old = self._values.get(key)
            if old is not None and old.stamp > stamp:
                return False  # made again after that removal
            if old is not None:
                del self._values[key]
                self._nbytes -= old.nbytes
                self._records -= old.kind in RECORD_KINDS
        self._remember_removal(key, stamp)
        if old is not None and self.disk is not None:
            self.disk.tombstone(key, stamp)
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
        """Keys of data held here (frames, chunks, models, grids), not bookkeeping records."""
        return len(self._values) - self._records

    @property
    def nbytes(self) -> int:
        return self._nbytes
