"""The distributed key-value store as one node sees it: put/get/remove anywhere in the cloud.

Each key lives on R home nodes (h2ocloud.node.store.hashing); this node's shard is `node.store`. A put goes
to every live home at once, a get reads the local copy or asks the homes in order. When membership
changes, every node pushes the keys it holds to homes that lack them and drops copies it no longer
homes once every home has one, so each key again has R live copies.

A frozen home (SIGSTOP, a partition) keeps its connections open and answers nothing until it is
declared dead. So as soon as a home is late (a few missed heartbeats, Membership.late_after), a
read goes to the next replica and a write completes on the homes that answered; the late home's
write is left running and lands when it wakes (if it fails, a re-replication round makes the copy).
A removal is sent to every member the same way and leaves tombstones, so a copy that was away
(a late write, a node back from the dead or restarted from its data dir) does not bring it back.

The async methods run on the event loop; worker threads use the *_sync forms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from h2ocloud.errors import NodeUnavailable, NotFound
from h2ocloud.node.cluster.peercall import Late, PeerLate, call_member
from h2ocloud.node.store import hashing
from h2ocloud.node.store.local import Store, Value, expect_kind

if TYPE_CHECKING:
    from h2ocloud.node.cluster.membership import Membership
    from h2ocloud.node.cluster.peers import PeerClient
    from h2ocloud.node.config import NodeConfig

log = logging.getLogger("h2ocloud.dkv")
PUT_ATTEMPTS = 3  # tries per home of a put before the copy is given up
PUT_RETRY_SECONDS = 0.5
SUSPECT_SECONDS = 10.0  # after a home failed its retries, later puts try it once only


class DKVHost(Protocol):
    """What the DKV needs from its node: its id, shard, membership and peer client."""

    node_id: str
    config: NodeConfig
    store: Store
    membership: Membership
    peer_client: PeerClient


def value_to_wire(value: Value) -> tuple[dict[str, Any], list[Any]]:
    return {"kind": value.kind, "meta": value.meta, "stamp": value.stamp}, list(value.blobs)


def value_from_wire(header: dict[str, Any], blobs: list[bytes]) -> Value:
    stamp = header.get("stamp") or time.time()
    return Value(kind=header["kind"], meta=header.get("meta") or {}, blobs=list(blobs), stamp=float(stamp))


class DKV:
    """Cloud-wide store operations for one node."""

    def __init__(self, node: DKVHost):
        self.node = node
        self.loop: asyncio.AbstractEventLoop | None = None
        self._rebalance_task: asyncio.Task | None = None
        self._rebalance_again = False
        self.copies_missing = 0  # copies the last re-replication found missing and could not make
        self._suspects: dict[str, float] = {}  # node id -> when a put to it last gave up
        node.membership.add_listener(self._on_membership_change)

    # ---- placement -------------------------------------------------------------------
    def replication(self) -> int:
        n = len(self.node.membership.members)
        r = self.node.config.replication or (2 if n >= 2 else 1)
        return max(1, min(r, n))

    def homes(self, key: str) -> list[str]:
        return hashing.homes(key, self.node.membership.members, self.replication())

    def is_home(self, key: str) -> bool:
        return self.node.node_id in self.homes(key)

    # ---- async API (event loop) ----------------------------------------------------------
    async def put(self, key: str, value: Value) -> list[str]:
        """Store value on every live home of key at once; return the homes that took it. A home
        that is late is not waited for: its copy lands when it answers (or by re-replication)."""
        homes = self.homes(key)
        results = await asyncio.gather(*(self._put_home(nid, key, value) for nid in homes))
        stored = [nid for nid, err in zip(homes, results) if err is None]
        errors = [err for err in results if err is not None]
        if not stored:
            raise NodeUnavailable(f"no home of {key!r} could store it: {'; '.join(errors)}")
        if errors:
            log.warning("%s stored on %d of its homes: %s", key, len(stored), "; ".join(errors))
        return stored

    async def _put_home(self, nid: str, key: str, value: Value) -> str | None:
        """Put on one home with retries; None when stored, else why not."""
        for attempt in range(PUT_ATTEMPTS):
            try:
                await self._put_on(nid, key, value, late="detach")
                return None
            except PeerLate as e:
                return f"{e}; it gets its copy when it answers"
            except NodeUnavailable as e:
                # A home that is still a member may be busy, not gone: a copy skipped here
                # would leave the key under-replicated until the next membership change. A
                # home that failed a retry lately is not waited for again (it may be dying).
                suspect = time.monotonic() - self._suspects.get(nid, -1e9) < SUSPECT_SECONDS
                if attempt + 1 == PUT_ATTEMPTS or suspect or nid not in self.node.membership.members:
                    self._suspects[nid] = time.monotonic()
                    return str(e)
                await asyncio.sleep(PUT_RETRY_SECONDS * (attempt + 1))
        return "no attempt left"

    async def _put_on(self, nid: str, key: str, value: Value, late: Late = "wait") -> None:
        if nid == self.node.node_id:
            self.node.store.put(key, value)
            return
        head, blobs = value_to_wire(value)
        await call_member(self.node, nid, "dkv.store", {"key": key, **head}, blobs, timeout=120, late=late,
                          on_detached_fail=lambda e: self.schedule_rebalance())

    async def get(self, key: str) -> Value:
        """The value of key from this node or its homes; NotFound when no live node has it.
        Homes that are late are asked last, and a home that turns late while asked is left
        for the next one (a failed-over read)."""
        v = self.node.store.get(key)
        if v is not None:
            return v
        seen: set[str] = {self.node.node_id}
        candidates = [n for n in self.homes(key) + list(self.node.membership.members)
                      if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]
        candidates.sort(key=self.node.membership.is_late)  # stable: home order kept among the prompt
        for nid in candidates:
            try:
                head, blobs = await call_member(self.node, nid, "dkv.fetch", {"key": key}, timeout=60, late="cancel")
            except (NotFound, NodeUnavailable, KeyError):
                continue
            return value_from_wire(head, blobs)
        raise NotFound(f"no key {key!r} in the cloud")

    async def get_or_none(self, key: str) -> Value | None:
        try:
            return await self.get(key)
        except NotFound:
            return None

    async def get_kind(self, key: str, kind: str, what: str = "") -> Value:
        """The value of key, which must be a ``kind`` ("frame", "model"): NotFound when there
        is none, ValueError when it is something else; ``what`` names the parameter."""
        return expect_kind(await self.get_or_none(key), key, kind, what)

    async def remove(self, key: str) -> None:
        """Remove key from every node (homes may have moved: ask everyone)."""
        await self.remove_many([key])

    async def remove_many(self, keys: list[str]) -> None:
        """Remove keys from every node; each keeps a tombstone. A late member is not waited
        for: the removal lands when it answers."""
        stamp = time.time()
        for k in keys:
            self.node.store.delete(k, stamp)
        if keys:
            await self._to_peers("dkv.delete", {"keys": keys, "stamp": stamp}, timeout=60, late="detach")

    async def _to_peers(self, name: str, args: dict[str, Any], timeout: float,
                        late: Late) -> dict[str, tuple[dict[str, Any], list[bytes]]]:
        """Call name on every other member at once; node id -> reply of those that answered."""
        peers = [nid for nid in self.node.membership.members if nid != self.node.node_id]

        async def one(nid: str) -> tuple[dict[str, Any], list[bytes]] | None:
            try:
                return await call_member(self.node, nid, name, args, timeout=timeout, late=late)
            except Exception as e:  # a dead or late peer must not stop the others
                log.warning("%s on %s: %s", name, nid, e)
                return None

        replies = await asyncio.gather(*(one(n) for n in peers))
        return {nid: r for nid, r in zip(peers, replies) if r is not None}

    async def keys(self, prefix: str = "") -> list[str]:
        """Every key in the cloud with prefix (union over live nodes; a late node's keys are
        also on their other homes)."""
        out = set(self.node.store.keys(prefix))
        for head, _ in (await self._to_peers("dkv.keys", {"prefix": prefix}, timeout=10, late="cancel")).values():
            out.update(head["keys"])
        return sorted(out)

    async def values_of_kind(self, kind: str) -> list[tuple[str, Value]]:
        """(key, value) of every user-visible key of a kind ("frame", "model") in the cloud."""
        out = []
        for key in await self.keys():
            if hashing.parse_chunk_key(key) is not None or (key.startswith("$job/") and kind != "job"):
                continue  # chunks and job records are not fetched to find frames or models
            v = await self.get_or_none(key)
            if v is not None and v.kind == kind:
                out.append((key, v))
        return out

    # ---- sync API (worker threads) ------------------------------------------------------
    def _sync(self, coro):
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def put_sync(self, key: str, value: Value) -> list[str]:
        return self._sync(self.put(key, value))

    def get_sync(self, key: str) -> Value:
        v = self.node.store.get(key)
        return v if v is not None else self._sync(self.get(key))

    def get_kind_sync(self, key: str, kind: str, what: str = "") -> Value:
        """get_kind from a worker thread."""
        v = self.node.store.get(key)
        return expect_kind(v, key, kind, what) if v is not None else self._sync(self.get_kind(key, kind, what))

    def replication_deficit(self) -> int:
        """Copies missing among the keys this node is the first home of: the ones the cloud is
        too small to hold (--replication above its size), plus those the last re-replication
        could not make. 0 in a healthy cloud."""
        n = len(self.node.membership.members)
        wanted = self.node.config.replication or (2 if n >= 2 else 1)
        short = max(0, wanted - n)
        primaries = sum(1 for k in self.node.store.keys() if self.homes(k)[:1] == [self.node.node_id]) if short else 0
        return short * primaries + self.copies_missing

    # ---- re-replication ------------------------------------------------------------------
    def _on_membership_change(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        self.schedule_rebalance()

    def schedule_rebalance(self) -> None:
        """Run a re-replication round soon (again after the current one, if one is running)."""
        if self._rebalance_task and not self._rebalance_task.done():
            self._rebalance_again = True
            return
        self._rebalance_task = asyncio.get_running_loop().create_task(self._rebalance_loop())

    async def _rebalance_loop(self) -> None:
        while True:
            self._rebalance_again = False
            try:
                await self.rebalance()
            except Exception:
                log.exception("re-replication failed")
            if not self._rebalance_again:
                return

    async def _exchange(self, nid: str, keys: list[str], timeout: float) -> list[str]:
        """Ask home nid which of keys it lacks (sending when each of our copies was made); keys
        it has a newer tombstone for were removed while this copy was away: drop them here.
        Returns the keys to push."""
        stamps = []
        for k in keys:
            v = self.node.store.get(k)
            stamps.append(v.stamp if v is not None else 0.0)
        head, _ = await call_member(self.node, nid, "dkv.missing", {"keys": keys, "stamps": stamps},
                                    timeout=timeout, late="cancel")
        removed = head.get("removed") or {}
        for k, when in removed.items():
            if self.node.store.delete(k, float(when)):
                log.info("%s was removed from the cloud while this copy was away: dropped", k)
        return [k for k in head["missing"] if k not in removed]

    async def hand_off(self) -> int:
        """A stopping node's last act: give each key it holds to the homes the key will have
        once this node has left, where they lack it. Returns the copies pushed."""
        me = self.node.node_id
        rest = tuple(m for m in self.node.membership.members if m != me)
        if not rest:
            return 0
        r = max(1, min(self.node.config.replication or 2, len(rest)))
        want: dict[str, list[str]] = {}
        for key in self.node.store.keys():
            for nid in hashing.homes(key, rest, r):
                want.setdefault(nid, []).append(key)
        pushed = 0
        for nid, keys in want.items():
            try:
                for key in await self._exchange(nid, keys, 30):
                    v = self.node.store.get(key)
                    if v is not None:
                        await self._put_on(nid, key, v)
                        pushed += 1
            except Exception as e:
                log.warning("hand-off to %s failed: %s", nid, e)
        return pushed

    async def rebalance(self) -> dict[str, int]:
        """Copy local keys to homes that lack them; drop copies this node no longer homes."""
        me = self.node.node_id
        want: dict[str, list[str]] = {}
        for key in self.node.store.keys():
            for nid in self.homes(key):
                if nid != me:
                    want.setdefault(nid, []).append(key)
        pushed, confirmed, unmade = 0, {}, 0
        for nid, keys in want.items():
            todo = len(keys)  # until the home says which it lacks, all may be missing
            try:
                missing = await self._exchange(nid, keys, 30)
                todo = len(missing)
                for key in missing:
                    v = self.node.store.get(key)
                    if v is not None:
                        await self._put_on(nid, key, v)
                        pushed += 1
                    todo -= 1
                confirmed[nid] = set(keys)
            except Exception as e:
                unmade += todo
                log.warning("re-replication to %s failed: %s", nid, e)
        self.copies_missing = unmade
        dropped = 0
        for key in self.node.store.keys():
            hs = self.homes(key)
            if me not in hs and all(key in confirmed.get(h, ()) for h in hs):
                self.node.store.remove(key)
                dropped += 1
        if pushed or dropped:
            log.info("re-replication: pushed %d copies, dropped %d", pushed, dropped)
        return {"pushed": pushed, "dropped": dropped}

