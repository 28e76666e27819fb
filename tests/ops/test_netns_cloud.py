"""Three pods of deploy/k8s's StatefulSet in three network namespaces, each with its own address
and the manifest's own ports, resolving the headless Service's name through their system
resolver, which asks a DNS server the test runs: they form a cloud, and with one killed the other
two stay Ready (issue 16)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.dnsserver import TinyDNS
from tests.ops import netns, podspec
from tests.web.rest import probe

pytestmark = pytest.mark.slow


def test_three_pods_in_three_namespaces_form_a_cloud_and_survive_one_death(tmp_path):
    why = netns.unavailable()
    if why:
        pytest.skip(why)
    procs: list[subprocess.Popen] = []
    with netns.Hub() as hub:
        pods = [hub.add_pod(nameserver=hub.address) for _ in range(3)]
        service = podspec.pod()
        name = service.env["H2OCLOUD_K8S_SERVICE_DNS"]
        dns = hub.run(lambda: TinyDNS(name, [ip for _, ip in pods], bind=(hub.address, 53)))
        with dns:
            try:
                specs = []
                for i, (ns, ip) in enumerate(pods):
                    p = podspec.pod(pod_ip=ip, pod_name=f"h2ocloud-{i}")
                    assert not p.unexpanded
                    env = podspec.local_env(p, tmp_path / f"pod{i}")  # emptyDirs -> temporary folders
                    log = open(tmp_path / f"pod{i}.log", "wb")
                    procs.append(subprocess.Popen(["ip", "netns", "exec", ns, *podspec.node_command(p)], env=env,
                                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
                    log.close()
                    specs.append(p)
                web, ready_path = specs[0].ports["web"], specs[0].container["readinessProbe"]["httpGet"]["path"]
                urls = [f"http://{ip}:{web}" for _, ip in pods]

                def logs() -> str:
                    return "\n".join((tmp_path / f"pod{i}.log").read_text()[-3000:] for i in range(3))

                def ready(url: str) -> tuple[int, dict]:
                    return hub.run(probe, url + ready_path)

                deadline = time.time() + 90
                while not all(ready(u)[0] == 200 for u in urls):
                    assert all(pr.poll() is None for pr in procs), logs()
                    assert time.time() < deadline, f"{[ready(u) for u in urls]}\n{logs()}"
                    time.sleep(0.5)
                sts = [hub.run(probe, u + "/3/Cloud")[1] for u in urls]
                want = {f"{ip}:{specs[0].ports['grpc']}" for _, ip in pods}
                assert all({n["address"] for n in s["nodes"]} == want for s in sts)
                assert len({s["epoch"] for s in sts}) == 1 and all(s["consensus"] for s in sts)
                assert name in dns.asked  # through each pod's system resolver

                # One pod dies without a word: the other two stay Ready throughout, and drop it.
                procs[2].send_signal(signal.SIGKILL)
                procs[2].wait(10)
                timeout = float(specs[0].env["H2OCLOUD_HEARTBEAT_TIMEOUT"])
                deadline = time.time() + timeout + 30
                while True:
                    answers = [ready(u) for u in urls[:2]]
                    assert all(a[0] == 200 for a in answers), answers
                    sizes = [hub.run(probe, u + "/3/Cloud")[1].get("cloud_size") for u in urls[:2]]
                    if sizes == [2, 2]:
                        break
                    assert time.time() < deadline, f"{sizes}\n{logs()}"
                    time.sleep(0.5)
                assert all(ready(u)[0] == 200 for u in urls[:2])
            finally:
                for pr in procs:
                    if pr.poll() is None:
                        pr.send_signal(signal.SIGTERM)
                for pr in procs:
                    try:
                        pr.wait(30)
                    except subprocess.TimeoutExpired:
                        pr.kill()
                        pr.wait()
