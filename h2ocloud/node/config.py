"""The node's settings: one table of options, each a flag and an H2OCLOUD_* environment variable.

A flag given on the command line wins over the environment, which wins over the default. Every
value, from either source, goes through the option's parser once, here at the boundary: a bad one
is a ConfigError naming the flag or the variable (`H2OCLOUD_PORT='abc': not an integer`), which
the CLI prints with its usage line instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from h2ocloud import cgroup

if TYPE_CHECKING:
    from h2ocloud.node.tls import NodeTLS

DEFAULT_WEB_PORT = 54321
DEFAULT_GRPC_PORT = 54322
ENV_PREFIX = "H2OCLOUD_"
# Without --max-mem, a container's store may fill this share of its cgroup memory limit; the
# rest is the process's own (numpy work arrays, training copies, Python).
CGROUP_STORE_SHARE = 0.75


class ConfigError(ValueError):
    """A flag or environment value the node cannot use; the message names it."""


# ---- value parsers: each raises ValueError with what was wrong ------------------------------
def parse_int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an integer") from None


def parse_port(text: str) -> int:
    v = parse_int(text)
    if not 0 <= v <= 65535:
        raise ValueError(f"{v} is not a TCP port (0-65535)")
    return v


def parse_count(text: str) -> int:
    v = parse_int(text)
    if v < 0:
        raise ValueError(f"{v} is negative")
    return v


def parse_positive_int(text: str) -> int:
    v = parse_int(text)
    if v < 1:
        raise ValueError(f"{v} is not a positive integer")
    return v


def parse_float(text: str) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def parse_seconds(text: str) -> float:
    v = parse_float(text)
    if v < 0:
        raise ValueError(f"{v:g} seconds is negative")
    return v


def parse_positive_seconds(text: str) -> float:
    v = parse_float(text)
    if v <= 0:
        raise ValueError(f"{v:g} seconds is not positive")
    return v


def parse_size(text: str) -> int:
    """'512m', '2g', '1000' -> bytes."""
    t = str(text).strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    try:
        if t.endswith("b") and len(t) > 1 and t[-2] in mult:
            t = t[:-1]
        if t and t[-1] in mult:
            v = int(float(t[:-1]) * mult[t[-1]])
        else:
            v = int(t[:-1] if t.endswith("b") else t)
    except ValueError:
        raise ValueError(f"{text!r} is not a size (bytes, or a number with k, m, g or t)") from None
    if v < 0:
        raise ValueError(f"{text!r} is negative")
    return v


def parse_bool(text: str) -> bool:
    t = str(text).strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean (true/false, 1/0, yes/no, on/off)")


def parse_name(text: str) -> str:
    if not str(text).strip():
        raise ValueError("the cloud name is empty")
    return str(text).strip()


def parse_hostport(text: str) -> str:
    host, sep, port = str(text).strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"{text!r} is not host:port")
    parse_port(port)
    return f"{host}:{port}"


def parse_peers(text: str) -> list[str]:
    return [parse_hostport(p) for p in str(text).split(",") if p.strip()]


def parse_modules(text: str) -> list[str]:
    mods = [m.strip() for m in str(text).split(",") if m.strip()]
    for m in mods:
        if not all(part.isidentifier() for part in m.split(".")):
            raise ValueError(f"{m!r} is not a Python module name")
    return mods


def parse_dir(text: str) -> str:
    path = os.path.abspath(os.path.expanduser(str(text).strip()))
    if not os.path.isdir(path):
        raise ValueError(f"{text!r} is not a directory")
    return path


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        t = str(text).strip()
        for a in allowed:
            if t.lower() == a.lower():
                return a
        raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")

    parse.__name__ = "choice"
    return parse


@dataclass(frozen=True)
class Option:
    """One setting: its field in NodeConfig, how a text value parses, its default and help.

    A boolean option is a flag pair (--x / --no-x); `env_only` ones have no flag; a `repeat`
    one may be given more than once (its variable holds the values separated by os.pathsep)."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    boolean: bool = False
    env_only: bool = False
    repeat: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


