"""Discovery providers: where a node finds the addresses of its peers.

Each provider adds `host:grpc_port` seeds to membership; heartbeats do the rest. Providers:
static peers (--peers), a flatfile (--flatfile, re-read so nodes can start in any order),
Kubernetes DNS (--k8s-service-dns), zeroconf (on by default; off with --no-zeroconf, or when one
of the others is given without --zeroconf).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from h2ocloud.node.cluster.host import ClusterHost

log = logging.getLogger("h2ocloud.discovery")


def read_flatfile(path: str) -> list[str]:
    """Addresses from a flatfile: one host:port a line; blanks and # comments ignored."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line.lstrip("/"))
    return out


class _Periodic:
    """Re-run a seed source every few seconds (files change, DNS answers change)."""

    def __init__(self, node: ClusterHost, source, every: float = 2.0):
        self.node, self.source, self.every = node, source, every
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                seeds = await self.source()
                self.node.membership.seeds.name(seeds)
            except Exception as e:
                log.warning("discovery: %s", e)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def start_discovery(node: ClusterHost) -> list[Any]:
    """Start every provider the config asks for; return the ones that need stopping."""
    cfg = node.config
    started: list[Any] = []
    node.membership.seeds.name(cfg.peers, permanent=True)  # the user's own list: kept
    if cfg.flatfile:
        path = cfg.flatfile

        async def flat() -> list[str]:
            return read_flatfile(path)

        started.append(_Periodic(node, flat))
    if cfg.k8s_service_dns:
        from h2ocloud.node.cluster.k8s import resolve_service

        name, nameserver = cfg.k8s_service_dns, cfg.k8s_nameserver

        async def dns() -> list[str]:
            return await resolve_service(name, node.grpc_port, nameserver)

        started.append(_Periodic(node, dns, every=5.0))
    if cfg.zeroconf_enabled:
        from h2ocloud.node.cluster.mdns import ZeroconfDiscovery

        zc = ZeroconfDiscovery(node)
        try:
            await zc.start()
            started.append(zc)
        except Exception as e:  # no multicast here: the node runs alone, or with other sources
            log.warning("zeroconf: cannot announce or browse on %s: %s", cfg.ip, e)
            await zc.stop()
    return started
