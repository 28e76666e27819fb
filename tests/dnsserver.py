"""A tiny DNS server for tests: the headless Service's name as a cluster DNS would answer it."""

from __future__ import annotations

import socket
import struct
import threading


class TinyDNS:
    """A UDP DNS server (127.0.0.1 on a free port unless `bind` says) answering A queries for one
    name (written apart from h2ocloud.node.cluster.k8s, so tests check that code against an
    independent encoder). `asked` lists every name it was asked, in order."""

    def __init__(self, name: str, ips: list[str], bind: tuple[str, int] = ("127.0.0.1", 0)):
        self.name, self.ips, self.queries = name.rstrip(".").lower(), ips, 0
        self.asked: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.sock.settimeout(0.2)
        host, port = self.sock.getsockname()[:2]
        self.address = f"{host}:{port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                continue
            self.queries += 1
            self.sock.sendto(self.answer(q), peer)

    def answer(self, q: bytes) -> bytes:
        qid = q[:2]
        labels, pos = [], 12
        while q[pos]:
            labels.append(q[pos + 1:pos + 1 + q[pos]].decode())
            pos += 1 + q[pos]
        question = q[12:pos + 5]
        qtype = struct.unpack("!H", q[pos + 1:pos + 3])[0]
        self.asked.append(".".join(labels).lower())
        if ".".join(labels).lower() != self.name:
            return qid + struct.pack("!HHHHH", 0x8183, 1, 0, 0, 0) + question  # NXDOMAIN
        ips = self.ips if qtype == 1 else []
        answers = b"".join(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(ip) for ip in ips)
        return qid + struct.pack("!HHHHH", 0x8180, 1, len(ips), 0, 0) + question + answers
