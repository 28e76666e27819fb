"""The client's current connection: `init()`, `connection()`, `cluster()`, `shutdown()`."""

from __future__ import annotations

from typing import Any

from h2ocloud import __version__
from h2ocloud.client.local import LocalNode
from h2ocloud.client.node_connection import TOKEN_ENV, Connection, fetch_cloud
from h2ocloud.client.tls import ClientTLS
from h2ocloud.errors import TLSError

_current: Connection | None = None


# h2o-py's init arguments that configure its Java server or its HTTP client: none has a
# counterpart here. A value other than h2o-py's default is ignored with a warning saying why.
_NOT_APPLICABLE: dict[str, tuple[Any, str]] = {
    "min_mem_size": (None, "a JVM heap setting; a node has no minimum heap (max_mem_size caps its store)"),
    "enable_assertions": (True, "a JVM flag"),
    "extra_classpath": (None, "a JVM class path"),
    "jvm_custom_args": (None, "JVM arguments"),
    "max_log_file_size": (None, "the node's log is one file, not rotated by size"),
    "cookies": (None, "nodes use no cookies"),
    "proxy": (None, "the client connects to the node directly"),
    "username": (None, "nodes have no user accounts (a node started with --auth-token-file takes token=...)"),
    "password": (None, "nodes have no user accounts (a node started with --auth-token-file takes token=...)"),
}
# h2o-py's legacy spellings, still accepted there through **kwargs.
_LEGACY = {"max_mem_size_GB": "max_mem_size", "min_mem_size_GB": "min_mem_size", "proxies": "proxy",
           "size": None}


