"""Zeroconf discovery: announce this node as `_h2ocloud._tcp.local.` and find the others.

The TXT record holds the cloud name, node id, gRPC and web ports and version; a node seeds
membership with every announced node of its own cloud name (heartbeats then check the version
and the shared secret). Multicast is confined to the interface the node binds to
(`Zeroconf(interfaces=[ip])`, IPv4 only), never every interface: a node on 127.0.0.1 announces
on loopback alone, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from h2ocloud import __version__

if TYPE_CHECKING:
    from h2ocloud.node.cluster.host import ClusterHost

log = logging.getLogger("h2ocloud.mdns")

SERVICE_TYPE = "_h2ocloud._tcp.local."
INFO_TIMEOUT_MS = 3000


def instance_name(cloud: str, node_id: str) -> str:
    """The service instance name: '<cloud>-<node id>', cut to DNS's 63-byte label limit."""
    label = f"{cloud[: 63 - len(node_id) - 1]}-{node_id}".replace(".", "-")
    return f"{label}.{SERVICE_TYPE}"


def txt_properties(cloud: str, node_id: str, grpc_port: int, web_port: int, version: str = __version__) -> dict[str, str]:
    """What a node announces about itself in its TXT record."""
    return {"cloud": cloud, "id": node_id, "grpc": str(grpc_port), "web": str(web_port), "version": version}


def seed_from_info(info: AsyncServiceInfo, cloud: str, own_id: str) -> str | None:
    """The "host:grpc_port" to seed from an announcement, or None when it is not a peer to try."""
    props = {k.decode(): (v or b"").decode() for k, v in (info.properties or {}).items()}
    if props.get("cloud") != cloud or props.get("id") == own_id or not props.get("grpc"):
        return None
    addrs = info.parsed_addresses(IPVersion.V4Only)
    if not addrs:
        return None
    return f"{addrs[0]}:{int(props['grpc'])}"


def interface_ip(node: ClusterHost) -> str:
    """The one IPv4 address to announce on: the bound one (the advertised one for 0.0.0.0)."""
    ip = node.config.ip
    if ip in ("0.0.0.0", "", "localhost"):
        ip = node.advertise_host if ip != "localhost" else "127.0.0.1"
        log.warning("zeroconf: bound to every interface; announcing on %s only", ip)
    return socket.gethostbyname(ip)


class ZeroconfDiscovery:
    """Announces this node and seeds membership with the nodes of the same cloud it hears."""

    def __init__(self, node: ClusterHost):
        self.node = node
        self._azc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        n, cfg = self.node, self.node.config
        ip = interface_ip(n)
        self._azc = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
        self._info = AsyncServiceInfo(
            SERVICE_TYPE, instance_name(cfg.name, n.node_id), addresses=[socket.inet_aton(ip)],
            port=n.grpc_port, properties=txt_properties(cfg.name, n.node_id, n.grpc_port, n.web_port),
            server=f"h2ocloud-{n.node_id}.local.",
        )
        # Registering probes the name for about a second; browse meanwhile so that start-up
        # does not wait for it.
        self._browser = AsyncServiceBrowser(self._azc.zeroconf, SERVICE_TYPE, handlers=[self._on_change])
        self._spawn(self._register())
        log.info("zeroconf: announcing %s on %s", SERVICE_TYPE, ip)

    async def _register(self) -> None:
        try:
            await self._azc.async_register_service(self._info)
        except Exception as e:  # discovery failing must not kill the node; other providers may work
            log.warning("zeroconf: could not announce this node: %s", e)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            self._spawn(self._lookup(service_type, name))

    async def _lookup(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self._azc.zeroconf, INFO_TIMEOUT_MS):
            return
        seed = seed_from_info(info, self.node.config.name, self.node.node_id)
        if seed:
            if seed not in self.node.membership.seeds:
                log.info("zeroconf: found %s (%s)", seed, name)
            self.node.membership.seeds.name([seed])

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._azc is not None:
            try:
                await asyncio.wait_for(self._azc.async_unregister_all_services(), 2.0)
            except (asyncio.TimeoutError, Exception) as e:  # leaving quietly is fine: heartbeats time out
                log.debug("zeroconf: goodbye not sent: %s", e)
            await self._azc.async_close()
