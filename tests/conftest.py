"""Shared fixtures: clouds of real daemons started once per session, data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.cloudfixture import start_cloud

# Zeroconf is on by default and finds every node of the same name on loopback, including the
# nodes of other test runs on this machine: a node a test starts without saying otherwise has
# it off. Tests about zeroconf pass --zeroconf (a flag wins over the environment).
os.environ.setdefault("H2OCLOUD_ZEROCONF", "false")

# Hypothesis (the property tests in tests/fuzz): "ci", the default, is derandomized (the same
# examples every run, so a failure reproduces and the suite is never flaky) with no example
# database and no per-example deadline (a loaded 2-core machine is slow, not wrong); "dev" draws
# new random examples each run and keeps failures in the database to replay them first; "explore"
# is dev with ten times the examples, for a hunt (HYPOTHESIS_PROFILE=explore pytest tests/fuzz).
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.register_profile("dev", deadline=None, print_blob=True, suppress_health_check=_QUIET)
settings.register_profile("explore", parent=settings.get_profile("dev"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(name: str) -> Path:
    """Path of a file in ../shared/data, or skip the test saying why."""
    p = SHARED_DATA / name
    if not p.exists():
        pytest.skip(f"{p} not present (the shared data folder is absent)")
    return p


@pytest.fixture(scope="session")
def cloud1():
    """One real daemon shared by the tests that need a single node."""
    with start_cloud(1) as cloud:
        yield cloud


@pytest.fixture
def h2o(cloud1):
    """The client, connected to the shared single node."""
    import h2ocloud

    h2ocloud.init(url=cloud1.nodes[0].url)
    yield h2ocloud


@pytest.fixture(scope="session")
def cloud3():
    """Three real daemons in one cloud, shared by the multi-node tests that do not kill nodes."""
    with start_cloud(3, args=["--heartbeat-timeout", "3"]) as cloud:
        yield cloud


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the fixtures below read it)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(autouse=True)
def _shared_cloud_aftercare(request):
    """After each test on a shared cloud: a failure keeps its nodes' logs (and prints their
    paths); a pass on the 3-node cloud is followed by the gen_cluster-like check that every node
    agrees on the epoch and every key has its copies."""
    yield
    names = [n for n in ("cloud1", "cloud3") if n in request.fixturenames]
    if not names:
        return
    rep = getattr(request.node, "rep_call", None)
    for name in names:
        cloud = request.getfixturevalue(name)
        if rep is not None and rep.failed:
            cloud.keep_logs = True
            print(cloud.log_paths())
        elif name == "cloud3" and rep is not None and rep.passed:
            cloud.check_consistent()
