"""deploy/k8s (issue 16): a kustomization of plain manifests that validate offline against the
Kubernetes schemas, agree with each other, and whose pod runs as a real node."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import time

import kubernetes_validate
import pytest

from h2ocloud.node.config import DEFAULT_GRPC_PORT, DEFAULT_WEB_PORT, KNOWN_ENV
from tests.cloudfixture import free_ports
from tests.dnsserver import TinyDNS
from tests.ops import podspec
from tests.ops.podspec import K8S
from tests.web.rest import probe

K8S_VERSION = "1.30.0"  # a release current clusters run; the schemas ship with kubernetes-validate


def test_the_kustomization_lists_every_manifest_and_patches_nothing():
    k = podspec.kustomization()
    assert k["kind"] == "Kustomization"
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(k["resources"]) == on_disk
    assert not {"patches", "patchesStrategicMerge", "patchesJson6902"} & set(k)
    kinds = sorted(d["kind"] for _, d in podspec.resources())
    assert kinds == ["NetworkPolicy", "PodDisruptionBudget", "Secret", "Service", "Service", "StatefulSet"]


@pytest.mark.parametrize("name, doc", podspec.resources(), ids=lambda x: x if isinstance(x, str) else "")
def test_each_manifest_validates_against_the_kubernetes_schema(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validation_can_fail():
    sts = copy.deepcopy(podspec.one("StatefulSet"))
    sts["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, K8S_VERSION, strict=True)


def test_the_manifests_agree_with_each_other():
    sts = podspec.one("StatefulSet")
    peers = podspec.one("Service", "h2ocloud-peers")
    svc = podspec.one("Service", "h2ocloud")
    pdb = podspec.one("PodDisruptionBudget")
    netpol = podspec.one("NetworkPolicy")
    tmpl = sts["spec"]["template"]
    labels = tmpl["metadata"]["labels"]
    p = podspec.pod()
    # Discovery: the headless Service the StatefulSet names, published before pods are ready.
    assert sts["spec"]["serviceName"] == peers["metadata"]["name"]
    assert peers["spec"]["clusterIP"] == "None" and peers["spec"]["publishNotReadyAddresses"] is True
    assert p.env["H2OCLOUD_K8S_SERVICE_DNS"] == "h2ocloud-peers.default.svc.cluster.local"
    for sel in (peers["spec"]["selector"], svc["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"],
                netpol["spec"]["podSelector"]["matchLabels"], sts["spec"]["selector"]["matchLabels"]):
        assert sel.items() <= labels.items()
    # Ports: the Services and the policy name the container's ports, which are the node's.
    assert p.ports == {"web": DEFAULT_WEB_PORT, "grpc": DEFAULT_GRPC_PORT}
    assert "H2OCLOUD_PORT" not in p.env and "H2OCLOUD_GRPC_PORT" not in p.env
    for s in (peers, svc):
        for port in s["spec"]["ports"]:
            assert port["targetPort"] in p.ports and port["port"] == p.ports[port["targetPort"]]
    grpc_rule, web_rule = netpol["spec"]["ingress"]
    assert [x["port"] for x in grpc_rule["ports"]] == [p.ports["grpc"]]
    assert {"podSelector": {"matchLabels": labels}} in grpc_rule["from"]  # peers: the cloud's own pods
    assert [x["port"] for x in web_rule["ports"]] == [p.ports["web"]]
    # Probes: liveness and startup on the node answering, readiness on the formed cloud.
    c = p.container
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/3/Ready"
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert c[kind]["httpGet"]["port"] in p.ports
    assert int(p.env["H2OCLOUD_CLOUD_SIZE"]) == sts["spec"]["replicas"]
    # Resources: requests and limits, the CPU request passed to the node.
    assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
    assert p.env["H2OCLOUD_NTHREADS"] == "2"
    # Security: non-root, read-only root, writable emptyDirs for the data dir, the Numba cache, /tmp.
    pod_sc, sc = tmpl["spec"]["securityContext"], c["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] != 0
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    volumes = {v["name"]: v for v in tmpl["spec"]["volumes"]}
    mounts = podspec.mounts(p)
    for path_var in ("H2OCLOUD_DATA_DIR", "NUMBA_CACHE_DIR"):
        assert "emptyDir" in volumes[mounts[p.env[path_var]]]
    assert "emptyDir" in volumes[mounts["/tmp"]]
    (init,) = tmpl["spec"]["initContainers"]
    assert {m["name"] for m in init["volumeMounts"]} == {mounts[p.env["NUMBA_CACHE_DIR"]]}
    # Spread: one node per machine; one voluntary disruption at a time.
    anti = tmpl["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    assert pdb["spec"]["maxUnavailable"] == 1
    # The secret the node reads is the Secret shipped here.
    ref = [e for e in c["env"] if e["name"] == "H2OCLOUD_SECRET"][0]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) in podspec.secrets()


def test_a_variable_used_before_it_is_defined_is_caught():
    """The old manifest's bug: $(POD_NAMESPACE) referenced above its definition stays literal."""
    sts = copy.deepcopy(podspec.one("StatefulSet"))
    env = sts["spec"]["template"]["spec"]["containers"][0]["env"]
    ns = [e for e in env if e["name"] == "POD_NAMESPACE"][0]
    env.remove(ns)
    env.append(ns)  # now defined after H2OCLOUD_K8S_SERVICE_DNS uses it
    bad = podspec.pod(sts=sts)
    assert bad.unexpanded == {"H2OCLOUD_K8S_SERVICE_DNS": "h2ocloud-peers.$(POD_NAMESPACE).svc.cluster.local"}
    assert podspec.pod().unexpanded == {}  # the shipped order expands everything


