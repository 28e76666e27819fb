"""The client's current connection: `init()`, `connection()`, `cluster()`, `shutdown()`."""

from __future__ import annotations

from typing import Any

from h2ocloud.client.local import LocalNode
from h2ocloud.client.node_connection import Connection, fetch_cloud

_current: Connection | None = None


def init(
    url: str | None = None,
    ip: str | None = None,
    port: int | None = None,
    start_h2o: bool = True,
    nthreads: int = -1,
    max_mem_size: str | None = None,
    name: str | None = None,
    timeout: float = 60.0,
) -> Connection:
    """Connect to an h2ocloud node, starting a local one when none answers.

    Parameters
    ----------
    url : "http://host:port" of a node's web port. When given, a node is never started: a node
        that does not answer raises ConnectionError.
    ip, port : host and web port (default localhost:54321), the other way to name a node.
    start_h2o : start a local node (a child process, stopped at interpreter exit) when none
        answers at localhost. Only for localhost addresses.
    nthreads, max_mem_size, name : settings for a node this call starts.

    Calling init again replaces the current connection.
    """
    global _current
    explicit = url is not None
    if url is None:
        url = f"http://{ip or 'localhost'}:{port or 54321}"
    local = (ip or "localhost") in ("localhost", "127.0.0.1")
    try:
        status = fetch_cloud(url)
        owned = None
    except ConnectionError:
        if explicit or not start_h2o or not local:
            raise
        # Reuse the node this process already started, if it is still up.
        if _current is not None and _current.owned_process is not None and _current.owned_process.proc.poll() is None:
            owned = _current.owned_process
        else:
            owned = LocalNode(web_port=port, nthreads=nthreads, max_mem=max_mem_size, name=name)
        status = owned.wait_ready(timeout)
        url = owned.url
    if _current is not None:
        if owned is None and _current.owned_process is not None:
            # Same node as before (init called again): keep owning the process we started.
            owned = _current.owned_process if status.get("node_id") == _current.node_id else None
        _current.close()
    _current = Connection(url, status, owned_process=owned)
    return _current


def connection() -> Connection:
    """The current connection; raises when init() has not been called."""
    if _current is None:
        raise ConnectionError("not connected: call h2ocloud.init() first")
    return _current


class H2OCluster:
    """The cloud's status, named as H2O's Python client names it."""

    def __init__(self, status: dict[str, Any]):
        self._status = status
        self.cloud_name: str = status["cloud_name"]
        self.cloud_size: int = status["cloud_size"]
        self.nodes: list[dict[str, Any]] = status["nodes"]
        self.dead_nodes: list[dict[str, Any]] = status.get("dead_nodes", [])
        self.version: str = status["version"]
        self.consensus: bool = status.get("consensus", False)
        self.epoch: int = status.get("epoch", 0)

    @property
    def cloud_healthy(self) -> bool:
        return all(n.get("healthy", True) for n in self.nodes)

    def show_status(self, detailed: bool = False) -> None:
        """Print the cloud's status and one table row per node."""
        print(f"H2O cloud name:     {self.cloud_name}")
        print(f"H2O cloud size:     {self.cloud_size} ({'consensus' if self.consensus else 'forming'}, epoch {self.epoch})")
        print(f"H2O version:        {self.version}")
        rows = [["node_id", "address", "version", "cores", "free_mem (GiB)", "keys", "health"]]
        for n in self.nodes + self.dead_nodes:
            rows.append([n["node_id"], n["address"], n["version"], str(n["cores"]),
                         f"{n['free_mem'] / 2**30:.1f}", str(n.get("keys", 0)), n.get("health", "healthy")])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))

    def __repr__(self) -> str:
        return f"H2OCluster(cloud_name={self.cloud_name!r}, cloud_size={self.cloud_size})"


def cluster() -> H2OCluster:
    """The status of the cloud the client is connected to."""
    result, _ = connection().call("cloud.status")
    return H2OCluster(result)


def shutdown(prompt: bool = False) -> None:
    """Stop every node of the cloud the client is connected to."""
    global _current
    conn = connection()
    conn.call("cloud.shutdown")
    if conn.owned_process is not None:
        conn.owned_process.stop()
    conn.close()
    _current = None
