"""The pod as deploy/k8s describes it, read from the YAML: its container's command, ports,
probes and environment, expanded as the kubelet would, so tests can run it as a real node.

Kubernetes expands `$(VAR)` in a variable's value only when VAR is defined *earlier* in the
container's env list (or is a literal the kubelet knows nothing about, left as written); `$$` is
a literal `$`. A reference to a later variable stays as the literal text, which is how the old
manifest resolved `h2ocloud-peers.$(POD_NAMESPACE)...` and found no peer.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def resources() -> list[tuple[str, dict]]:
    """(file, document) for every manifest the kustomization lists, in its order."""
    out = []
    for name in kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                out.append((name, doc))
    return out


def one(kind: str, name: str | None = None) -> dict:
    docs = [d for _, d in resources() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(docs) == 1, f"expected one {kind} {name or ''}, found {len(docs)}"
    return docs[0]


def expand(value: str, defined: dict[str, str]) -> str:
    """$(VAR) replaced by VAR's value when VAR is in `defined`; $$ -> $; else left as written."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return defined.get(m.group(1), m.group(0))

    return _REF.sub(sub, value)


def quantity(text: str) -> float:
    """A Kubernetes quantity ("2", "500m", "4Gi") as a number."""
    t = str(text)
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
    for u in sorted(units, key=len, reverse=True):
        if t.endswith(u):
            return float(t[: -len(u)]) * units[u]
    return float(t)


@dataclass
class Pod:
    """What the kubelet would run for one pod of the StatefulSet."""

    container: dict
    command: list[str]
    env: dict[str, str]
    ports: dict[str, int]
    unexpanded: dict[str, str] = field(default_factory=dict)  # vars still holding $(...) text


def secrets() -> dict[tuple[str, str], str]:
    out = {}
    for _, d in resources():
        if d["kind"] == "Secret":
            for k, v in (d.get("stringData") or {}).items():
                out[(d["metadata"]["name"], k)] = str(v)
    return out


def pod(namespace: str = "default", pod_ip: str = "10.0.0.1", pod_name: str = "h2ocloud-0",
        sts: dict | None = None) -> Pod:
    """The node container of the StatefulSet's pod (deploy/k8s's, or `sts`), its env resolved in order."""
    sts = sts or one("StatefulSet")
    spec = sts["spec"]["template"]["spec"]
    (container,) = [c for c in spec["containers"] if c["name"] == "node"]
    fields = {"metadata.namespace": namespace, "status.podIP": pod_ip, "metadata.name": pod_name}
    sec = secrets()
    env: dict[str, str] = {}
    for var in container.get("env", []):
        name = var["name"]
        if "value" in var:
            env[name] = expand(str(var["value"]), env)
            continue
        src = var["valueFrom"]
        if "fieldRef" in src:
            env[name] = fields[src["fieldRef"]["fieldPath"]]
        elif "secretKeyRef" in src:
            env[name] = sec[(src["secretKeyRef"]["name"], src["secretKeyRef"]["key"])]
        elif "resourceFieldRef" in src:
            ref = src["resourceFieldRef"]
            (target,) = [c for c in spec["containers"] if c["name"] == ref.get("containerName", container["name"])]
            kind, res = ref["resource"].split(".", 1)
            amount = quantity(target["resources"][kind][res]) / quantity(ref.get("divisor", "1"))
            env[name] = str(math.ceil(amount))  # the kubelet rounds up
        else:
            raise AssertionError(f"env {name}: unknown valueFrom {src}")
    ports = {p["name"]: int(p["containerPort"]) for p in container["ports"]}
    unexpanded = {k: v for k, v in env.items() if _REF.search(v)}
    return Pod(container, list(container["command"]) + list(container.get("args", [])), env, ports, unexpanded)


def node_command(p: Pod) -> list[str]:
    """The pod's command with `h2ocloud` run by this interpreter (the worktree's code)."""
    assert p.command[0] == "h2ocloud", p.command
    return [sys.executable, "-m", "h2ocloud", *p.command[1:]]


def mounts(p: Pod) -> dict[str, str]:
    """mountPath -> volume name of the node container."""
    return {m["mountPath"]: m["name"] for m in p.container.get("volumeMounts", [])}


def local_env(p: Pod, folder: Path) -> dict[str, str]:
    """The environment to run the pod's command here: this process's (less any H2OCLOUD_* and
    NUMBA_* of its own) plus the pod's, with each emptyDir mount path the pod's env names
    replaced by a folder made under `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("H2OCLOUD_", "NUMBA_"))}
    env.update(p.env)
    for path, volume in mounts(p).items():
        for k, v in p.env.items():
            if v == path:
                (folder / volume).mkdir(parents=True, exist_ok=True)
                env[k] = str(folder / volume)
    return env
