"""Membership: who is in the cloud, kept by gRPC heartbeats, with an agreed epoch.

Every `heartbeat_interval` a node sends a heartbeat to every address it knows (from discovery and
from what peers gossip); each heartbeat has a deadline and runs on its own, so a frozen peer
delays nobody else's. A peer that has not answered or called for `heartbeat_timeout` seconds is
declared dead (checked several times a second, not only once per round). A peer is admitted only
once a heartbeat of ours reached it on the address it advertises and the same node id answered
(reachback.py): a heartbeat it sends us only queues that call-back, so a forged one, with no
process behind its address, never becomes a member nor learns our peers. A node that comes back
on the same address with a new id replaces the old one. The member set is this node plus the live peers; whenever it changes here the
epoch becomes one more than the largest epoch seen, and a node that sees a peer with the same
member set and a larger epoch adopts it, so the live nodes converge on one (epoch, members).
Listeners (the DKV's re-replication) are told of every change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from h2ocloud import __version__
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb
from h2ocloud.node.cluster import sysinfo
from h2ocloud.node.cluster.reachback import ReachBack
from h2ocloud.node.cluster.seedbook import SeedBook

if TYPE_CHECKING:
    from h2ocloud.node.cluster.host import ClusterHost

log = logging.getLogger("h2ocloud.membership")

MAX_REFUSED = 64  # refusals kept for the status page: a noisy network must not grow it forever


def major(version: str) -> str:
    return version.split(".")[0]


@dataclass
class Peer:
    status: pb.NodeStatus
    last_seen: float  # time.monotonic()
    epoch: int = 0
    members: tuple[str, ...] = ()
    alive: bool = True
    # Our last heartbeat to it found nothing at its address (connection refused, no TLS
    # handshake): its incoming heartbeats do not keep it alive until one of ours answers again,
    # so a forger repeating a dead member's id cannot keep keys homed on it.
    unreachable: bool = False

    @property
    def address(self) -> str:
        return f"{self.status.host}:{self.status.grpc_port}"


class Membership:
    """The node's view of the cloud. Runs on the node's event loop only."""

    def __init__(self, node: ClusterHost):
        self.node = node
        self.cfg = node.config
        self._left: set[str] = set()  # ids of peers that said they were stopping
        self.peers: dict[str, Peer] = {}  # node id -> peer (alive or dead)
        self.seeds = SeedBook()  # addresses named by discovery providers and by gossip
        self.reach_back = ReachBack()  # callers to call back before they are admitted
        self.epoch = 1
        self._max_epoch_seen = 1
        self._members: tuple[str, ...] = (node.node_id,)
        self._listeners: list[Callable[[tuple[str, ...], tuple[str, ...]], None]] = []
        self._task: asyncio.Task | None = None
        self._inflight: dict[str, asyncio.Task] = {}  # address -> its heartbeat under way
        self._self_addresses: set[str] = set()  # other spellings of our own address (seen in replies)
        self.refused: dict[str, str] = {}  # address -> why it was not admitted
        self.formed_size = 0  # the largest member count seen in consensus (readiness latches on it)

    # ---- views -------------------------------------------------------------------------
    def self_status(self) -> pb.NodeStatus:
        n = self.node
        return pb.NodeStatus(
            node_id=n.node_id, cloud_name=self.cfg.name, version=__version__, host=n.advertise_host,
            grpc_port=n.grpc_port, web_port=n.web_port, cores=sysinfo.cores(),
            free_mem=sysinfo.free_memory(), max_mem=self.cfg.effective_max_mem or sysinfo.total_memory(),
            health="healthy", keys=n.store.count, bytes=n.store.nbytes, last_seen_s=0.0,
            started_ms=n.started_ms, nthreads=self.cfg.effective_nthreads,
        )

    @property
    def members(self) -> tuple[str, ...]:
        """Live member node ids, sorted (this node included)."""
        return self._members

    def address_of(self, node_id: str) -> str:
        if node_id == self.node.node_id:
            return f"{self.node.advertise_host}:{self.node.grpc_port}"
        return self.peers[node_id].address

    def late_after(self) -> float:
        """Seconds without a heartbeat after which a peer counts as late: a few missed rounds,
        far below the dead timeout. Reads and map tasks go to another replica of a late peer,
        and writes complete on the other homes (see peercall.call_member)."""
        return min(max(2.5 * self.cfg.heartbeat_interval, 1.0), max(0.5, self.cfg.heartbeat_timeout / 2))

    def is_late(self, node_id: str) -> bool:
        """Whether a member has been silent for late_after() (this node never is)."""
        p = self.peers.get(node_id)
        if node_id == self.node.node_id or p is None:
            return False
        return not p.alive or time.monotonic() - p.last_seen > self.late_after()

    def add_listener(self, fn: Callable[[tuple[str, ...], tuple[str, ...]], None]) -> None:
        """fn(old_members, new_members) is called on every membership change."""
        self._listeners.append(fn)

    def consensus(self) -> bool:
        for nid in self._members:
            if nid == self.node.node_id:
                continue
            p = self.peers.get(nid)
            if p is None or p.epoch != self.epoch or p.members != self._members:
                return False
        return True

    def not_ready_reason(self, min_size: int) -> str | None:
        """None once the cloud has formed with min_size members in consensus (and from then on:
        a peer's death does not unform it), else why it has not."""
        if self.consensus():
            self.formed_size = max(self.formed_size, len(self._members))
        if self.formed_size >= min_size:
            return None
        return (f"cloud not formed: size {len(self._members)} (want {min_size}), "
                f"consensus {self.consensus()}")

    def cloud_status_json(self) -> dict[str, Any]:
        now = time.monotonic()
        nodes, dead = [], []
        me = self.self_status()
        for nid in self._members:
            st = me if nid == self.node.node_id else self.peers[nid].status
            d = _status_json(st, 0.0 if nid == self.node.node_id else now - self.peers[nid].last_seen)
            # the membership epoch that node reported (this node's own, for itself)
            d["epoch"] = self.epoch if nid == self.node.node_id else self.peers[nid].epoch
            nodes.append(d)
        for p in self.peers.values():
            if not p.alive:
                d = _status_json(p.status, now - p.last_seen)
                d["health"], d["healthy"] = "dead", False
                dead.append(d)
        return {
            "cloud_name": self.cfg.name, "cloud_size": len(nodes), "version": __version__,
            "epoch": self.epoch, "consensus": self.consensus(), "locked": False,
            "node_id": self.node.node_id, "grpc_port": self.node.grpc_port, "data_dir": self.node.data_dir,
            "web_port": self.node.web_port, "nodes": nodes, "dead_nodes": dead,
            "refused": dict(self.refused), "seed_addresses": sorted(self.seeds),
            "resources": self.cfg.resources_json(), "zeroconf": self.cfg.zeroconf_enabled,
            "tls": tls.status_json() if (tls := self.cfg.node_tls()) else {"enabled": False},
        }

    # ---- admission -------------------------------------------------------------------
    def admit(self, st: pb.NodeStatus) -> str | None:
        """None when a node with this status may join, else why not (and the refusal is recorded)."""
        why = None
        if st.cloud_name != self.cfg.name:
            why = f"cloud name {st.cloud_name!r} is not {self.cfg.name!r}"
        elif major(st.version) != major(__version__):
            why = f"version {st.version} is not compatible with {__version__}"
        if why:
            self.refuse(f"{st.host}:{st.grpc_port}", why)
        return why

    def refuse(self, address: str, why: str) -> None:
        """Record that the node at address was not admitted, for the status page."""
        if address not in self.refused and len(self.refused) >= MAX_REFUSED:
            self.refused.pop(next(iter(self.refused)))
        if self.refused.get(address) != why:
            log.warning("node at %s not admitted: %s", address, why)
        self.refused[address] = why

    def heard_from(self, st: pb.NodeStatus, epoch: int, members: list[str], known: list[pb.NodeStatus]) -> bool:
        """A peer's (authentic, admissible) heartbeat arrived. It counts as a live sign only from
        a member we have reached at the address it gives (and reach now); from anyone else it
        queues a call-back to that address (started at once) and is otherwise ignored, gossip
        included. True when it counted (the caller's reply may then name our members)."""
        if st.node_id == self.node.node_id or st.node_id in self._left:
            return False
        addr = f"{st.host}:{st.grpc_port}"
        peer = self.peers.get(st.node_id)
        if peer is not None and peer.alive and not peer.unreachable and peer.address == addr:
            self.observe(st, epoch, members, known)
            return True
        if addr != f"{self.node.advertise_host}:{self.node.grpc_port}" and self.reach_back.ask(addr, st.node_id):
            log.debug("heartbeat from %s at %s: calling it back before admitting it", st.node_id, addr)
            self._start_beat(addr)
        return False

    def observe(self, st: pb.NodeStatus, epoch: int, members: list[str], known: list[pb.NodeStatus],
                reached: bool = False) -> None:
        """Record a live sign from a peer: its reply to our heartbeat at its own address
        (`reached`: this may admit it), or a heartbeat of a member we reach (heard_from)."""
        if st.node_id == self.node.node_id or st.node_id in self._left:
            return
        addr = f"{st.host}:{st.grpc_port}"
        if not reached:
            known_peer = self.peers.get(st.node_id)
            if known_peer is None or known_peer.address != addr:
                return  # only a reply at its own address admits a node or moves it
        # A node restarted on the same address comes back with a new id. Two processes cannot
        # hold one port, so the old id is gone even if its timeout has not run out yet.
        for nid, p in list(self.peers.items()):
            if nid != st.node_id and p.address == addr:
                log.info("peer %s at %s replaced by %s", nid, addr, st.node_id)
                del self.peers[nid]
        peer = self.peers.get(st.node_id)
        if peer is None:
            peer = self.peers[st.node_id] = Peer(status=st, last_seen=time.monotonic())
            log.info("peer %s at %s joined", st.node_id, addr)
        elif not peer.alive:
            log.info("peer %s at %s is back", st.node_id, addr)
        peer.status, peer.last_seen, peer.alive = st, time.monotonic(), True
        if reached:
            peer.unreachable = False
        peer.epoch, peer.members = int(epoch), tuple(sorted(members))
        self.refused.pop(addr, None)
        self._max_epoch_seen = max(self._max_epoch_seen, int(epoch))
        # Gossip: learn addresses of nodes we have not met (and keep naming the live ones).
        self.seeds.name(f"{k.host}:{k.grpc_port}" for k in known if k.node_id != self.node.node_id)
        self._recompute()
        # Adopt a larger epoch for the same member set so everyone converges.
        if peer.members == self._members and peer.epoch > self.epoch:
            self.epoch = peer.epoch

    def mark_left(self, node_id: str) -> None:
        """A peer said it is leaving (graceful stop): drop it now rather than after the timeout,
        and ignore any heartbeat of that id still in flight."""
        self._left.add(node_id)
        p = self.peers.get(node_id)
        if p is not None and p.alive:
            p.alive = False
            p.last_seen = time.monotonic() - self.cfg.heartbeat_timeout - 1
            log.info("peer %s at %s left the cloud", node_id, p.address)
        self._recompute()

    def _recompute(self) -> None:
        now = time.monotonic()
        for p in self.peers.values():
            if p.alive and now - p.last_seen > self.cfg.heartbeat_timeout:
                p.alive = False
                log.warning("peer %s at %s declared dead (no heartbeat for %.1fs)", p.status.node_id, p.address, now - p.last_seen)
        self._forget_dead(now)
        if self.consensus():  # readiness latches on the largest cloud formed
            self.formed_size = max(self.formed_size, len(self._members))
        new = tuple(sorted([self.node.node_id] + [nid for nid, p in self.peers.items() if p.alive]))
        if new != self._members:
            old, self._members = self._members, new
            self.epoch = max(self.epoch, self._max_epoch_seen) + 1
            self._max_epoch_seen = self.epoch
            log.info("membership epoch %d: %d node(s)", self.epoch, len(new))
            for fn in self._listeners:
                try:
                    fn(old, new)
                except Exception:  # a listener's bug must not stop membership
                    log.exception("membership listener failed")

    def _forget_dead(self, now: float) -> None:
        """Drop peers dead for longer than the timeout plus --forget-dead, and addresses no
        source has named for that long (see seedbook.py); 0 keeps everything forever."""
        forget = self.cfg.forget_dead
        if forget <= 0:
            return
        horizon = self.cfg.heartbeat_timeout + forget
        for nid, p in list(self.peers.items()):
            if not p.alive and now - p.last_seen > horizon:
                del self.peers[nid]
                self._left.discard(nid)
                log.info("forgot peer %s at %s (dead for %.0fs)", nid, p.address, now - p.last_seen)
        for addr in self.seeds.forget_older_than(horizon, keep=(p.address for p in self.peers.values())):
            self.refused.pop(addr, None)
            log.info("forgot address %s (named by no discovery source or peer for %.0fs)", addr, horizon)

    # ---- heartbeats ------------------------------------------------------------------
    def heartbeat_request(self) -> pb.HeartbeatRequest:
        known = [p.status for p in self.peers.values() if p.alive]
        return pb.HeartbeatRequest(sender=self.self_status(), epoch=self.epoch, members=list(self._members), known=known)

    def heartbeat_reply(self, accepted: bool, reason: str = "", member: bool = True) -> pb.HeartbeatReply:
        """Our reply to a heartbeat. A refused caller learns who refused it and why; an accepted
        caller we have not reached back yet (`member` False) learns our status, not our peers."""
        if not accepted:
            me = self.self_status()
            who = pb.NodeStatus(node_id=me.node_id, cloud_name=me.cloud_name, version=me.version,
                                host=me.host, grpc_port=me.grpc_port)
            return pb.HeartbeatReply(receiver=who, accepted=False, reason=reason)
        if not member:
            return pb.HeartbeatReply(receiver=self.self_status(), epoch=self.epoch, accepted=True)
        known = [p.status for p in self.peers.values() if p.alive]
        return pb.HeartbeatReply(receiver=self.self_status(), epoch=self.epoch, members=list(self._members), accepted=accepted, reason=reason, known=known)

    def rpc_timeout(self) -> float:
        """Deadline of one heartbeat: short enough that several fit in the dead timeout."""
        return max(0.2, min(2.0, self.cfg.heartbeat_timeout / 3))

    async def _beat(self, address: str) -> None:
        try:
            reply = await self.node.peer_client.heartbeat(address, self.heartbeat_request(), self.rpc_timeout())
        except grpc.aio.AioRpcError as e:
            self._unanswered(address, e)
            return
        claimed = self.reach_back.claimed(address)
        self.reach_back.done(address)
        if reply.receiver.node_id == self.node.node_id:
            self._self_addresses.add(address)  # a seed that names this node another way
            return
        if not reply.accepted:
            self.refuse(address, reply.reason)
            return
        if self.admit(reply.receiver):
            return
        if claimed and claimed != reply.receiver.node_id:
            log.warning("a heartbeat claimed node %s at %s, but node %s answers there: the claim is ignored",
                        claimed, address, reply.receiver.node_id)
        advertised = f"{reply.receiver.host}:{reply.receiver.grpc_port}"
        if advertised != address:
            # A seed that names the node another way (a host name, a DNS name): it is reached
            # where it says peers reach it before it counts.
            if advertised not in self._self_addresses and self.reach_back.ask(advertised, reply.receiver.node_id):
                self._start_beat(advertised)
            return
        self.observe(reply.receiver, reply.epoch, list(reply.members), list(reply.known), reached=True)

    def _unanswered(self, address: str, e: grpc.aio.AioRpcError) -> None:
        """Our heartbeat to address failed: record why when it means "not admitted", give up a
        pending call-back, and stop a member there from being kept alive by heartbeats alone."""
        code = e.code()
        details = e.details() or str(code)
        claimed = self.reach_back.claimed(address)
        self.reach_back.done(address)
        if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION):
            self.refuse(address, details)
        elif "handshake" in details.lower() or "certificate" in details.lower():
            self.refuse(address, f"TLS: {details}")  # its certificate is not signed by our CA
        elif self.cfg.node_tls() and "socket closed" in details.lower():
            # With mutual TLS, a node that does not trust our certificate closes the connection
            # in the handshake; all we see is the closed socket.
            self.refuse(address, f"TLS: the node closed the connection during the handshake (does its --tls-ca "
                        f"sign this node's --tls-cert?): {details}")
        elif claimed:
            self.refuse(address, f"a heartbeat came from node {claimed}, which does not answer at its "
                        f"advertised address {address} ({code.name}): not admitted")
        if code == grpc.StatusCode.UNAVAILABLE:
            for p in self.peers.values():
                if p.address == address:
                    p.unreachable = True

    def targets(self) -> set[str]:
        """Every address to send heartbeats to: seeds and all peers, dead ones too (to rejoin)."""
        out = set(self.seeds)
        out.update(p.address for p in self.peers.values())
        out.update(self.reach_back)
        out.discard(f"{self.node.advertise_host}:{self.node.grpc_port}")
        return out - self._self_addresses

    def _send_round(self) -> None:
        """Start a heartbeat to every target that has none under way (a frozen peer's
        heartbeat waits for its deadline without holding up the others)."""
        for address in self.targets():
            self._start_beat(address)

    def _start_beat(self, address: str) -> None:
        if address in self._inflight or self._task is None or self._task.done():
            return  # one heartbeat to an address at a time; none once membership has stopped
        task = asyncio.get_running_loop().create_task(self._beat(address))
        self._inflight[address] = task
        task.add_done_callback(lambda t, a=address: self._beat_done(a, t))

    def _beat_done(self, address: str, task: asyncio.Task) -> None:
        if self._inflight.get(address) is task:
            del self._inflight[address]
        if not task.cancelled() and task.exception() is not None:
            log.warning("heartbeat to %s failed: %r", address, task.exception())

    async def run(self) -> None:
        """The heartbeat loop (until cancelled): a round every interval, dead checks in between."""
        tick = max(0.05, min(0.25, self.cfg.heartbeat_interval))
        next_round = 0.0
        while True:
            now = time.monotonic()
            if now >= next_round:
                self._send_round()
                next_round = now + self.cfg.heartbeat_interval
            self._recompute()
            await asyncio.sleep(tick)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._inflight.values()) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
            except Exception:  # a heartbeat's failure does not matter once we are stopping
                pass
        self._inflight.clear()

    async def broadcast(self, name: str, args: dict[str, Any], timeout: float = 5.0) -> list[str]:
        """Run an operation on every live peer (not self); return the ids that answered."""
        peers = [nid for nid in self._members if nid != self.node.node_id]

        async def one(nid: str) -> str | None:
            try:
                await self.node.peer_client.call(self.address_of(nid), name, args, timeout=timeout)
                return nid
            except Exception as e:  # a dead peer must not stop a broadcast
                log.warning("broadcast %s to %s failed: %s", name, nid, e)
                return None

        done = await asyncio.gather(*(one(n) for n in peers))
        return [n for n in done if n]


def _status_json(st: pb.NodeStatus, last_seen: float) -> dict[str, Any]:
    return {
        "node_id": st.node_id, "address": f"{st.host}:{st.grpc_port}", "ip": st.host,
        "web_port": st.web_port, "grpc_port": st.grpc_port, "version": st.version,
        "cores": st.cores, "num_cpus": st.cores, "nthreads": st.nthreads, "free_mem": st.free_mem,
        "max_mem": st.max_mem, "health": "healthy", "healthy": True, "keys": st.keys,
        "bytes": st.bytes, "last_seen_s": round(last_seen, 3), "started_ms": st.started_ms,
    }