def test_every_h2ocloud_variable_the_pod_sets_is_one_the_node_reads():
    p = podspec.pod()
    unknown = sorted(k for k in p.env if k.startswith("H2OCLOUD_") and k not in KNOWN_ENV)
    assert not unknown, f"the pod sets variables the node does not know: {unknown}"


def test_the_pod_runs_as_a_real_node(tmp_path):
    """The container's command with the pod's environment (as the kubelet expands it) starts a
    node that the pod's probes find live and, alone, not ready (it waits for its cloud of 3); it
    asks DNS for the headless Service's name; SIGTERM stops it within the grace period.
    Changed for this machine only: the ports (free ones, as 54321/54322 may be taken), the bind
    address (loopback), the DNS server (the test's) and the emptyDir paths (temporary folders)."""
    p = podspec.pod(pod_ip="127.0.0.1")
    assert not p.unexpanded
    web, grpc_port = free_ports(2)
    with TinyDNS(p.env["H2OCLOUD_K8S_SERVICE_DNS"], ["127.0.0.1"]) as dns:
        env = podspec.local_env(p, tmp_path)  # emptyDirs -> temporary folders
        env.update(H2OCLOUD_PORT=str(web), H2OCLOUD_GRPC_PORT=str(grpc_port), H2OCLOUD_IP="127.0.0.1",
                   H2OCLOUD_K8S_NAMESERVER=dns.address)
        log_path = tmp_path / "pod.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(podspec.node_command(p), env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        try:
            c = p.container
            base = f"http://127.0.0.1:{web}"
            deadline = time.time() + c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    status, body = probe(base + c["startupProbe"]["httpGet"]["path"])
                    if status == 200:
                        break
                except OSError:
                    pass
                assert time.time() < deadline, log_path.read_text()
                time.sleep(0.2)
            assert probe(base + c["livenessProbe"]["httpGet"]["path"])[0] == 200
            status, body = probe(base + c["readinessProbe"]["httpGet"]["path"])
            assert status == 503 and "want 3" in body["error"]  # one pod of three: not ready
            st = probe(base + "/3/Cloud")[1]
            assert st["cloud_name"] == p.env["H2OCLOUD_NAME"] and st["zeroconf"] is False
            assert st["resources"]["nthreads"] == 2 and st["resources"]["nthreads_from"] == "--nthreads"
            assert st["data_dir"] == env["H2OCLOUD_DATA_DIR"]
            deadline = time.time() + 20
            while p.env["H2OCLOUD_K8S_SERVICE_DNS"] not in dns.asked:
                assert time.time() < deadline, f"the node never asked for the Service name: {dns.asked}"
                time.sleep(0.2)
            assert set(dns.asked) == {p.env["H2OCLOUD_K8S_SERVICE_DNS"]}
        finally:
            t0 = time.time()
            proc.send_signal(signal.SIGTERM)
            grace = podspec.one("StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            try:
                rc = proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
    assert rc == 0 and time.time() - t0 < grace
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.strip()]  # H2OCLOUD_LOG_FORMAT=json
    assert not [x for x in lines if "not an h2ocloud setting" in x["message"]]
    assert any("stopped" in x["message"] for x in lines)