OPTIONS: list[Option] = [
    Option("ip", str, "127.0.0.1", "address to bind (default 127.0.0.1)"),
    Option("advertise_ip", str, None, "address peers reach this node at (default: --ip; with 0.0.0.0, the "
           "address of the host name; a pod passes its status.podIP)"),
    Option("port", parse_port, DEFAULT_WEB_PORT, "web console, REST and /metrics port (default 54321)"),
    Option("grpc_port", parse_port, DEFAULT_GRPC_PORT, "gRPC port for peers and clients (default 54322)"),
    Option("name", parse_name, "h2ocloud", "cloud name: only nodes of the same name join"),
    Option("nthreads", parse_count, 0, "worker threads (0: the container's CPU quota, else every core)"),
    Option("cloud_size", parse_positive_int, 1, "nodes the cloud must have formed with before this node is Ready (as H2O's)"),
    Option("flatfile", str, None, "file of host:grpc_port lines naming peers"),
    Option("peers", parse_peers, [], "comma-separated host:grpc_port of peers"),
    Option("data_dir", str, None, "where uploads go and, when given, where the node keeps its share of the store so it survives a restart (default: a fresh temporary directory, removed at stop)"),
    Option("k8s_service_dns", str, None, "headless Service DNS name to resolve for peers"),
    Option("k8s_nameserver", parse_hostport, None, "host:port of the DNS server for --k8s-service-dns (default: the system resolver)"),
    Option("zeroconf", parse_bool, None, "announce and discover by mDNS on the bound interface (default: on unless "
           "--flatfile, --peers or --k8s-service-dns is given)", boolean=True),
    Option("secret_file", str, None, "file holding the cloud's shared secret"),
    Option("secret", str, None, "the cloud's shared secret itself (environment only; --secret-file wins)", env_only=True),
    Option("auth_token_file", str, None, "file holding the token every client call must send as "
           "`Authorization: Bearer <token>` (REST, console login, client gRPC); /3/Ready and /healthz stay open"),
    Option("auth_token", str, None, "the client token itself (environment only; --auth-token-file wins)", env_only=True),
    Option("tls_cert", str, None, "PEM certificate of this node (with --tls-key): TLS on the gRPC port, HTTPS on the "
           "web port; it must name the address peers and clients use (--advertise-ip)"),
    Option("tls_key", str, None, "PEM private key of --tls-cert"),
    Option("tls_ca", str, None, "PEM CA certificate(s): mutual TLS on the gRPC port (peers, and clients' gRPC calls, "
           "present a certificate it signed) and peers' certificates are verified against it"),
    Option("import_root", parse_dir, [], "a directory import_file and load_model may read under (repeatable; "
           "default: whatever the node's user can read)", repeat=True),
    Option("export_root", parse_dir, [], "a directory export_file, save_model and export_checkpoints_dir may "
           "write under (repeatable; default: wherever the node's user can write)", repeat=True),
    Option("max_upload", parse_size, 8 << 30, "largest file a client may upload (e.g. 500m; default 8g; 0: no cap)"),
    Option("max_jobs", parse_count, 64, "jobs a node runs at once; one more is refused naming this limit (64; 0: no bound)"),
    Option("keep_jobs", parse_count, 1000, "ended jobs a node remembers; older ones are forgotten oldest first (1000)"),
    Option("max_request_body", parse_size, 64 << 20, "largest JSON request body the REST API reads (64m; files go "
           "to /3/PostFile, capped by --max-upload)"),
    Option("heartbeat_interval", parse_positive_seconds, 1.0, "seconds between heartbeats (1)"),
    Option("heartbeat_timeout", parse_positive_seconds, 10.0, "seconds without heartbeats before a peer is declared dead (10)"),
    Option("forget_dead", parse_seconds, 600.0, "seconds a dead peer, or an address no discovery source names any more, "
           "is kept before it is dropped (600; 0: never)"),
    Option("replication", parse_count, 0, "copies of each DKV key (0: 2 when the cloud has 2+ nodes)"),
    Option("repair_interval", parse_seconds, 30.0, "seconds between re-replication rounds that heal a key "
           "copy lost without a membership change (30; 0: only on membership changes)"),
    Option("mr_fanin", parse_count, 2, "partials a node receives from the nodes below it in a map/reduce's "
           "reduce tree, as H2O's MRTask reduces (2; 0: flat, every node answers the caller)"),
    Option("max_mem", parse_size, 0, "cap on bytes this node's store holds (e.g. 2g; 0: 3/4 of the cgroup memory limit, else none)"),
    Option("log_level", choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "DEBUG, INFO, WARNING or ERROR"),
    Option("log_format", choice("text", "json"), "text", "text, or json: one JSON object a line"),
    Option("access_log", parse_bool, False, "log every REST request (method, path, status, time)", boolean=True),
    Option("checkpoint_on_stop", parse_bool, False, "on SIGTERM, save each running training job's model so far "
           "under its key (a checkpoint to resume from) instead of discarding it", boolean=True),
    Option("preload", parse_modules, [], "comma-separated Python modules the node imports at startup, to register "
           "more map/reduce tasks (as dask-worker --preload)"),
    Option("drain_timeout", parse_positive_seconds, 20.0, "seconds SIGTERM waits for jobs to end and keys to reach "
           "their other homes before the node exits (keep below the pod's grace period)"),
]
BY_NAME = {o.name: o for o in OPTIONS}
KNOWN_ENV = {o.env for o in OPTIONS}


