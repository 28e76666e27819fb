"""The node: binds its two ports, owns its actors (membership, store, jobs), stops cleanly.

One process, one asyncio event loop. CPU-heavy work goes to `run_in_thread` (a thread pool whose
size is --nthreads), where Numba kernels run with the GIL released, so heartbeats and API calls
stay responsive while the node trains.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from typing import Any

import grpc
from aiohttp import web

from h2ocloud import __version__
from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2_grpc as pb_grpc
from h2ocloud.node.cluster.membership import Membership
from h2ocloud.node.cluster.peers import PeerClient
from h2ocloud.node.config import NodeConfig
from h2ocloud.node.grpc_service import NodeService, PeerService
from h2ocloud.node.ops import register_all
from h2ocloud.node.store.dkv import DKV
from h2ocloud.node.store.local import Store, Value
from h2ocloud.node.tasks.jobs import Job, JobManager, job_key

register_all()

log = logging.getLogger("h2ocloud.node")

SERVER_OPTIONS = [
    # grpcio turns SO_REUSEPORT on by default, which lets a second daemon bind the same port
    # silently and steal half the calls. A port in use must be an error.
    ("grpc.so_reuseport", 0),
    ("grpc.max_receive_message_length", 8 << 20),
    ("grpc.max_send_message_length", 8 << 20),
]


class StartupError(RuntimeError):
    """The node could not start (a port in use, a bad flag); the message says which."""


def _check_free(ip: str, port: int, what: str) -> None:
    """Fail fast with a clear message when a TCP port is taken (bind test without SO_REUSEPORT)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError as e:
            raise StartupError(f"{what} port {ip}:{port} is not available: {e.strerror}") from None


