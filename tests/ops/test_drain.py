"""SIGTERM during training (issue 16): the stopping node drains. With --checkpoint-on-stop its
job's model so far is stored under its key (a checkpoint training can resume from); without, the
job is cancelled and nothing half-built is stored. Either way it hands its keys to their other
homes first, so the survivors hold every key complete."""

from __future__ import annotations

import signal
import time

import numpy as np
import pandas as pd
import pytest

from tests.cloudfixture import start_cloud
from tests.ops.test_metrics_logs import scrape, total
from tests.web.rest import call, ok

ROWS = 6000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({f"x{i}": rng.normal(size=ROWS) for i in range(8)})
    df["y"] = np.where(df.x0 + df.x1 * df.x2 > 0, "yes", "no")
    return df


def _train(base: str, frame: str, model_id: str) -> dict:
    """Start a long training job on this node (REST: it runs here) and wait until it has trained."""
    out = ok(f"{base}/3/ModelBuilders/deeplearning", "POST", {
        "training_frame": frame, "y": "y", "x": [f"x{i}" for i in range(8)],
        "params": {"model_id": model_id, "hidden": [32, 32], "epochs": 10_000, "seed": 1,
                   "train_samples_per_iteration": 1500, "score_interval": 0}})
    job = out["job"]
    deadline = time.time() + 120
    while True:
        j = ok(f"{base}/3/Jobs/{job['job_id']}")
        assert j["status"] == "RUNNING", j
        if (j.get("info") or {}).get("samples", 0) >= 3000:
            return j
        assert time.time() < deadline, j
        time.sleep(0.3)


def _sigterm(node, limit: float) -> float:
    t0 = time.time()
    node.proc.send_signal(signal.SIGTERM)
    rc = node.proc.wait(limit)
    assert rc == 0, node.log()[-3000:]
    return time.time() - t0


def test_a_draining_node_starts_no_new_job():
    import asyncio

    from h2ocloud.errors import NodeUnavailable
    from h2ocloud.node.tasks.jobs import JobManager

    async def go():
        jobs = JobManager(lambda fn, *a: asyncio.to_thread(fn, *a))
        done = jobs.start("Parse x", lambda j: None, dest="x.hex")
        jobs.closed = True
        with pytest.raises(NodeUnavailable, match="stopping"):
            jobs.start("Parse y", lambda j: None)
        assert await jobs.wait_all(5) == [] and done.status == "DONE"

    asyncio.run(go())


@pytest.mark.slow
def test_sigterm_during_training_checkpoints_or_cancels_and_keeps_every_key():
    import h2ocloud as h2o

    drain = 15
    # One copy of each key (--replication 1): a key the stopping node held is gone unless the
    # node hands it over before it leaves; peers' re-replication cannot bring it back.
    with start_cloud(3, args=["--heartbeat-timeout", "5", "--drain-timeout", str(drain), "--replication", "1"],
                     per_node_args=[["--checkpoint-on-stop"], [], []]) as cloud:
        n0, n1, n2 = cloud.nodes
        h2o.init(url=n2.url)
        df = _frame()
        fr = h2o.H2OFrame(df, destination_frame="drain.hex")
        nchunks = ok(f"{n2.url}/3/Frames/drain.hex")["nchunks"]

        # Node 0 (--checkpoint-on-stop) stops while it drives a training job.
        _train(n0.url, "drain.hex", "drain_ckpt")
        secs0 = _sigterm(n0, drain + 10)
        assert "stored under 'drain_ckpt' as a checkpoint" in n0.log()
        assert "draining: checkpointing 1 running job(s)" in n0.log()
        cloud.wait_formed(2, timeout=20, among=[n1, n2])

        # Node 1 (no flag) stops while it drives another: cancelled, no model stored.
        _train(n1.url, "drain.hex", "drain_cancel")
        secs1 = _sigterm(n1, drain + 10)
        assert "draining: cancelling 1 running job(s)" in n1.log()
        cloud.wait_formed(1, timeout=20, among=[n2])

        # The last node holds every key, complete: the frame's chunks, its rows, the checkpoint.
        m = scrape(n2.url)
        assert total(m, "h2ocloud_store_keys", kind="chunk") == nchunks
        assert total(m, "h2ocloud_replication_deficit") == 0
        back = h2o.get_frame("drain.hex").as_data_frame()
        pd.testing.assert_frame_equal(back[[f"x{i}" for i in range(8)]], df[[f"x{i}" for i in range(8)]],
                                      check_dtype=False)
        assert call(f"{n2.url}/3/Models/drain_cancel")[0] == 404  # nothing half-built is stored
        ckpt = h2o.get_model("drain_ckpt")
        info = ok(f"{n2.url}/3/Models/drain_ckpt")
        assert info["status"] == "cancelled" and 0 < info["epochs_trained"] < 10_000  # the model so far
        pred = ckpt.predict(fr).as_data_frame()  # the stored model is whole: it scores
        assert len(pred) == ROWS and set(pred["predict"]) <= {"yes", "no"}
        # Training resumes from the checkpoint (its epochs are counted in the new total).
        more = h2o.H2ODeepLearningEstimator(checkpoint="drain_ckpt", epochs=info["epochs_trained"] + 1,
                                            train_samples_per_iteration=1500, seed=1)
        more.train(x=[f"x{i}" for i in range(8)], y="y", training_frame=fr)
        resumed = ok(f"{n2.url}/3/Models/{more.model_id}")
        assert resumed["status"] != "cancelled" and resumed["epochs_trained"] >= info["epochs_trained"] + 1 - 1e-6
    assert secs0 < drain + 5 and secs1 < drain + 5  # within the grace period
