"""The node's settings: command-line flags, each also read from an H2OCLOUD_* environment variable.

A flag given on the command line wins over the environment, which wins over the default.
"""

from __future__ import annotations

import argparse
import os
import uuid
from dataclasses import dataclass, field

DEFAULT_WEB_PORT = 54321
DEFAULT_GRPC_PORT = 54322


@dataclass
class NodeConfig:
    """Everything a node needs to start. Field names are the flags' names."""

    ip: str = "127.0.0.1"
    port: int = DEFAULT_WEB_PORT
    grpc_port: int = DEFAULT_GRPC_PORT
    name: str = "h2ocloud"
    nthreads: int = 0  # 0: all cores
    flatfile: str | None = None
    peers: list[str] = field(default_factory=list)
    data_dir: str | None = None
    k8s_service_dns: str | None = None
    k8s_nameserver: str | None = None  # host:port of the DNS server to ask (default: the system's)
    zeroconf: bool = False
    secret_file: str | None = None
    secret: str | None = None
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0
    forget_dead: float = 600.0  # seconds after death (or last mention) a peer/address is dropped; 0: never
    replication: int = 0  # 0: automatic (2 when the cloud has 2 or more nodes)
    max_mem: int = 0  # bytes the DKV may hold; 0: no cap
    log_level: str = "INFO"
    node_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def effective_nthreads(self) -> int:
        return self.nthreads if self.nthreads > 0 else (os.cpu_count() or 1)


def _size(text: str) -> int:
    """'512m', '2g', '1000' -> bytes."""
    t = str(text).strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    if t and t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    if t.endswith("b"):
        t = t[:-1]
    return int(t)


def _bool(text: str) -> bool:
    return str(text).strip().lower() in ("1", "true", "yes", "on")


def _env(name: str, default):
    return os.environ.get("H2OCLOUD_" + name.upper(), default)


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    """The daemon's flags; defaults come from H2OCLOUD_<FLAG> where set."""
    d = NodeConfig()
    parser.add_argument("--ip", default=_env("ip", d.ip), help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(_env("port", d.port)), help="web console and REST port")
    parser.add_argument("--grpc-port", type=int, default=int(_env("grpc_port", d.grpc_port)), help="gRPC port for peers and clients")
    parser.add_argument("--name", default=_env("name", d.name), help="cloud name: only nodes of the same name join")
    parser.add_argument("--nthreads", type=int, default=int(_env("nthreads", d.nthreads)), help="worker threads (0: all cores)")
    parser.add_argument("--flatfile", default=_env("flatfile", None), help="file of host:grpc_port lines naming peers")
    parser.add_argument("--peers", default=_env("peers", ""), help="comma-separated host:grpc_port of peers")
    parser.add_argument("--data-dir", default=_env("data_dir", None), help="where uploads and spills go (default: a fresh temporary directory)")
    parser.add_argument("--k8s-service-dns", default=_env("k8s_service_dns", None), help="headless Service DNS name to resolve for peers")
    parser.add_argument("--k8s-nameserver", default=_env("k8s_nameserver", None), help="host:port of the DNS server for --k8s-service-dns (default: the system resolver)")
    parser.add_argument("--zeroconf", type=_bool, nargs="?", const=True, default=_bool(_env("zeroconf", "false")), help="announce and discover by mDNS on the bound interface")
    parser.add_argument("--secret-file", default=_env("secret_file", None), help="file holding the cloud's shared secret")
    parser.add_argument("--heartbeat-interval", type=float, default=float(_env("heartbeat_interval", d.heartbeat_interval)))
    parser.add_argument("--heartbeat-timeout", type=float, default=float(_env("heartbeat_timeout", d.heartbeat_timeout)), help="seconds without heartbeats before a peer is declared dead")
    parser.add_argument("--forget-dead", type=float, default=float(_env("forget_dead", d.forget_dead)), help="seconds a dead peer, or an address no discovery source names any more, is kept before it is dropped (0: never)")
    parser.add_argument("--replication", type=int, default=int(_env("replication", d.replication)), help="copies of each DKV key (0: 2 when the cloud has 2+ nodes)")
    parser.add_argument("--max-mem", type=_size, default=_size(_env("max_mem", "0")), help="cap on bytes this node's store holds (e.g. 2g; 0: none)")
    parser.add_argument("--log-level", default=_env("log_level", d.log_level))


def config_from_args(ns: argparse.Namespace) -> NodeConfig:
    """Build a NodeConfig from parsed flags (and H2OCLOUD_SECRET for the secret)."""
    peers = [p.strip() for p in (ns.peers or "").split(",") if p.strip()]
    secret = os.environ.get("H2OCLOUD_SECRET") or None
    if ns.secret_file:
        with open(ns.secret_file, encoding="utf-8") as f:
            secret = f.read().strip()
        if not secret:  # an empty file would silently mean "no secret": refuse to start instead
            raise OSError(f"{ns.secret_file} is empty")
    return NodeConfig(
        ip=ns.ip, port=ns.port, grpc_port=ns.grpc_port, name=ns.name, nthreads=ns.nthreads,
        flatfile=ns.flatfile, peers=peers, data_dir=ns.data_dir, k8s_service_dns=ns.k8s_service_dns,
        k8s_nameserver=ns.k8s_nameserver, zeroconf=ns.zeroconf, secret_file=ns.secret_file, secret=secret,
        heartbeat_interval=ns.heartbeat_interval, heartbeat_timeout=ns.heartbeat_timeout,
        forget_dead=ns.forget_dead,
        replication=ns.replication, max_mem=ns.max_mem, log_level=ns.log_level,
    )
