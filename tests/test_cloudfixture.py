"""The fixture's after-test check (as Dask's gen_cluster checks its cluster): it finds a key that
lacks a copy, and passes once the cloud has repaired it; a failing test keeps its logs."""

from __future__ import annotations

import pytest

from tests.cloudfixture import start_cloud


def test_the_consistency_check_sees_a_missing_copy(tmp_path):
    import h2ocloud

    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(200)))
    with start_cloud(2) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        h2ocloud.import_file(str(csv), destination_frame="fixture.hex")
        cloud.check_consistent()
        keys, _ = cloud.peer_call(cloud.nodes[1], "dkv.keys", {"prefix": "fixture.hex"})
        cloud.peer_call(cloud.nodes[1], "dkv.delete", {"keys": keys["keys"][:1]})
        why = cloud.inconsistency()
        assert why is not None and "lack copies" in why, why
        for node in cloud.nodes:  # each node's re-replication puts back the copies it homes
            cloud.peer_call(node, "dkv.rebalance", {})
        cloud.check_consistent(timeout=60)


def test_a_failing_test_keeps_its_nodes_logs(capfd):
    with pytest.raises(RuntimeError), start_cloud(2) as cloud:
        raise RuntimeError("a test failed")
    assert all(n.log_path.exists() for n in cloud.nodes)
    err = capfd.readouterr().err
    assert "node logs kept:" in err and str(cloud.nodes[0].log_path) in err
    import shutil

    shutil.rmtree(cloud.workdir, ignore_errors=True)