@dataclass
class NodeConfig:
    """Everything a node needs to start. Field names are the options' names."""

    ip: str = "127.0.0.1"
    advertise_ip: str | None = None
    port: int = DEFAULT_WEB_PORT
    grpc_port: int = DEFAULT_GRPC_PORT
    name: str = "h2ocloud"
    nthreads: int = 0  # 0: the cgroup's CPU quota, else all cores
    cloud_size: int = 1
    flatfile: str | None = None
    peers: list[str] = field(default_factory=list)
    data_dir: str | None = None
    k8s_service_dns: str | None = None
    k8s_nameserver: str | None = None  # host:port of the DNS server to ask (default: the system's)
    zeroconf: bool | None = None  # None: on unless another discovery source is given
    secret_file: str | None = None
    secret: str | None = None
    auth_token_file: str | None = None
    auth_token: str | None = None  # clients must send it (Authorization: Bearer); None: no token
    tls_cert: str | None = None  # with tls_key: TLS on gRPC, HTTPS on the web port
    tls_key: str | None = None
    tls_ca: str | None = None  # mutual TLS on the gRPC port
    import_root: list[str] = field(default_factory=list)  # empty: the node reads what its user can
    export_root: list[str] = field(default_factory=list)  # empty: the node writes where its user can
    max_upload: int = 8 << 30  # bytes; 0: no cap
    max_jobs: int = 64  # running at once; 0: no bound
    keep_jobs: int = 1000  # ended jobs remembered
    max_request_body: int = 64 << 20  # bytes of a REST request body (uploads stream past it)
    heartbeat_interval: float = 1.0
    heartbeat_timeout: float = 10.0
    forget_dead: float = 600.0  # seconds after death (or last mention) a peer/address is dropped; 0: never
    replication: int = 0  # 0: automatic (2 when the cloud has 2 or more nodes)
    repair_interval: float = 30.0  # seconds between periodic re-replication rounds; 0: off
    mr_fanin: int = 2  # subtrees a node splits a map/reduce's other nodes into; 0: flat
    max_mem: int = 0  # bytes the DKV may hold; 0: from the cgroup, else no cap
    log_level: str = "INFO"
    log_format: str = "text"
    access_log: bool = False
    checkpoint_on_stop: bool = False
    drain_timeout: float = 20.0
    preload: list[str] = field(default_factory=list)  # modules imported at startup (their tasks register)
    node_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    limits: cgroup.Limits | None = None  # read once, at the first use
    _tls: Any = field(default=None, repr=False)  # the loaded NodeTLS (or False: none), at the first use

    def cgroup_limits(self) -> cgroup.Limits:
        if self.limits is None:
            self.limits = cgroup.read_limits()
        return self.limits

    def node_tls(self) -> NodeTLS | None:
        """The node's certificate, key and CA, read and checked once (TLSConfigError names a
        bad flag); None without --tls-cert."""
        if self._tls is None:
            from h2ocloud.node.tls import NodeTLS

            self._tls = NodeTLS.load(self.tls_cert, self.tls_key, self.tls_ca) or False
        return self._tls or None

    @property
    def zeroconf_enabled(self) -> bool:
        """Zeroconf unless turned off, or another discovery source was given and it was not asked for."""
        if self.zeroconf is not None:
            return self.zeroconf
        return not (self.flatfile or self.peers or self.k8s_service_dns)

    @property
    def effective_nthreads(self) -> int:
        if self.nthreads > 0:
            return self.nthreads
        return cgroup.cpu_threads(self.cgroup_limits())

    @property
    def effective_max_mem(self) -> int:
        """The store's byte cap: --max-mem, held under the cgroup's memory limit; 0: none."""
        limit = self.cgroup_limits().memory
        share = int(limit * CGROUP_STORE_SHARE) if limit else 0
        if self.max_mem and share:
            return min(self.max_mem, share)
        return self.max_mem or share

    def resources_json(self) -> dict[str, Any]:
        """What the node took from where, for /3/Cloud."""
        lim = self.cgroup_limits()
        nthreads_from = "--nthreads" if self.nthreads > 0 else ("cgroup cpu quota" if lim.cpus is not None else "cores")
        if self.max_mem and lim.memory and self.effective_max_mem < self.max_mem:
            mem_from = "--max-mem, capped by the cgroup memory limit"
        else:
            mem_from = "--max-mem" if self.max_mem else ("cgroup memory limit" if lim.memory else "none")
        return {
            "nthreads": self.effective_nthreads, "nthreads_from": nthreads_from,
            "host_cores": cgroup.host_cores(), "cgroup_version": lim.version,
            "cgroup_cpus": lim.cpus, "cgroup_memory": lim.memory,
            "max_mem": self.effective_max_mem, "max_mem_from": mem_from,
        }


