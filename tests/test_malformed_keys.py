"""A malformed value planted in the DKV (a frame header that does not decode, with a chunk under
it) is listed with its error instead of breaking GET /3/Frames for everyone, and can be removed,
chunks included. Real daemons on a 3-node cloud without a secret (where anyone may plant)."""

from __future__ import annotations

from tests.cloudfixture import start_cloud
from tests.web.rest import call


def test_a_planted_malformed_frame_is_listed_and_removable():
    import h2ocloud as h2o

    with start_cloud(3) as cloud:
        h2o.init(url=cloud.nodes[0].url)
        good = h2o.H2OFrame({"a": [1, 2, 3]})
        planter = cloud.nodes[2]
        cloud.peer_call(planter, "dkv.store", {"key": "evil.hex", "kind": "frame", "meta": {"nrows": "lots"}})
        cloud.peer_call(planter, "dkv.store", {"key": "evil.hex/chunk/000000", "kind": "chunk", "meta": {}},
                        blobs=[b"junk"])
        for node in cloud.nodes:
            status, body, _ = call(node.url + "/3/Frames")
            assert status == 200, body
            by_id = {f["frame_id"]: f for f in body["frames"]}
            assert by_id[good.frame_id]["nrows"] == 3
            if "evil.hex" in by_id:  # held by the planter (and listed by every node that reaches it)
                assert "malformed frame header" in by_id["evil.hex"]["error"]
        status, body, _ = call(cloud.nodes[0].url + "/3/Frames/evil.hex", "DELETE")
        assert status == 200 and body["removed"] == "evil.hex", body
        for node in cloud.nodes:
            keys, _ = cloud.peer_call(node, "dkv.keys", {"prefix": "evil.hex"})
            assert keys["keys"] == [], keys
        assert good.frame_id in {f["frame_id"] for f in call(cloud.nodes[1].url + "/3/Frames")[1]["frames"]}
        h2o.remove(good)


def test_a_failed_parse_leaves_no_chunks(tmp_path):
    import pytest

    import h2ocloud as h2o

    with start_cloud(3) as cloud:
        h2o.init(url=cloud.nodes[1].url)
        p = tmp_path / "late_fault.csv"  # > one 4 MB block: chunks are stored before the bad row is read
        rows = b"".join(f"{i},{i % 9}\n".encode() for i in range(700_000))
        p.write_bytes(b"a,b\n" + rows + b"1,2,3\n")
        with pytest.raises(ValueError, match="late_fault.csv"):
            h2o.upload_file(str(p), destination_frame="late_fault.hex", chunk_rows=20_000)
        for node in cloud.nodes:
            keys, _ = cloud.peer_call(node, "dkv.keys", {"prefix": "late_fault.hex"})
            assert keys["keys"] == [], (node.web_port, keys["keys"][:5])
