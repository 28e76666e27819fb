"""The image for the podman test, built from a base bootstrapped here, without a registry.

The base is Debian bookworm made by mmdebstrap (Debian's packages: python3, pip) with this
machine's installed copies of h2ocloud's dependencies added (their files, as each
distribution's RECORD lists them), imported with `podman import`: deploy/docker/Dockerfile
then installs h2ocloud on it with `--no-index`, so no registry is asked for an image or a wheel.
The base is kept under a tag naming what went into it, so later runs reuse it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
SUITE = "bookworm"  # its python3 is 3.11
SUITE_PYTHON = (3, 11)
BASE_REPO = "localhost/h2ocloud-test-base"


# This machine's sandbox: crun refuses its hybrid cgroup layout (runc accepts it), and containers
# may only lower resource limits, never set podman's defaults (it lacks CAP_SYS_RESOURCE).
RUNTIME = ["--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=8192:8192"]


def podman(*args: str, timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(["podman", *RUNTIME, *args], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode:
        raise RuntimeError(f"podman {' '.join(args[:3])}...: {r.stderr.strip()[-2000:]}")
    return r


def unavailable() -> str | None:
    """Why the image test cannot run here, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (Debian's podman package; .ci/run installs it)"
    if shutil.which("runc") is None:
        return "runc is not installed (Debian's runc package; .ci/run installs it)"
    if shutil.which("mmdebstrap") is None:
        return "mmdebstrap is not installed (needed to bootstrap a base image without a registry)"
    if sys.version_info[:2] != SUITE_PYTHON:
        return (f"this Python is {sys.version_info[0]}.{sys.version_info[1]}; the base's ({SUITE}) is "
                f"{SUITE_PYTHON[0]}.{SUITE_PYTHON[1]}, so this machine's packages cannot be copied into it")
    r = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=60)
    if r.returncode:
        return f"podman cannot run here: {r.stderr.strip()[-300:]}"
    return None


def dependency_closure() -> list[md.Distribution]:
    """The installed distributions h2ocloud needs (pyproject's dependencies, recursively), and
    the build backend the Dockerfile's `pip install --no-build-isolation` uses."""
    import tomllib  # Python 3.11+, as unavailable() requires

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    todo = [Requirement(r) for r in meta["project"]["dependencies"]]
    seen: dict[str, md.Distribution] = {}
    for r in meta["build-system"]["requires"]:  # wheel may be setuptools' own (>= 70)
        try:
            md.distribution(Requirement(r).name)
            todo.append(Requirement(r))
        except md.PackageNotFoundError:
            pass
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = req.name.lower().replace("_", "-")
        if key in seen:
            continue
        dist = md.distribution(req.name)
        seen[key] = dist
        todo += [Requirement(r) for r in (dist.requires or [])]
    return sorted(seen.values(), key=lambda d: d.metadata["Name"].lower())


def base_tag(dists: list[md.Distribution]) -> str:
    h = hashlib.sha256(SUITE.encode())
    for d in dists:
        h.update(f"{d.metadata['Name']}=={d.version};".encode())
    return f"{BASE_REPO}:{h.hexdigest()[:16]}"


def _copy_distribution(dist: md.Distribution, site: Path) -> None:
    for f in dist.files or []:
        rel = Path(str(f))
        if rel.parts[0] == ".." or "__pycache__" in rel.parts or rel.suffix == ".pyc":
            continue  # scripts outside site-packages, and bytecode (compiled again in the image)
        src = Path(dist.locate_file(f))
        if src.is_file():
            dst = site / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def ensure_base(log) -> str:
    """The base image's tag, bootstrapping it when it is not there yet."""
    dists = dependency_closure()
    tag = base_tag(dists)
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    with tempfile.TemporaryDirectory(prefix="h2ocloud-base-") as d:
        root = Path(d) / "root"
        r = subprocess.run(["mmdebstrap", "--variant=minbase", "--include=python3,python3-pip", "--quiet",
                            SUITE, str(root)], capture_output=True, text=True, timeout=1200)
        if r.returncode:
            raise RuntimeError(f"mmdebstrap failed: {r.stderr[-2000:]}")
        site = root / "usr/local/lib/python3.11/dist-packages"
        for dist in dists:
            _copy_distribution(dist, site)
        log(f"base: {len(dists)} distributions copied: {', '.join(d.metadata['Name'] for d in dists)}")
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["podman", "import", "--change", "CMD [\"/bin/sh\"]", "-", tag], stdin=tar.stdout,
                             capture_output=True, text=True, timeout=600)
        tar.wait()
        if imp.returncode:
            raise RuntimeError(f"podman import failed: {imp.stderr[-2000:]}")
    return tag


def build(base: str, tag: str) -> str:
    """Build deploy/docker/Dockerfile on the base, offline; return the build's output."""
    r = podman("build", *LIMITS, "--format", "docker", "--network", "none", "-f", str(REPO / "deploy/docker/Dockerfile"),
               "--build-arg", f"BASE={base}",
               "--build-arg", "PIP_OPTIONS=--no-index --no-build-isolation --no-deps --break-system-packages",
               "-t", tag, str(REPO), timeout=1800)
    return r.stdout + r.stderr