def add_node_arguments(parser: argparse.ArgumentParser) -> None:
    """The daemon's flags. Their defaults are resolved later (config_from_args), with the
    environment, so that an H2OCLOUD_* value is checked and named like a flag's."""
    for o in OPTIONS:
        if o.env_only:
            continue
        helptext = f"{o.help} [{o.env}]"
        if o.boolean:
            parser.add_argument(o.flag, dest=o.name, action=argparse.BooleanOptionalAction, default=None, help=helptext)
        elif o.repeat:
            parser.add_argument(o.flag, dest=o.name, action="append", type=_flag_type(o), default=None, help=helptext)
        else:
            parser.add_argument(o.flag, dest=o.name, type=_flag_type(o), default=None, help=helptext)


def _flag_type(o: Option) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return o.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = o.name
    return parse


def resolve(ns: argparse.Namespace, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Each option's value: the flag's, else the environment's (parsed), else the default."""
    environ = os.environ if environ is None else environ
    out = {}
    for o in OPTIONS:
        value = None if o.env_only else getattr(ns, o.name, None)
        if value is None and o.env in environ and (environ[o.env] != "" or o.env_only):
            raw = environ[o.env]
            try:
                value = [o.parse(v) for v in raw.split(os.pathsep) if v] if o.repeat else o.parse(raw)
            except ValueError as e:
                raise ConfigError(f"environment variable {o.env}={raw!r}: {e}") from None
        out[o.name] = (list(o.default) if o.repeat else o.default) if value is None else value
    return out


def unknown_environment(environ: dict[str, str] | None = None) -> list[str]:
    """H2OCLOUD_* variables no option reads (a typo would otherwise be ignored silently)."""
    environ = os.environ if environ is None else environ
    return sorted(k for k in environ if k.startswith(ENV_PREFIX) and k not in KNOWN_ENV)


def config_from_args(ns: argparse.Namespace) -> NodeConfig:
    """Build a NodeConfig from parsed flags and the environment. ConfigError names a bad value
    (or TLS file); OSError a --secret-file or --auth-token-file that cannot be read (or is empty), naming the flag."""
    values = resolve(ns)
    for value_name, file_name in (("secret", "secret_file"), ("auth_token", "auth_token_file")):
        values[value_name] = values[value_name] or None
        if values[file_name]:
            values[value_name] = _read_secret(values[file_name], BY_NAME[file_name].flag)
    cfg = NodeConfig(**values)
    from h2ocloud.node.tls import TLSConfigError

    try:
        cfg.node_tls()  # a missing partner flag or an unusable file stops the node now, named
    except TLSConfigError as e:
        raise ConfigError(str(e)) from None
    return cfg


def _read_secret(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except OSError as e:
        raise OSError(f"cannot read {flag} {path}: {e.strerror or e}") from None
    if not text:  # an empty file would silently mean "no secret": refuse to start instead
        raise OSError(f"{flag} {path} is empty")
    return text
