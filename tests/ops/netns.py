"""Network namespaces for tests: a hub namespace with a bridge, and "pods" each in a namespace of
its own with one address on that bridge, as pods have on a cluster network.

Everything lives inside namespaces the test makes (no address on the host's own interfaces), so
the traffic never leaves them. The test's own threads reach the pods by entering the hub
namespace (setns applies to the calling thread only): `Hub.run(fn)` runs fn in such a thread.
`ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf, which is how
each pod's system resolver is pointed at the test's DNS server, as a pod's is at the cluster's.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNET = 0x40000000
SUBNET = "10.216.16"  # inside the test's namespaces only


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if r.returncode:
        raise OSError(f"ip {' '.join(args)}: {r.stderr.strip()}")


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    probe = f"h2o16probe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except OSError as e:
        return f"cannot make a network namespace: {e}"
    _ip("netns", "del", probe)
    return None


def _enter(name: str) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name} failed")
    finally:
        os.close(fd)


@dataclass
class Hub:
    """A bridge in a namespace of its own, at SUBNET.1, and pods at SUBNET.11, .12, ..."""

    tag: str = field(default_factory=lambda: str(os.getpid() % 100000))
    pods: list[str] = field(default_factory=list)
    _pool: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def name(self) -> str:
        return f"h2o16-hub-{self.tag}"

    address = f"{SUBNET}.1"

    def __enter__(self) -> Hub:
        _ip("netns", "add", self.name)
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.name, "addr", "add", f"{self.address}/24", "dev", "br0")
            _ip("-n", self.name, "link", "set", "br0", "up")
            self._pool = concurrent.futures.ThreadPoolExecutor(1, initializer=_enter, initargs=(self.name,))
        except BaseException:
            self.__exit__()
            raise
        return self

    def add_pod(self, nameserver: str | None = None) -> tuple[str, str]:
        """A new namespace with eth0 on the bridge; returns (namespace, its address)."""
        i = len(self.pods) + 1
        ns, ip = f"h2o16-pod{i}-{self.tag}", f"{SUBNET}.{10 + i}"
        outer, inner = f"h16a{self.tag}{i}"[:15], f"h16b{self.tag}{i}"[:15]
        _ip("netns", "add", ns)
        self.pods.append(ns)
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", outer, "netns", self.name)
        _ip("link", "set", inner, "netns", ns)
        _ip("-n", ns, "link", "set", inner, "name", "eth0")
        _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", self.name, "link", "set", outer, "master", "br0")
        _ip("-n", self.name, "link", "set", outer, "up")
        if nameserver:
            d = Path("/etc/netns") / ns
            d.mkdir(parents=True, exist_ok=True)
            (d / "resolv.conf").write_text(f"nameserver {nameserver}\noptions timeout:1 attempts:2\n")
        return ns, ip

    def run(self, fn, *args):
        """fn(*args) in a thread inside the hub namespace (sockets it opens are the hub's)."""
        assert self._pool is not None
        return self._pool.submit(fn, *args).result()

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for ns in self.pods:
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # its veth goes with it
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