def init(
    url: str | None = None,
    ip: str | None = None,
    port: int | None = None,
    name: str | None = None,
    https: bool | None = None,
    cacert: str | None = None,
    insecure: bool | None = None,
    username: str | None = None,
    password: str | None = None,
    cookies: Any = None,
    proxy: Any = None,
    start_h2o: bool = True,
    nthreads: int = -1,
    ice_root: str | None = None,
    log_dir: str | None = None,
    log_level: str | None = None,
    max_log_file_size: str | None = None,
    enable_assertions: bool = True,
    max_mem_size: str | int | None = None,
    min_mem_size: str | int | None = None,
    strict_version_check: bool | None = None,
    ignore_config: bool = False,
    extra_classpath: Any = None,
    jvm_custom_args: Any = None,
    bind_to_localhost: bool = True,
    timeout: float = 60.0,
    token: str | None = None,
    verify: bool | str | None = None,
    cert: str | tuple[str, str] | None = None,
    **kwargs: Any,
) -> Connection:
    """Connect to an h2ocloud node, starting a local one when none answers (h2o-py's signature).

    Parameters
    ----------
    url : "http://host:port" of a node's web port. When given, a node is never started: a node
        that does not answer raises ConnectionError.
    ip, port : host and web port (default localhost:54321), the other way to name a node.
    start_h2o : start a local node (a child process, stopped at interpreter exit) when none
        answers at localhost. Only for localhost addresses.
    For a node this call starts: name (the cloud's name), nthreads, max_mem_size (a cap on the
    bytes its store holds, "4g" or a number), ice_root (its data dir), log_dir (where its log
    goes), log_level (DEBUG, INFO, WARN, ERROR), bind_to_localhost (False: all interfaces).
    strict_version_check : True raises H2OConnectionError when the node's version differs from
        the client's (None/False: a warning).
    https : True connects to ip:port over HTTPS (as an https:// url does); a node started with
        --tls-cert serves HTTPS on its web port and TLS on its gRPC port, and the client uses TLS
        for both.
    verify (h2ocloud's; h2o-py's cacert and insecure are its other spellings) : how the node's
        certificate is checked over HTTPS: True (default) against the system's CA certificates,
        a path against that CA file (cacert=path), False not at all (insecure=True; the
        certificate the node presents is trusted as it is, with a warning).
    cert (h2ocloud's) : (certificate file, key file), or one PEM file holding both, presented on
        the gRPC port of a node started with --tls-ca (mutual TLS), which requires one signed by
        its CA. A certificate the client's CA does not verify, a missing client certificate, or
        an http:// url to a node serving HTTPS raise TLSError (a ConnectionError) saying which.
    ignore_config : accepted; the client reads no .h2oconfig file in any case.
    min_mem_size, enable_assertions, extra_classpath, jvm_custom_args, max_log_file_size,
    cookies, proxy, username, password configure h2o-py's Java server or its
    HTTP client and have no counterpart: a value other than h2o-py's default is ignored with a
    warning naming it. timeout (h2ocloud's): seconds to wait for a started node.
    token (h2ocloud's) : the client token of a node started with --auth-token-file, sent as
        `Authorization: Bearer <token>` on every REST and gRPC call (default: the environment
        variable H2OCLOUD_AUTH_TOKEN). A node that refuses it raises Unauthenticated, a
        PermissionError naming the reason.

    Calling init again replaces the current connection.
    """
    global _current
    import warnings

    from h2ocloud.exceptions import H2OConnectionError, H2OValueError

    for key in list(kwargs):
        if key not in _LEGACY:
            raise H2OValueError(f"init() got an unexpected argument {key!r}", var_name=key)
        new = _LEGACY[key]
        value = kwargs.pop(key)
        if new == "max_mem_size" and max_mem_size is None:
            max_mem_size = f"{value}g"
        elif new == "min_mem_size":
            min_mem_size = value
        elif new == "proxy":
            proxy = value
    if https and url is not None and not url.startswith("https://"):
        raise H2OValueError(f"https=True with url={url!r}: give an https:// url", var_name="https")
    if verify is None:  # h2o-py's spellings: cacert=path, insecure=True
        verify = cacert if cacert is not None else (False if insecure else True)
    tls = ClientTLS.from_args(verify, cert)
    given = {"min_mem_size": min_mem_size, "enable_assertions": enable_assertions,
             "extra_classpath": extra_classpath, "jvm_custom_args": jvm_custom_args,
             "max_log_file_size": max_log_file_size, "cookies": cookies,
             "proxy": proxy, "username": username, "password": password}
    for key, value in given.items():
        default, why = _NOT_APPLICABLE[key]
        if value != default:
            warnings.warn(f"h2o.init: {key} is ignored: {why}", UserWarning, stacklevel=2)
    import os

    token = token or os.environ.get(TOKEN_ENV) or None
    explicit = url is not None
    if url is None:
        url = f"{'https' if https else 'http'}://{ip or 'localhost'}:{port or 54321}"
    local = (ip or "localhost") in ("localhost", "127.0.0.1") and not https  # a started node has no TLS
    try:
        status = fetch_cloud(url, token=token, tls=tls)
        owned = None
    except TLSError:
        raise  # something answers, with TLS the client cannot use: starting a node would not help
    except ConnectionError:
        if explicit or not start_h2o or not local:
            raise
        # Reuse the node this process already started, if it is still up.
        if _current is not None and _current.owned_process is not None and _current.owned_process.proc.poll() is None:
            owned = _current.owned_process
        else:
            owned = LocalNode(web_port=port, nthreads=nthreads,
                              max_mem=None if max_mem_size is None else str(max_mem_size), name=name,
                              data_dir=ice_root, log_dir=log_dir, log_level=log_level,
                              bind_to_localhost=bind_to_localhost)
        status = owned.wait_ready(timeout, token=token)
        url = owned.url
    if strict_version_check and status.get("version") != __version__:
        raise H2OConnectionError(f"strict_version_check: the node at {url} runs h2ocloud {status.get('version')}, "
                                 f"this client is {__version__}")
    if _current is not None:
        if owned is None and _current.owned_process is not None:
            # Same node as before (init called again): keep owning the process we started.
            owned = _current.owned_process if status.get("node_id") == _current.node_id else None
        _current.close()
    _current = Connection(url, status, owned_process=owned, token=token, tls=tls)
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
