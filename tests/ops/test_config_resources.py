"""Operating a node (issue 16): configuration errors named, resources from the cgroup, zeroconf
on by default, every H2OCLOUD_* variable documented."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from h2ocloud import cgroup
from h2ocloud.node.config import (
    KNOWN_ENV,
    OPTIONS,
    ConfigError,
    NodeConfig,
    add_node_arguments,
    resolve,
)
from tests.cloudfixture import NodeProc, free_ports, get_json
from tests.conftest import REPO


def _node(args: list[str], env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("H2OCLOUD_")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "h2ocloud", "node", *args], env=e, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


# ---- configuration errors ----------------------------------------------------------------
@pytest.mark.parametrize("args, env, named", [
    ([], {"H2OCLOUD_PORT": "abc"}, "H2OCLOUD_PORT='abc': 'abc' is not an integer"),
    ([], {"H2OCLOUD_GRPC_PORT": "70000"}, "H2OCLOUD_GRPC_PORT='70000': 70000 is not a TCP port"),
    ([], {"H2OCLOUD_ZEROCONF": "maybe"}, "H2OCLOUD_ZEROCONF='maybe': 'maybe' is not a boolean"),
    ([], {"H2OCLOUD_MAX_MEM": "12q"}, "H2OCLOUD_MAX_MEM='12q'"),
    ([], {"H2OCLOUD_PEERS": "a:1,b"}, "H2OCLOUD_PEERS='a:1,b': 'b' is not host:port"),
    (["--port", "abc"], {}, "argument --port: 'abc' is not an integer"),
    (["--log-format", "xml"], {}, "argument --log-format: 'xml' is not one of text, json"),
    (["--heartbeat-timeout", "-1"], {}, "argument --heartbeat-timeout: -1 seconds is not positive"),
    (["--cloud-size", "0"], {}, "argument --cloud-size: 0 is not a positive integer"),
])
def test_a_bad_flag_or_variable_exits_with_usage_naming_it(args, env, named):
    r = _node(args, env)
    assert r.returncode == 2, r.stderr
    assert named in r.stderr and "usage: h2ocloud node" in r.stderr
    assert "Traceback" not in r.stderr


def test_flag_wins_over_environment_over_default():
    parser = argparse.ArgumentParser()
    add_node_arguments(parser)
    got = resolve(parser.parse_args(["--port", "7000"]), {"H2OCLOUD_PORT": "7001", "H2OCLOUD_NAME": "envname"})
    assert got["port"] == 7000 and got["name"] == "envname" and got["grpc_port"] == 54322
    with pytest.raises(ConfigError, match="H2OCLOUD_NTHREADS='-2': -2 is negative"):
        resolve(parser.parse_args([]), {"H2OCLOUD_NTHREADS": "-2"})
    assert resolve(parser.parse_args(["--no-zeroconf"]), {"H2OCLOUD_ZEROCONF": "on"})["zeroconf"] is False


def test_every_variable_is_in_the_readme_table():
    readme = (REPO / "README.md").read_text()
    rows = set(re.findall(r"^\|[^|]*\|\s*`(H2OCLOUD_[A-Z0-9_]+)`", readme, re.M))
    assert KNOWN_ENV <= rows, f"missing from README's table: {sorted(KNOWN_ENV - rows)}"
    assert rows <= KNOWN_ENV, f"README documents variables the node does not read: {sorted(rows - KNOWN_ENV)}"
    flags = {o.flag for o in OPTIONS if not o.env_only}
    documented = set(re.findall(r"^\| `(--[a-z0-9-]+)`", readme, re.M))
    assert flags <= documented, f"flags missing from README's table: {sorted(flags - documented)}"


# ---- zeroconf on by default -----------------------------------------------------------------
def test_zeroconf_default_follows_the_other_discovery_sources():
    assert NodeConfig().zeroconf_enabled
    assert not NodeConfig(flatfile="nodes.txt").zeroconf_enabled
    assert not NodeConfig(peers=["127.0.0.1:1"]).zeroconf_enabled
    assert not NodeConfig(k8s_service_dns="svc.ns.svc.cluster.local").zeroconf_enabled
    assert not NodeConfig(zeroconf=False).zeroconf_enabled
    assert NodeConfig(zeroconf=True, flatfile="nodes.txt").zeroconf_enabled  # asked for: both


@pytest.mark.slow
def test_two_nodes_with_one_name_and_no_other_flags_form_a_cloud(tmp_path):
    from tests.test_cloud_membership import loopback_multicast_works

    if not loopback_multicast_works():
        pytest.skip("multicast on the loopback interface is unavailable here, so mDNS cannot run")
    name = f"zc-default-{uuid.uuid4().hex[:8]}"  # unique: other runs on this machine announce too
    ports = free_ports(4)
    nodes = [NodeProc(ports[2 * i], ports[2 * i + 1], tmp_path / f"n{i}.log", ["--name", name]) for i in range(2)]
    try:
        for n in nodes:
            n.env = {"H2OCLOUD_ZEROCONF": ""}  # the test session turns it off; this test needs the default
            n.start()
        deadline = time.time() + 40
        while True:
            sts = [n.wait_up() for n in nodes]
            if all(s["cloud_size"] == 2 and s["consensus"] for s in sts):
                break
            assert time.time() < deadline, f"no cloud formed by zeroconf: {sts}\n{nodes[0].log()}"
            time.sleep(0.3)
        assert all(s["zeroconf"] is True for s in sts)
        assert "zeroconf: announcing _h2ocloud._tcp.local. on 127.0.0.1" in nodes[0].log()
    finally:
        for n in nodes:
            n.stop()


# ---- resources from the cgroup -------------------------------------------------------------
def _write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_cgroup_v2_quota_and_memory(tmp_path):
    _write(tmp_path, "cg/cgroup.controllers", "cpu memory\n")
    _write(tmp_path, "cg/kubepods/pod1/cpu.max", "150000 100000\n")
    _write(tmp_path, "cg/kubepods/pod1/memory.max", "2147483648\n")
    _write(tmp_path, "proc", "0::/kubepods/pod1\n")
    lim = cgroup.read_limits(str(tmp_path / "cg"), str(tmp_path / "proc"))
    assert (lim.cpus, lim.memory, lim.version) == (1.5, 2 << 30, 2)
    assert cgroup.cpu_threads(lim, cores=64) == 2 and cgroup.cpu_threads(lim, cores=1) == 1
    # A namespaced container sees its own cgroup as "/": the root's files are read.
    _write(tmp_path, "ns/cgroup.controllers", "cpu memory\n")
    _write(tmp_path, "ns/cpu.max", "max 100000\n")
    _write(tmp_path, "ns/memory.max", "max\n")
    _write(tmp_path, "proc2", "0::/\n")
    lim = cgroup.read_limits(str(tmp_path / "ns"), str(tmp_path / "proc2"))
    assert (lim.cpus, lim.memory) == (None, None) and cgroup.cpu_threads(lim, cores=64) == 64


def test_cgroup_v1_quota_and_memory(tmp_path):
    _write(tmp_path, "cg/cpu,cpuacct/cpu.cfs_quota_us", "300000\n")
    _write(tmp_path, "cg/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    _write(tmp_path, "cg/memory/memory.limit_in_bytes", "9223372036854771712\n")  # v1's "no limit"
    _write(tmp_path, "proc", "4:memory:/\n2:cpu,cpuacct:/\n")
    lim = cgroup.read_limits(str(tmp_path / "cg"), str(tmp_path / "proc"))
    assert (lim.cpus, lim.memory, lim.version) == (3.0, None, 1)
    _write(tmp_path, "cg/memory/memory.limit_in_bytes", "1073741824\n")
    _write(tmp_path, "cg/cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    lim = cgroup.read_limits(str(tmp_path / "cg"), str(tmp_path / "proc"))
    assert (lim.cpus, lim.memory) == (None, 1 << 30)
    cfg = NodeConfig(limits=lim)
    assert cfg.effective_max_mem == 768 << 20  # 3/4 of the limit when --max-mem is not given
    assert NodeConfig(limits=lim, max_mem=4 << 30).effective_max_mem == 768 << 20  # held under it
    assert NodeConfig(limits=lim, max_mem=256 << 20).effective_max_mem == 256 << 20


def _own_cgroup(controller: str) -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, ctl, path = line.split(":", 2)
        if controller in ctl.split(","):
            return Path("/sys/fs/cgroup") / ctl / path.lstrip("/")
    raise FileNotFoundError(controller)


def test_a_node_in_a_limited_cgroup_takes_its_threads_and_memory_from_it(tmp_path):
    """A real node started inside a cgroup with half a CPU and 2 GiB (cgroup v1 or v2, as this
    machine has) reports 1 thread from the quota and a store cap under the limit in /3/Cloud."""
    name = f"h2ocloud-test-{uuid.uuid4().hex[:8]}"
    made: list[Path] = []
    try:
        if Path("/sys/fs/cgroup/cgroup.controllers").exists():  # v2: one folder, both files
            parent = Path("/sys/fs/cgroup") / Path("/proc/self/cgroup").read_text().split("::", 1)[1].strip().lstrip("/")
            d = parent / name
            d.mkdir()
            made.append(d)
            (d / "cpu.max").write_text("50000 100000\n")
            (d / "memory.max").write_text(str(2 << 30) + "\n")
            procs = [d / "cgroup.procs"]
        else:
            cpu, mem = _own_cgroup("cpu") / name, _own_cgroup("memory") / name
            for d in (cpu, mem):
                d.mkdir()
                made.append(d)
            (cpu / "cpu.cfs_period_us").write_text("100000\n")
            (cpu / "cpu.cfs_quota_us").write_text("50000\n")
            (mem / "memory.limit_in_bytes").write_text(str(2 << 30) + "\n")
            procs = [cpu / "cgroup.procs", mem / "cgroup.procs"]
    except OSError as e:
        for d in made:
            d.rmdir()
        pytest.skip(f"cannot make a cgroup here ({e}); needs root and a writable /sys/fs/cgroup")
    web, grpc_port = free_ports(2)
    join = "; ".join(f"echo $$ > {p}" for p in procs)
    script = f"{join}; exec {sys.executable} -m h2ocloud node --no-zeroconf --port {web} --grpc-port {grpc_port}"
    log = open(tmp_path / "node.log", "wb")
    p = subprocess.Popen(["sh", "-c", script], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                st = get_json(f"http://127.0.0.1:{web}/3/Cloud")
                break
            except OSError:
                assert p.poll() is None and time.time() < deadline, (tmp_path / "node.log").read_text()
                time.sleep(0.2)
        res = st["resources"]
        assert res["cgroup_cpus"] == 0.5 and res["nthreads"] == 1 and res["nthreads_from"] == "cgroup cpu quota"
        assert res["cgroup_memory"] == 2 << 30 and res["max_mem"] == int(0.75 * (2 << 30))
        assert st["nodes"][0]["nthreads"] == 1 and st["nodes"][0]["max_mem"] == res["max_mem"]
        assert "1 threads (cgroup cpu quota)" in (tmp_path / "node.log").read_text()
    finally:
        p.terminate()
        p.wait(30)
        log.close()
        for d in made:
            for _ in range(50):  # the cgroup empties once the process has been reaped
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
