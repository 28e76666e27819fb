"""Start a cloud of N real daemons (separate processes, free ports on 127.0.0.1) and stop them all.

In the spirit of Dask's gen_cluster: `with start_cloud(3) as cloud:` gives running nodes; on exit
(even after a failure) every process is stopped, SIGKILL if SIGTERM is ignored. After a test,
`check_consistent` polls (with a deadline, so a loaded machine only makes it slower) until every
node agrees with its cloud on the membership epoch and every DKV key has its copies; a cloud that
does not settle fails the test. Logs are kept in a temporary folder, and a failing test's are
printed with their paths (the folder is then not removed).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def get_json(url: str, timeout: float = 2.0, token: str | None = None, context: ssl.SSLContext | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout, context=context) as r:
        return json.loads(r.read().decode())


@dataclass
class NodeProc:
    web_port: int
    grpc_port: int
    log_path: Path
    args: list[str]
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    persist: bool = True  # a --data-dir beside the log (False: in memory only, as LocalNode)

    def _arg(self, flag: str) -> str | None:
        return self.args[self.args.index(flag) + 1] if flag in self.args else None

    @property
    def tls_files(self) -> tuple[str | None, str | None, str | None]:
        """The node's --tls-cert, --tls-key and --tls-ca (None for those not given)."""
        return self._arg("--tls-cert"), self._arg("--tls-key"), self._arg("--tls-ca")

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_files[0] else 'http'}://127.0.0.1:{self.web_port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """How the fixture checks a TLS node's web port: against its --tls-ca (None: plain HTTP)."""
        cert, _, ca = self.tls_files
        if not cert:
            return None
        if ca:
            return ssl.create_default_context(cafile=ca)
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        return ctx

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def token(self) -> str | None:
        """The client token the node requires (--auth-token-file or H2OCLOUD_AUTH_TOKEN), or None."""
        if "--auth-token-file" in self.args:
            return Path(self.args[self.args.index("--auth-token-file") + 1]).read_text().strip()
        return self.env.get("H2OCLOUD_AUTH_TOKEN") or os.environ.get("H2OCLOUD_AUTH_TOKEN") or None

    def start(self) -> None:
        # The data dir sits beside the log, so it goes with the test's folder even after SIGKILL.
        data_dir = ["--data-dir", str(self.log_path.with_suffix(".data"))] if self.persist else []
        cmd = [sys.executable, "-m", "h2ocloud", "node", "--ip", "127.0.0.1", "--port", str(self.web_port),
               "--grpc-port", str(self.grpc_port), *data_dir, *self.args]
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> dict:
        return get_json(self.url + "/3/Cloud", token=self.token, context=self.ssl_context())

    def wait_up(self, timeout: float = 90.0) -> dict:  # startup is seconds; a loaded CI box needs more
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return self.status()
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"node on {self.web_port} did not come up:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class Cloud:
    nodes: list[NodeProc]
    workdir: Path
    name: str
    keep_logs: bool = False  # a test using the cloud failed: keep the folder for the post-mortem

    def wait_formed(self, size: int | None = None, timeout: float = 90.0, among: list[NodeProc] | None = None) -> None:
        """Wait until every running node sees `size` members with consensus."""
        among = among or [n for n in self.nodes if n.alive()]
        size = size or len(among)
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                sts = [n.status() for n in among]
                last = [(s["cloud_size"], s["consensus"], s["epoch"]) for s in sts]
                if all(s["cloud_size"] == size and s["consensus"] for s in sts) and len({s["epoch"] for s in sts}) == 1:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"cloud did not form to size {size}: {last}\n{self.logs()}")

    def peer_call(self, node: NodeProc, name: str, args: dict | None = None, blobs: list = (),
                  secret: str | None = None, timeout: float = 60.0) -> tuple[dict, list[bytes]]:
        """Call peer operation `name` on `node` as a cloud member would (the Peer service, signed
        with `secret`): peer operations are not served to clients."""
        import asyncio

        from h2ocloud.node.cluster.peers import PeerClient
        from h2ocloud.node.tls import NodeTLS

        async def go():
            client = PeerClient(self.name, secret, NodeTLS.load(*node.tls_files))  # as that node calls
            try:
                return await client.call(node.address, name, args or {}, list(blobs), timeout=timeout)
            finally:
                await client.close()

        # Playwright's sync API (the browser tests) leaves its loop marked as running in this
        # thread while it is parked between calls. Hide it for this call's own loop: grpc.aio
        # must stay on this one thread (another thread's loop breaks later calls here).
        parked = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(None)
        try:
            return asyncio.run(go())
        finally:
            asyncio.events._set_running_loop(parked)

    def logs(self) -> str:
        return "\n".join(f"----- node {n.web_port} ({n.log_path}) -----\n{n.log()[-4000:]}" for n in self.nodes)

    def log_paths(self) -> str:
        return "node logs kept: " + " ".join(str(n.log_path) for n in self.nodes)

    def _secret(self, node: NodeProc) -> str | None:
        args = node.args
        if "--secret-file" in args:
            return Path(args[args.index("--secret-file") + 1]).read_text().strip()
        return node.env.get("H2OCLOUD_SECRET") or os.environ.get("H2OCLOUD_SECRET")

    def _views(self) -> dict[str, tuple[NodeProc, dict]]:
        """node id -> (node, its /3/Cloud) of every running node that answers."""
        out = {}
        for n in self.nodes:
            if not n.alive():
                continue
            try:
                st = get_json(n.url + "/3/Cloud", timeout=5.0, token=n.token, context=n.ssl_context())
            except OSError:
                continue  # a frozen node (SIGSTOP) answers nothing; its peers have dropped it
            out[st["node_id"]] = (n, st)
        return out

    def inconsistency(self) -> str | None:
        """What is wrong with the clouds the running nodes form (None: nothing). Each node's
        members answer with the same member list and epoch (consensus), and every key a member
        holds is held by min(replication, members) of them."""
        views = self._views()
        for nid, (_node, st) in views.items():
            members = sorted(m["node_id"] for m in st["nodes"])
            if not st["consensus"]:
                return f"node {nid} has no consensus (epoch {st['epoch']}, members {members})"
            for m in members:
                if m not in views:
                    return f"node {nid} counts {m} as a member, which does not answer"
                other = views[m][1]
                if sorted(x["node_id"] for x in other["nodes"]) != members or other["epoch"] != st["epoch"]:
                    return (f"nodes {nid} and {m} disagree: epoch {st['epoch']} vs {other['epoch']}, "
                            f"members {members} vs {sorted(x['node_id'] for x in other['nodes'])}")
        seen: set[str] = set()
        for nid, (node, st) in views.items():
            members = sorted(m["node_id"] for m in st["nodes"])
            if nid in seen or len(members) < 2:
                seen.update(members)
                continue
            seen.update(members)
            args = node.args
            wanted = int(args[args.index("--replication") + 1]) if "--replication" in args else 0
            copies = max(1, min(wanted or 2, len(members)))
            held: dict[str, int] = {}
            for m in members:
                keys, _ = self.peer_call(views[m][0], "dkv.keys", {"prefix": ""}, secret=self._secret(node), timeout=10)
                for k in keys["keys"]:
                    held[k] = held.get(k, 0) + 1
            # Chunks of a frame whose header is gone (a frame removed while a late write of one
            # of its chunks was in flight) are a leak, not lost data: reported, not failed on.
            orphans = {k for k in held if "/chunk/" in k and k.split("/chunk/")[0] not in held}
            if orphans:
                print(f"cloud check: {len(orphans)} orphan chunk copies of removed frames "
                      f"(e.g. {sorted(orphans)[:3]})", file=sys.stderr)
            short = {k: c for k, c in held.items() if c < copies and k not in orphans}
            if short:
                return f"{len(short)} keys lack copies (want {copies}): {dict(list(short.items())[:5])}"
        return None

    def check_consistent(self, timeout: float = 90.0) -> None:
        """Poll until inconsistency() is None; fail naming the last fault at the deadline."""
        start = time.time()
        deadline = start + timeout
        why = first = None
        while time.time() < deadline:
            try:
                why = self.inconsistency()
            except Exception as e:  # a node stopping under us: look again
                why = f"{type(e).__name__}: {e}"
            if why is None:
                if time.time() - start > 5:  # say what a slow teardown waited for (suite time)
                    print(f"cloud check: consistent after {time.time() - start:.1f} s; first: {first}",
                          file=sys.stderr)
                return
            first = first or why
            time.sleep(0.5)
        raise AssertionError(f"cloud not consistent after the test ({timeout:.0f} s): {why}")

    def add_node(self, extra_args: list[str] | None = None) -> NodeProc:
        web, grpc_ = free_ports(2)
        args = list(extra_args or [])
        if "--zeroconf" not in args:
            args.append("--no-zeroconf")
        n = NodeProc(web, grpc_, self.workdir / f"node-{len(self.nodes)}.log", args)
        self.nodes.append(n)
        n.start()
        n.wait_up()
        return n

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