def _is_loopback(ip: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def _preload(modules: list[str]) -> None:
    """Import the --preload modules (their MRTask subclasses register by name), as dask-worker's
    --preload does: how a deployment, or a test, adds map/reduce tasks without changing the node."""
    import importlib

    for mod in modules:
        try:
            importlib.import_module(mod)
        except Exception as e:
            raise StartupError(f"--preload {mod}: {type(e).__name__}: {e}") from None
        log.info("preloaded %s", mod)


def _warm_up() -> None:
    import importlib

    for mod in ("h2ocloud.frame.parse", "h2ocloud.kernel"):
        try:
            importlib.import_module(mod)
        except Exception:  # a missing optional piece must not stop the node
            log.debug("warm-up import of %s failed", mod, exc_info=True)


class Node:
    """One h2ocloud daemon."""

    def __init__(self, config: NodeConfig):
        self.config = config
        self.node_id = config.node_id
        self.started_ms = int(time.time() * 1000)
        self.advertise_host = config.advertise_ip or (
            config.ip if config.ip not in ("0.0.0.0", "") else socket.gethostbyname(socket.gethostname()))
        self.web_port = config.port
        self.grpc_port = config.grpc_port
        self.store = Store(config.effective_max_mem)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(4, config.effective_nthreads + 2), thread_name_prefix="h2ocloud-worker"
        )
        self.jobs = JobManager(self.run_in_thread, config.max_jobs, config.keep_jobs)
        self.membership = Membership(self)
        self.dkv = DKV(self)
        self.jobs.publish, self.jobs.unpublish = self._publish_job, self._unpublish_jobs
        from h2ocloud.node.tasks.models import ModelCache

        self.model_cache = ModelCache()
        from h2ocloud.node.tasks.training_state import TrainingStates

        self.training_states = TrainingStates(config.heartbeat_timeout)  # this node's part of each training job
        self.membership.add_listener(self.training_states.on_membership_change)
        self.tls = config.node_tls()  # None without --tls-cert
        self.peer_client = PeerClient(config.name, config.secret, self.tls)
        self._own_data_dir = config.data_dir is None
        self.data_dir = config.data_dir or tempfile.mkdtemp(prefix=f"h2ocloud-{self.node_id}-")
        os.makedirs(self.data_dir, exist_ok=True)
        if not self._own_data_dir:
            # An explicit --data-dir keeps this node's shard: what it held before a restart is
            # loaded now, and joins the cloud's copies by re-replication once peers are met.
            from h2ocloud.node.store.disk import DiskStore

            disk = DiskStore(os.path.join(self.data_dir, "dkv"))
            loaded = self.store.attach_disk(disk)
            if loaded:
                log.info("loaded %d stored values (%d bytes) from %s", loaded, self.store.nbytes, disk.root)
        self._stop = asyncio.Event()
        self._grpc: grpc.aio.Server | None = None
        self._web: web.AppRunner | None = None
        self._extras: list[Any] = []  # started services with async stop() (discovery, ...)
        self.draining = False  # set on SIGTERM: readiness turns false, jobs end, keys move

    async def run_in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run CPU-heavy fn in the worker pool; the event loop stays free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def _publish_job(self, job: Job) -> None:
        """Write a job's record to the DKV, naming this node as its driver (see tasks/jobs.py)."""
        await self.dkv.put(job_key(job.job_id), Value("job", {**job.to_json(), "node_id": self.node_id}))

    async def _unpublish_jobs(self, job_ids: list[str]) -> None:
        await self.dkv.remove_many([job_key(j) for j in job_ids])

    def request_stop(self) -> None:
        self._stop.set()

    async def start(self) -> None:
        from h2ocloud.web.app import make_app

        cfg = self.config
        _preload(cfg.preload)
        self.dkv.loop = asyncio.get_running_loop()
        _check_free(cfg.ip, cfg.port, "web")
        _check_free(cfg.ip, cfg.grpc_port, "gRPC")
        self._grpc = grpc.aio.server(options=SERVER_OPTIONS)
        pb_grpc.add_NodeServicer_to_server(NodeService(self), self._grpc)
        pb_grpc.add_PeerServicer_to_server(PeerService(self), self._grpc)
        try:
            address = f"{cfg.ip}:{cfg.grpc_port}"
            port = (self._grpc.add_secure_port(address, self.tls.server_credentials()) if self.tls
                    else self._grpc.add_insecure_port(address))
        except RuntimeError as e:
            raise StartupError(f"gRPC port {cfg.ip}:{cfg.grpc_port} is not available: {e}") from None
        if port == 0:
            raise StartupError(f"gRPC port {cfg.ip}:{cfg.grpc_port} is not available")
        self.grpc_port = port
        from h2ocloud.node.logsetup import ACCESS_FORMAT, ACCESS_LOGGER

        access = dict(access_log=logging.getLogger(ACCESS_LOGGER), access_log_format=ACCESS_FORMAT) \
            if cfg.access_log else dict(access_log=None)
        self._web = web.AppRunner(make_app(self), **access)
        await self._web.setup()
        site = web.TCPSite(self._web, cfg.ip, cfg.port, reuse_port=False,
                           ssl_context=self.tls.web_ssl_context() if self.tls else None)
        try:
            await site.start()
        except OSError as e:
            raise StartupError(f"web port {cfg.ip}:{cfg.port} is not available: {e.strerror}") from None
        self.web_port = site._server.sockets[0].getsockname()[1]  # the real port when --port 0
        await self._grpc.start()
        from h2ocloud.node.cluster.discovery import start_discovery

        self._extras.extend(await start_discovery(self))
        self.membership.start()
        from h2ocloud.node.store.repair import PeriodicRepair

        self._extras.append(PeriodicRepair(self.dkv, cfg.repair_interval).start())
        # Import the parser (pyarrow) and kernels in the background now, so the first
        # import_file or train() does not pay for it.
        asyncio.get_running_loop().run_in_executor(self.executor, _warm_up)
        if not _is_loopback(cfg.ip) and not cfg.secret:
            log.warning("bound to %s with no shared secret: any node named %r on the network may join", cfg.ip, cfg.name)
        if not _is_loopback(cfg.ip) and not cfg.auth_token:
            log.warning("bound to %s with no client token: anyone who reaches ports %d and %d may read, train and "
                        "stop the cloud (give --auth-token-file or H2OCLOUD_AUTH_TOKEN)", cfg.ip, self.web_port,
                        self.grpc_port)
        if not _is_loopback(cfg.ip) and not self.tls:
            log.warning("bound to %s with no --tls-cert: peer and client traffic, frames and tokens included, "
                        "crosses the network in clear text", cfg.ip)
        for flag, given in (("--import-root", cfg.import_root), ("--export-root", cfg.export_root)):
            if not _is_loopback(cfg.ip) and not given:
                log.warning("bound to %s with no %s: clients may have the node %s any path its user can "
                            "(give %s DIR)", cfg.ip, flag, "read" if flag == "--import-root" else "write", flag)
        res = cfg.resources_json()
        log.info(
            "h2ocloud %s node %s up: cloud %r, web %s://%s:%d, grpc %s:%d%s, %d threads (%s), store cap %s (%s)",
            __version__, self.node_id, cfg.name, "https" if self.tls else "http", cfg.ip, self.web_port, cfg.ip,
            self.grpc_port, "" if not self.tls else " (mutual TLS)" if self.tls.mutual else " (TLS)",
            res["nthreads"], res["nthreads_from"], res["max_mem"] or "none", res["max_mem_from"],
        )

    async def drain(self) -> None:
        """Before leaving: end the jobs (cancelled, or with --checkpoint-on-stop their models so
        far stored under their keys), then give every key this node holds to its homes in the
        cloud without it, so no peer is left with fewer copies when it goes. Bounded by
        --drain-timeout; what is not done by then is left to the peers' re-replication."""
        self.draining = True
        self.jobs.closed = True
        deadline = time.monotonic() + self.config.drain_timeout
        running = self.jobs.running()
        if running:
            log.info("draining: %s %d running job(s)", "checkpointing" if self.config.checkpoint_on_stop
                     else "cancelling", len(running))
        self.jobs.cancel_all(keep_partial=self.config.checkpoint_on_stop)
        left = await self.jobs.wait_all(max(0.0, deadline - time.monotonic()))
        if left:
            log.warning("draining: %d job(s) still running at the drain deadline", len(left))
        if len(self.membership.members) > 1:
            try:
                moved = await asyncio.wait_for(self.dkv.hand_off(), max(0.5, deadline - time.monotonic()))
                log.info("draining: handed %d key copies to their other homes", moved)
            except asyncio.TimeoutError:
                log.warning("draining: key hand-off did not finish within --drain-timeout")

    async def stop(self) -> None:
        log.info("node %s stopping", self.node_id)
        try:
            await self.drain()
        except Exception:  # stopping must go on whatever the drain met
            log.exception("draining failed")
        await self.membership.stop()
        if len(self.membership.members) > 1:  # leave the cloud: peers drop us now, not after a timeout
            await self.membership.broadcast("cloud.leave", {"node_id": self.node_id}, timeout=2.0)
        for extra in reversed(self._extras):
            try:
                await extra.stop()
            except Exception:
                log.exception("stopping %s failed", extra)
        if self._web:
            await self._web.cleanup()
        if self._grpc:
            await self._grpc.stop(grace=1.0)
        await self.peer_client.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.store.disk is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.store.disk.close)
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        log.info("node %s stopped", self.node_id)

    async def serve(self) -> None:
        """Start, wait for SIGTERM/SIGINT or a shutdown request, stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stop.wait()
        finally:
            await self.stop()
