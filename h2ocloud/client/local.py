"""Starting a node as a child process for `h2o.init()` when none answers, and stopping it at exit."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time

from h2ocloud.client.node_connection import fetch_cloud


def port_is_free(port: int, ip: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"


class LocalNode:
    """A daemon this Python process started; stopped (SIGTERM) at interpreter exit."""

    def __init__(self, web_port: int | None = None, grpc_port: int | None = None, nthreads: int = -1,
                 max_mem: str | None = None, name: str | None = None, data_dir: str | None = None,
                 log_dir: str | None = None, log_level: str | None = None, bind_to_localhost: bool = True):
        ip = "127.0.0.1" if bind_to_localhost else "0.0.0.0"
        self.web_port = web_port or (54321 if port_is_free(54321) else free_port())
        self.grpc_port = grpc_port or (54322 if port_is_free(54322) and self.web_port != 54322 else free_port())
        self.url = f"http://127.0.0.1:{self.web_port}"
        if log_dir is not None:
            os.makedirs(log_dir, exist_ok=True)
        self.log_path = tempfile.NamedTemporaryFile(prefix="h2ocloud-node-", suffix=".log", delete=False,
                                                    dir=log_dir).name
        cmd = [sys.executable, "-m", "h2ocloud", "node", "--ip", ip, "--port", str(self.web_port),
               "--grpc-port", str(self.grpc_port)]
        if not bind_to_localhost:
            cmd += ["--advertise-ip", "127.0.0.1"]
        if nthreads and nthreads > 0:
            cmd += ["--nthreads", str(nthreads)]
        if max_mem:
            cmd += ["--max-mem", str(max_mem)]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        if log_level:
            cmd += ["--log-level", str(log_level)]
        # A cloud name of its own, as h2o-py's local server: with zeroconf on (the default), a
        # node named like a neighbour's on this machine would join it.
        cmd += ["--name", name or f"h2ocloud_from_python_{_user()}_{os.getpid()}_{self.web_port}"]
        self._log = open(self.log_path, "wb")
        # A subprocess, never a bare fork: Numba's threads do not survive fork().
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ))
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 60.0, token: str | None = None) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ConnectionError(f"the local h2ocloud node exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                return fetch_cloud(self.url, timeout=1.0, token=token)
            except ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise ConnectionError(f"the local h2ocloud node did not come up within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
