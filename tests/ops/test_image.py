"""The image (issue 16): deploy/docker/Dockerfile builds with podman from a base bootstrapped
here (no registry), and three containers of it, run as the StatefulSet's pod says (its command
and environment, read-only root, the init container's copy of the compiled Numba cache), each in
a network namespace of its own, resolve the headless Service through a DNS server the test runs,
form a cloud, pass the image's HEALTHCHECK, and train without compiling a kernel.
Skipped, saying why, where podman (Debian's package), runc, mmdebstrap or namespaces are missing."""

from __future__ import annotations

import io
import json
import os
import time
import uuid

import numpy as np
import pandas as pd
import pytest

from tests.dnsserver import TinyDNS
from tests.ops import netns, podspec
from tests.ops import podman_image as pi
from tests.web.rest import ok, probe

pytestmark = pytest.mark.slow


def _csv(n: int = 300) -> bytes:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = np.where(df.a > df.b, "yes", "no")
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


def _compiled(d) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*.nbc")}


def test_the_image_builds_and_three_containers_form_a_cloud(tmp_path):
    why = pi.unavailable() or netns.unavailable()
    if why:
        pytest.skip(why)
    base = pi.ensure_base(print)
    tag = f"localhost/h2ocloud-test:{uuid.uuid4().hex[:8]}"
    names: list[str] = []
    try:
        pi.build(base, tag)
        image = json.loads(pi.podman("image", "inspect", tag).stdout)[0]
        cfg = image["Config"]
        assert cfg["User"] == "10001:10001" and cfg["Cmd"] == ["h2ocloud", "node"]
        assert cfg["Labels"]["org.opencontainers.image.title"] == "h2ocloud"
        assert "healthz" in " ".join(image["Healthcheck"]["Test"])
        sts = podspec.one("StatefulSet")["spec"]["template"]["spec"]
        (init,) = sts["initContainers"]
        with netns.Hub() as hub:
            pods = [hub.add_pod() for _ in range(3)]
            name = podspec.pod().env["H2OCLOUD_K8S_SERVICE_DNS"]
            dns = hub.run(lambda: TinyDNS(name, [ip for _, ip in pods], bind=(hub.address, 53)))
            with dns:
                caches = []
                for i, (ns, ip) in enumerate(pods):
                    p = podspec.pod(pod_ip=ip, pod_name=f"h2ocloud-{i}")
                    cache = tmp_path / f"cache{i}"
                    cache.mkdir()
                    os.chown(cache, 10001, 10001)  # as fsGroup makes the pod's emptyDir writable
                    caches.append(cache)
                    data = tmp_path / f"data{i}"
                    data.mkdir()
                    os.chown(data, 10001, 10001)
                    # The init container: the image's compiled kernels into the writable cache.
                    pi.podman("run", "--rm", *pi.LIMITS, "--read-only", "--network", "none",
                              "-v", f"{cache}:{init['volumeMounts'][0]['mountPath']}", tag, *init["command"])
                    assert _compiled(cache), "the image holds no compiled kernels"
                    cname = f"h2o16-{hub.tag}-{i}"
                    env = [x for k, v in p.env.items() for x in ("-e", f"{k}={v}")]
                    pi.podman("run", "-d", "--name", cname, *pi.LIMITS, "--network", f"ns:/run/netns/{ns}",
                              "--dns", hub.address, "--read-only", "--tmpfs", "/tmp",
                              "-v", f"{data}:{p.env['H2OCLOUD_DATA_DIR']}",
                              "-v", f"{cache}:{p.env['NUMBA_CACHE_DIR']}", *env, tag, *p.command)
                    names.append(cname)
                before = [_compiled(c) for c in caches]
                web = podspec.pod().ports["web"]
                urls = [f"http://{ip}:{web}" for _, ip in pods]

                def logs() -> str:
                    return "\n".join(pi.podman("logs", n, check=False).stdout[-2000:] +
                                     pi.podman("logs", n, check=False).stderr[-2000:] for n in names)

                deadline = time.time() + 120
                while not all(hub.run(probe, u + "/3/Ready")[0] == 200 for u in urls):
                    assert time.time() < deadline, logs()
                    time.sleep(1)
                st = hub.run(ok, urls[0] + "/3/Cloud")
                assert st["cloud_size"] == 3 and st["consensus"]
                assert {n["address"] for n in st["nodes"]} == {f"{ip}:{podspec.pod().ports['grpc']}" for _, ip in pods}
                assert st["resources"]["nthreads"] == 2
                for n in names:
                    assert pi.podman("healthcheck", "run", n, check=False).returncode == 0, logs()
                    assert pi.podman("exec", n, "id", "-u").stdout.strip() == "10001"
                # A job through REST: the kernels load from the cache, none is compiled.
                up = hub.run(ok, urls[0] + "/3/PostFile?filename=img.csv&destination_frame=img.hex", "POST", None,
                             _csv())
                assert hub.run(lambda: ok(f"{urls[0]}/3/Jobs/{up['job']['job_id']}?wait_s=60"))["status"] == "DONE"
                out = hub.run(ok, urls[1] + "/3/ModelBuilders/deeplearning", "POST", {
                    "training_frame": "img.hex", "y": "y", "x": ["a", "b"],
                    "params": {"model_id": "img_model", "hidden": [4], "epochs": 2, "seed": 1}})
                job = hub.run(lambda: ok(f"{urls[1]}/3/Jobs/{out['job']['job_id']}?wait_s=120"))
                assert job["status"] == "DONE", (job, logs())
                assert [_compiled(c) for c in caches] == before, "a kernel was compiled at run time"
    finally:
        for n in names:
            for _ in range(3):  # a container podman could not remove at once is tried again
                pi.podman("rm", "-f", "-t", "5", n, check=False, timeout=120)
                if pi.podman("container", "exists", n, check=False).returncode != 0:
                    break
        pi.podman("rmi", "-f", tag, check=False, timeout=120)
