"""--data-dir persistence (issue 15): frames, models and the catalogue of named keys survive a
restart of one node and of the whole cloud; a corrupt file on disk is reported and skipped."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import h2ocloud
from h2ocloud.node.store import disk
from h2ocloud.node.store.hashing import chunk_key
from h2ocloud.node.store.local import Store, Value
from tests.cloudfixture import start_cloud
from tests.faults import fingerprint, numeric_csv


def test_store_files_round_trip_and_a_corrupt_one_is_skipped(tmp_path, caplog):
    d = disk.DiskStore(tmp_path)
    s = Store()
    s.attach_disk(d)
    arr = np.arange(10, dtype=np.float32)
    t = time.time() - 100  # stamps are wall-clock times (tombstones older than a week are dropped)
    s.put("a.hex", Value("frame", {"nrows": 10, "names": ["x"]}, [], stamp=t + 1))
    s.put("a.hex/chunk/000000", Value("chunk", {"n": 10}, [arr.tobytes(), b"na"], stamp=t + 2))
    s.put("gone", Value("model", {}, [b"w"], stamp=t + 3))
    s.delete("gone", stamp=t + 4)
    d.flush()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 3 and all(f.endswith(".val") for f in files)  # the removed key: a tombstone

    s2, d2 = Store(), disk.DiskStore(tmp_path)
    assert s2.attach_disk(d2) == 2
    v = s2.get("a.hex/chunk/000000")
    assert v.kind == "chunk" and v.meta == {"n": 10} and v.stamp == t + 2
    assert np.array_equal(np.frombuffer(v.blobs[0], np.float32), arr) and v.blobs[1] == b"na"
    assert s2.get("gone") is None and s2.removed_at("gone") == t + 4
    assert not s2.put("gone", Value("model", {}, [b"old"], stamp=t + 3.5))  # a stale copy stays out
    assert s2.put("gone", Value("model", {}, [b"new"], stamp=t + 5))  # made again after the removal
    assert d2.flush()  # writes go through the disk thread: on disk before the next store reads

    # Truncate the chunk's file: reported by name, set aside, the other keys load.
    path = tmp_path / disk.file_name("a.hex/chunk/000000")
    path.write_bytes(path.read_bytes()[:-7])
    s3 = Store()
    with caplog.at_level("ERROR", logger="h2ocloud.disk"):
        assert s3.attach_disk(disk.DiskStore(tmp_path)) == 2  # a.hex and the new "gone"
    assert s3.get("a.hex") is not None and s3.get("a.hex/chunk/000000") is None
    assert any(path.name in r.message and "checksum" in r.message for r in caplog.records), caplog.text
    assert (tmp_path / (path.name + ".corrupt")).exists()


def _data_dir(node):
    return node.log_path.with_suffix(".data") / "dkv"


@pytest.mark.slow
def test_frames_and_models_survive_restarting_a_node_and_the_whole_cloud(tmp_path):
    csv = numeric_csv(tmp_path)
    x = ["c0", "c1", "c2", "c3"]
    with start_cloud(3, args=["--heartbeat-timeout", "3"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        fr = h2ocloud.import_file(str(csv), destination_frame="keep.hex", chunk_rows=200)
        m = h2ocloud.H2ODeepLearningEstimator(hidden=[5], epochs=2, seed=1, model_id="keep_model")
        m.train(x=x, y="c4", training_frame=fr)
        before = fingerprint("keep.hex")
        assert before[0] == 6000 and before[2] == 30
        pred_before = m.predict(fr).as_data_frame()
        named = {"keep.hex", "keep_model"}
        assert named <= set(h2ocloud.ls())

        # One node of three restarts (same data dir, a new node id).
        cloud.nodes[1].stop()
        cloud.wait_formed(2, among=[cloud.nodes[0], cloud.nodes[2]])
        cloud.nodes[1].start()
        cloud.nodes[1].wait_up()
        cloud.wait_formed(3)
        assert named <= set(h2ocloud.ls()) and fingerprint("keep.hex") == before
        cloud.check_consistent()

        # The whole cloud goes down at once (SIGKILL: no hand-off, each node has only its disk)...
        time.sleep(1.0)  # the store's writer thread has what it was given on disk
        for n in cloud.nodes:
            n.kill()
        # ...and one node's copy of a chunk is damaged meanwhile.
        victim = next(chunk_key("keep.hex", i) for i in range(30)
                      if (_data_dir(cloud.nodes[0]) / disk.file_name(chunk_key("keep.hex", i))).exists())
        bad = _data_dir(cloud.nodes[0]) / disk.file_name(victim)
        bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
        for n in cloud.nodes:
            n.start()
        for n in cloud.nodes:
            n.wait_up()
        cloud.wait_formed(3)
        h2ocloud.init(url=cloud.nodes[2].url)
        assert named <= set(h2ocloud.ls())
        assert fingerprint("keep.hex") == before  # the damaged chunk's other copy answered
        log0 = cloud.nodes[0].log()
        assert f"{bad.name} skipped: checksum mismatch" in log0, log0[-3000:]
        after = h2ocloud.get_model("keep_model").predict(h2ocloud.get_frame("keep.hex")).as_data_frame()
        pd.testing.assert_frame_equal(pred_before, after)
        assert all("stored values" in n.log() for n in cloud.nodes)  # "loaded N stored values (B bytes)"


@pytest.mark.slow
def test_a_key_removed_while_a_node_was_down_stays_removed(tmp_path):
    csv = numeric_csv(tmp_path, rows=1000)
    with start_cloud(3, args=["--heartbeat-timeout", "2"]) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(csv), destination_frame="gone.hex", chunk_rows=100)
        h2ocloud.import_file(str(csv), destination_frame="kept.hex", chunk_rows=100)
        time.sleep(1.0)
        cloud.nodes[2].kill()  # its disk keeps its copies of both frames
        cloud.wait_formed(2, among=cloud.nodes[:2])
        h2ocloud.remove("gone.hex")
        cloud.nodes[2].start()
        cloud.nodes[2].wait_up()
        cloud.wait_formed(3)
        cloud.check_consistent()
        names = set(h2ocloud.ls())
        assert "kept.hex" in names and "gone.hex" not in names
        keys, _ = cloud.peer_call(cloud.nodes[2], "dkv.keys", {"prefix": "gone.hex"})
        assert keys["keys"] == []
