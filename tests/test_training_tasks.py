"""Training as map/reduce tasks on real daemons (issue 17): a dead node's chunks are trained on by
their replicas with no row lost, and every node's part of a job is released when the job ends,
fails, or its driver dies."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import h2ocloud
from h2ocloud.client.session import connection
from h2ocloud.errors import H2OCloudError
from tests.cloudfixture import start_cloud
from tests.test_distributed import X, digits_frames


def _wait(cond, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _running_job_progress() -> float:
    jobs = [j for j in connection().call("jobs.list", {})[0]["jobs"] if j["status"] == "RUNNING"]
    return max((j["progress"] for j in jobs), default=0.0)


def _states(cloud) -> dict[int, list[str]]:
    """Each live node's training states (job keys)."""
    return {i: n.status()["training_states"] for i, n in enumerate(cloud.nodes) if n.alive()}


def test_split_samples_adds_up_and_follows_the_rows():
    from h2ocloud.node.tasks.distributed import split_samples

    s = split_samples(1000, {"a": 1, "b": 1, "c": 1})
    assert sum(s.values()) == 1000 and max(s.values()) - min(s.values()) <= 1
    s = split_samples(999, {"a": 300, "b": 600, "c": 0})
    assert s == {"a": 333, "b": 666, "c": 0}


@pytest.mark.slow
def test_sigkill_mid_training_the_replicas_train_the_dead_nodes_chunks():
    """replicate_training_data=False: each node trains on the chunks it homes. A node SIGKILLed
    mid-job has its chunks trained on by their replicas from then on: every iteration still
    trains one full epoch over every chunk, on the two survivors."""
    with start_cloud(3, args=["--heartbeat-timeout", "2"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        train, test = digits_frames("kill17")
        n = train.nrows
        outcome: dict = {}

        def run():
            try:
                m = h2ocloud.H2ODeepLearningEstimator(
                    hidden=[64], epochs=40, seed=1, classification_stop=-1, train_samples_per_iteration=-1,
                    replicate_training_data=False, model_id="replica_survivor", score_interval=0.5)
                m.train(x=X, y="label", training_frame=train, validation_frame=test)
                outcome["model"] = m
            except H2OCloudError as e:
                outcome["error"] = e

        t = threading.Thread(target=run)
        t.start()
        try:
            _wait(lambda: _running_job_progress() >= 0.1, 120, "training to reach 10%")
            assert _states(cloud)[2], "the node to kill holds no part of the job"
            dead = cloud.nodes[2].status()["node_id"]
            cloud.nodes[2].kill()
        finally:
            t.join(300)
        assert not t.is_alive()
        assert "model" in outcome, outcome.get("error")
        s = outcome["model"].summary_json()
        nodes, samples, chunks = s["training_nodes"], s["iteration_samples"], s["iteration_chunks"]
        assert len(nodes[0]) == 3 and len(nodes[-1]) == 2 and dead not in nodes[-1]
        after = [i for i, nd in enumerate(nodes) if len(nd) == 2]
        assert after, nodes
        # No row lost: every iteration (the one the node died in, and every later one) trains
        # exactly one epoch, over every chunk of the frame.
        assert samples == [n] * 40, samples
        assert all(c == s["training_chunks"] for c in chunks), chunks
        assert s["epochs_trained"] == pytest.approx(40)
        assert outcome["model"].classification_error(valid=True) < 0.1
        # The job's parts are gone from the survivors.
        _wait(lambda: not any(_states(cloud).values()), 30, "training states to be released")


@pytest.mark.slow
def test_training_state_is_released_when_the_job_ends_fails_or_is_cancelled():
    with start_cloud(3) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        train, test = digits_frames("rel17")
        m = h2ocloud.H2ODeepLearningEstimator(hidden=[8], epochs=1, seed=1, replicate_training_data=False)
        m.train(x=X, y="label", training_frame=train)
        assert _states(cloud) == {0: [], 1: [], 2: []}
        # A failure after every node has set the job up: the validation frame's column is
        # categorical where training's was numeric, which the nodes find when they score it.
        test["p20"] = test["p20"].asfactor()
        with pytest.raises(Exception, match="p20"):
            h2ocloud.H2ODeepLearningEstimator(hidden=[8], epochs=1, seed=1).train(
                x=X, y="label", training_frame=train, validation_frame=test)
        assert _states(cloud) == {0: [], 1: [], 2: []}
        # Cancelled mid-training.
        job = connection().call("models.train", {"x": X, "y": "label", "training_frame": train.frame_id,
                                                 "params": {"hidden": [64], "epochs": 500, "seed": 1}})[0]
        job_id = job["job"]["job_id"]
        _wait(lambda: any(_states(cloud).values()), 60, "the job to set up its nodes")
        connection().call("jobs.cancel", {"job_id": job_id})
        _wait(lambda: not any(_states(cloud).values()), 60, "training states to be released after cancel")


@pytest.mark.slow
def test_training_state_is_released_when_the_driver_dies():
    with start_cloud(3, args=["--heartbeat-timeout", "2"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        train, _ = digits_frames("drv17")
        connection().call("models.train", {"x": X, "y": "label", "training_frame": train.frame_id,
                                           "params": {"hidden": [64], "epochs": 500, "seed": 1,
                                                      "replicate_training_data": False}})
        keys = _wait(lambda: [_states(cloud)[i] for i in (1, 2) if _states(cloud)[i]], 60,
                     "the job to set up the other nodes")
        assert keys
        cloud.nodes[0].kill()  # the driver
        _wait(lambda: not any(_states(cloud).values()), 60, "the dead driver's states to be released")


def test_split_samples_handles_no_rows():
    from h2ocloud.node.tasks.distributed import split_samples

    assert sum(split_samples(7, {"a": 0, "b": 0}).values()) == 7
    assert split_samples(5, {}) == {}
    assert np.isscalar(split_samples(5, {"a": 2})["a"])


def test_a_state_goes_when_its_driver_stays_away_past_the_grace_period():
    import asyncio
    import types

    from h2ocloud.errors import NodeUnavailable
    from h2ocloud.node.tasks.training_state import TrainingStates

    async def main():
        reg = TrainingStates(grace_s=0.3)
        reg.put(types.SimpleNamespace(key="j1", driver="A"))
        reg.put(types.SimpleNamespace(key="j2", driver="B"))
        reg.on_membership_change(("A", "B", "C"), ("B", "C"))  # A missed its heartbeats...
        reg.on_membership_change(("B", "C"), ("A", "B", "C"))  # ...and is back within the grace
        await asyncio.sleep(0.6)
        assert reg.keys() == ["j1", "j2"]
        reg.on_membership_change(("A", "B", "C"), ("A", "C"))  # B is gone for good
        assert reg.keys() == ["j1", "j2"]
        await asyncio.sleep(0.6)
        assert reg.keys() == ["j1"]
        with pytest.raises(NodeUnavailable, match="j2"):
            reg.get("j2", "C")
        assert reg.release("j1") and not reg.release("j1") and reg.keys() == []

    asyncio.run(main())
