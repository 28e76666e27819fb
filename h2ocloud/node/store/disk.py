"""A node's shard on disk: with --data-dir, every value the node holds survives its restart.

One file per key under <data dir>/dkv, named by a hash of the key (keys hold any character). A
file is a magic line, the length of a JSON header, the header (key, kind, meta, blob sizes, the
value's stamp), the blobs' raw bytes, and a BLAKE2b digest of everything before it. It is written
to a temporary name and renamed over the old one, so a reader sees the old file or the new one,
never half of one; a file that is truncated or corrupt anyway (a full disk, a bad copy) fails its
digest at load and is reported and skipped, the other keys load. Nothing is pickled: the header is
JSON (read with wire.loads) and blobs are the same raw bytes that travel between peers.

A removed key leaves a tombstone file (its removal time) where its value was, so a copy of it
that a node kept while it was away is recognised as stale and not brought back (see DKV).

Writes go through one background thread: a put returns at once and the event loop never waits
on the disk; a key written again before its turn is written once (job records change often).
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h2ocloud import wire

log = logging.getLogger("h2ocloud.disk")

MAGIC = b"H2OCDKV1\n"
DIGEST = 32
SUFFIX = ".val"
TOMBSTONE_KEEP_S = 7 * 24 * 3600.0  # a removal older than this cannot matter any more


@dataclass
class Loaded:
    """One file read back: a value (kind, meta, blobs, stamp) or a tombstone (kind None)."""

    key: str
    kind: str | None
    meta: dict[str, Any]
    blobs: list[bytes]
    stamp: float


class CorruptFile(ValueError):
    """A file of the store that cannot be read back (the message says why)."""


def file_name(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + SUFFIX


def encode(key: str, kind: str | None, meta: dict[str, Any], blobs: list[Any], stamp: float) -> list[Any]:
    """The pieces of one file, in order (the digest last)."""
    views = [wire._as_bytes_view(b) for b in blobs]
    head = wire.dumps({"key": key, "kind": kind, "meta": meta, "blobs": [len(v) for v in views],
                       "stamp": stamp}).encode()
    h = hashlib.blake2b(digest_size=DIGEST)
    parts: list[Any] = [MAGIC, struct.pack(">Q", len(head)), head, *views]
    for p in parts:
        h.update(p)
    return [*parts, h.digest()]


def decode(data: bytes) -> Loaded:
    """Read one file's bytes back; CorruptFile says what is wrong."""
    if len(data) < len(MAGIC) + 8 + DIGEST or not data.startswith(MAGIC):
        raise CorruptFile(f"not an h2ocloud store file, or truncated ({len(data)} bytes)")
    body, digest = data[:-DIGEST], data[-DIGEST:]
    if hashlib.blake2b(body, digest_size=DIGEST).digest() != digest:
        raise CorruptFile(f"checksum mismatch ({len(data)} bytes: truncated or corrupted)")
    (n,) = struct.unpack(">Q", body[len(MAGIC):len(MAGIC) + 8])
    start = len(MAGIC) + 8
    head = wire.loads(body[start:start + n], "store file header")
    if not isinstance(head, dict) or not isinstance(head.get("key"), str):
        raise CorruptFile("store file header names no key")
    pos, blobs = start + n, []
    for size in head.get("blobs") or []:
        blobs.append(body[pos:pos + int(size)])
        pos += int(size)
    if pos != len(body):
        raise CorruptFile(f"blob sizes add up to {pos - start - n} bytes, the file holds {len(body) - start - n}")
    return Loaded(head["key"], head.get("kind"), head.get("meta") or {}, blobs, float(head.get("stamp") or 0.0))


class DiskStore:
    """The files of one node's shard, written by a background thread."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[str | None, dict[str, Any], list[Any], float] | None] = {}
        self._busy = False
        self._closed = False
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="h2ocloud-disk", daemon=True)
        self._thread.start()

    # ---- queueing (any thread) ---------------------------------------------------------
    def save(self, key: str, kind: str, meta: dict[str, Any], blobs: list[Any], stamp: float) -> None:
        self._queue(key, (kind, meta, list(blobs), stamp))

    def tombstone(self, key: str, stamp: float) -> None:
        self._queue(key, (None, {}, [], stamp))

    def delete(self, key: str) -> None:
        self._queue(key, None)

    def _queue(self, key: str, item: tuple[str | None, dict[str, Any], list[Any], float] | None) -> None:
        with self._cond:
            self._pending.pop(key, None)  # re-queued at the end: the latest state wins
            self._pending[key] = item
            self._cond.notify()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued write is on disk; False at the timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> None:
        if not self.flush(timeout):
            log.warning("%d store writes not on disk at stop", len(self._pending))
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ---- the writer thread --------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                key = next(iter(self._pending))
                item = self._pending.pop(key)
                self._busy = True
            try:
                self._write(key, item)
            except Exception as e:  # a full disk must not stop the node: the value stays in memory
                log.warning("could not write %r to %s: %s", key, self.root, e)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, key: str, item: tuple[str | None, dict[str, Any], list[Any], float] | None) -> None:
        path = self.root / file_name(key)
        if item is None:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            for piece in encode(key, *item):
                f.write(piece)
        os.replace(tmp, path)  # atomic: the old file or the new one, never half
        self.written += 1

    # ---- reading back (at start, before the node serves) ------------------------------------
    def load(self) -> Iterator[Loaded]:
        """Every readable file; a corrupt one is reported (its name and why) and set aside as
        *.corrupt so it is neither loaded nor overwritten; leftovers of interrupted writes go."""
        now = time.time()
        for path in sorted(self.root.iterdir()):
            if ".tmp" in path.name:
                path.unlink(missing_ok=True)
                continue
            if not path.name.endswith(SUFFIX):
                continue
            try:
                item = decode(path.read_bytes())
            except (CorruptFile, ValueError, OSError) as e:
                log.error("store file %s skipped: %s (set aside as %s.corrupt)", path, e, path.name)
                try:
                    path.rename(path.with_name(path.name + ".corrupt"))
                except OSError:
                    pass
                continue
            if item.kind is None and now - item.stamp > TOMBSTONE_KEEP_S:
                path.unlink(missing_ok=True)
                continue
            yield item