@contextlib.contextmanager
def start_cloud(n: int = 1, args: list[str] | None = None, discovery: str = "flatfile", form: bool = True,
                name: str | None = None, per_node_args: list[list[str]] | None = None, check: bool = True,
                env: dict[str, str] | None = None, persist: bool = True):
    """Start n nodes that find each other by `discovery` ("flatfile", "peers" or "none"). On a
    clean exit of a test with 2+ nodes, `check` runs check_consistent before stopping them.
    `env` is added to every node's environment. `persist` gives each node a --data-dir (False:
    in memory only, as a node h2ocloud.init starts; benchmarks compare clouds that way)."""
    workdir = Path(tempfile.mkdtemp(prefix="h2ocloud-test-"))
    name = name or f"test-{os.getpid()}-{free_port()}"
    ports = free_ports(2 * n)
    flatfile = workdir / "flatfile"
    flatfile.write_text("".join(f"127.0.0.1:{ports[2 * i + 1]}\n" for i in range(n)))
    nodes = []
    for i in range(n):
        # Zeroconf is on by default: a test's cloud is isolated by its unique name and, unless
        # the test is about zeroconf, by --no-zeroconf (others' tests run on this machine too).
        mdns = [] if "--zeroconf" in (args or []) else ["--no-zeroconf"]
        extra = ["--name", name, "--heartbeat-interval", "0.5", *mdns, *(args or [])]
        if per_node_args:
            extra += per_node_args[i]
        if discovery == "flatfile" and n > 1:
            extra += ["--flatfile", str(flatfile)]
        elif discovery == "peers" and n > 1:
            extra += ["--peers", ",".join(f"127.0.0.1:{ports[2 * j + 1]}" for j in range(n) if j != i)]
        nodes.append(NodeProc(ports[2 * i], ports[2 * i + 1], workdir / f"node-{i}.log", extra, env=dict(env or {}),
                              persist=persist))
    cloud = Cloud(nodes, workdir, name)
    failed = False
    try:
        for nd in nodes:
            nd.start()
        for nd in nodes:
            nd.wait_up()
        if form:
            cloud.wait_formed(n)
        yield cloud
        if check and len(cloud.nodes) > 1 and not cloud.keep_logs:
            cloud.check_consistent()
    except BaseException:
        failed = True
        sys.stderr.write(cloud.logs() + "\n" + cloud.log_paths() + "\n")
        raise
    finally:
        cloud.stop()
        if failed or cloud.keep_logs:
            sys.stderr.write(cloud.log_paths() + "\n")
        else:  # logs are kept (and their paths printed) only for a failure
            shutil.rmtree(workdir, ignore_errors=True)


def wait_until(check, timeout: float, what: str, every: float = 0.1,
               retry_on: tuple[type[BaseException], ...] = (OSError,)):
    """Poll check() until it returns something truthy; fail naming `what` at the deadline.
    Exceptions of the `retry_on` kinds (a node going down under us) count as "not yet"."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = check()
            if last:
                return last
        except retry_on as e:
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
