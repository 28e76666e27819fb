"""Kubernetes discovery: the addresses behind a headless Service's DNS name.

A headless Service (clusterIP: None) answers its name with one A record per ready pod. In a
StatefulSet every pod listens on the same gRPC port, so each address is joined on this node's own
gRPC port. The system resolver is used unless a nameserver is given (H2OCLOUD_K8S_NAMESERVER,
host:port), which tests point at a DNS server they control; then a minimal DNS query over UDP
(RFC 1035, type A, class IN) is sent here, with a deadline, so nothing extra is needed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import struct

TYPE_A = 1
CLASS_IN = 1
DNS_TIMEOUT_S = 2.0


def build_query(name: str, qid: int) -> bytes:
    """A recursive DNS query for the A records of name."""
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD set, one question
    return header + encode_name(name) + struct.pack("!HH", TYPE_A, CLASS_IN)


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna") if label else b""
        if not raw or len(raw) > 63:
            raise ValueError(f"bad DNS name {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def _skip_name(msg: bytes, pos: int) -> int:
    """Position just past the (possibly compressed) name starting at pos."""
    while True:
        if pos >= len(msg):
            raise ValueError("truncated DNS name")
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:  # a compression pointer ends the name
            return pos + 2
        pos += 1 + n


def parse_a_records(msg: bytes, qid: int) -> list[str]:
    """IPv4 addresses in the answer section of a DNS reply to query qid."""
    if len(msg) < 12:
        raise ValueError("short DNS reply")
    rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid:
        raise ValueError("DNS reply to another query")
    rcode = flags & 0xF
    if rcode == 3:  # NXDOMAIN: no pod is ready yet
        return []
    if rcode:
        raise ValueError(f"DNS error rcode {rcode}")
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    out = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == TYPE_A and rclass == CLASS_IN and rdlen == 4:
            out.append(socket.inet_ntoa(msg[pos:pos + 4]))
        pos += rdlen
    return out


class _OneReply(asyncio.DatagramProtocol):
    def __init__(self, qid: int):
        self.qid = qid
        self.done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr) -> None:
        if self.done.done():
            return
        try:
            self.done.set_result(parse_a_records(data, self.qid))
        except ValueError as e:
            if "another query" not in str(e):  # a stray datagram is ignored, not fatal
                self.done.set_exception(e)

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def query_a(name: str, nameserver: str, timeout: float = DNS_TIMEOUT_S) -> list[str]:
    """The A records of name from the DNS server at nameserver ("host:port"), with a deadline."""
    host, _, port = nameserver.rpartition(":")
    if not host:
        host, port = nameserver, "53"
    qid = secrets.randbelow(1 << 16)
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: _OneReply(qid), remote_addr=(host, int(port)))
    try:
        transport.sendto(build_query(name, qid))
        return await asyncio.wait_for(proto.done, timeout)
    finally:
        transport.close()


async def _system_resolve(name: str) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(name, None, family=socket.AF_INET, type=socket.SOCK_STREAM), DNS_TIMEOUT_S
        )
    except socket.gaierror:
        return []  # the name does not resolve (yet): no peers, try again later
    return [i[4][0] for i in infos]


async def resolve_service(name: str, grpc_port: int, nameserver: str | None = None) -> list[str]:
    """Every "ip:grpc_port" the Service name resolves to, sorted and without repeats.

    nameserver ("host:port") defaults to H2OCLOUD_K8S_NAMESERVER; unset, the system resolver
    (as a pod's /etc/resolv.conf points at the cluster DNS) answers."""
    nameserver = nameserver or os.environ.get("H2OCLOUD_K8S_NAMESERVER") or None
    ips = await (query_a(name, nameserver) if nameserver else _system_resolve(name))
    return [f"{ip}:{grpc_port}" for ip in sorted(set(ips))]
