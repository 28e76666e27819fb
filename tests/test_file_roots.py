"""--import-root / --export-root confine what a client may have the node read and write, and
--max-upload caps uploads (which land only in the data dir). Real daemons, 1 and 3 nodes."""

from __future__ import annotations

import argparse
import json
import os
import time

import pytest

from h2ocloud.node import config
from tests.cloudfixture import start_cloud
from tests.web.rest import call

CSV = "a,b,y\n" + "".join(f"{i},{(i * 7) % 5},{'yes' if i % 3 else 'no'}\n" for i in range(60))


@pytest.fixture(scope="module")
def rooted(tmp_path_factory):
    base = tmp_path_factory.mktemp("roots")
    imp, exp, outside = base / "imp", base / "exp", base / "outside"
    for d in (imp, exp, outside):
        d.mkdir()
    (imp / "ok.csv").write_text(CSV)
    (outside / "secret.csv").write_text("s\n42\n")
    (imp / "link.csv").symlink_to(outside / "secret.csv")  # a symlink in the root leading out
    (imp / "folder").mkdir()
    (imp / "folder" / "one.csv").write_text(CSV)
    (imp / "folder" / "sneaky.csv").symlink_to(outside / "secret.csv")
    args = ["--import-root", str(imp), "--export-root", str(exp), "--max-upload", "4k"]
    with start_cloud(1, args=args) as cloud:
        yield cloud, imp, exp, outside


def _refused(excinfo, flag: str) -> None:
    msg = str(excinfo.value)
    assert isinstance(excinfo.value, PermissionError) and flag in msg, msg


def test_import_only_under_the_roots(rooted):
    import h2ocloud as h2o

    cloud, imp, exp, outside = rooted
    h2o.init(url=cloud.nodes[0].url)
    assert h2o.import_file(str(imp / "ok.csv")).nrow == 60
    assert h2o.import_file("ok.csv", destination_frame="relative").nrow == 60  # against the first root
    for bad in ("/etc/passwd", str(outside / "secret.csv"), str(imp / ".." / "outside" / "secret.csv"),
                "../outside/secret.csv", str(imp / "link.csv")):
        with pytest.raises(PermissionError) as e:
            h2o.import_file(bad)
        _refused(e, "--import-root")
    with pytest.raises(PermissionError) as e:  # a folder's file that is a symlink out fails the job
        h2o.import_file(str(imp / "folder"))
    _refused(e, "--import-root")
    assert "sneaky.csv" in str(e.value)
    status, body, _ = call(cloud.nodes[0].url + "/3/ImportFiles", "POST", {"path": "/etc/passwd"})
    assert status == 403 and "--import-root" in body["error"], body
    assert cloud.nodes[0].alive()


def test_export_and_save_only_under_the_export_root(rooted):
    import h2ocloud as h2o

    cloud, imp, exp, outside = rooted
    h2o.init(url=cloud.nodes[0].url)
    fr = h2o.import_file(str(imp / "ok.csv"))
    assert h2o.export_file(fr, str(exp / "out.csv")) == str(exp / "out.csv")
    assert (exp / "out.csv").read_text().startswith('"a","b","y"') or (exp / "out.csv").read_text().startswith("a,b,y")
    for bad in (str(outside / "out.csv"), str(exp / ".." / "outside" / "x.csv"), "/tmp/h2ocloud-escape.csv"):
        with pytest.raises(PermissionError) as e:
            h2o.export_file(fr, bad)
        _refused(e, "--export-root")
    assert not (outside / "out.csv").exists()
    fr["y"] = fr["y"].asfactor()
    with pytest.raises(PermissionError) as e:  # refused at the request, before any training
        h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, seed=1, export_checkpoints_dir=str(outside)) \
            .train(x=["a", "b"], y="y", training_frame=fr)
    _refused(e, "--export-root")
    m = h2o.H2ODeepLearningEstimator(hidden=[2], epochs=1, seed=1, export_checkpoints_dir=str(exp / "ck"))
    m.train(x=["a", "b"], y="y", training_frame=fr)
    assert (exp / "ck" / m.model_id).exists()
    saved = h2o.save_model(m, str(exp / "models"))
    assert saved.startswith(str(exp))
    with pytest.raises(PermissionError) as e:
        h2o.save_model(m, str(outside))
    _refused(e, "--export-root")
    # load_model reads: the import roots govern it (exp is not one of them).
    with pytest.raises(PermissionError) as e:
        h2o.load_model(saved)
    _refused(e, "--import-root")
    (imp / "model.bin").write_bytes(open(saved, "rb").read())
    assert h2o.load_model(str(imp / "model.bin")).model_id == m.model_id


def test_uploads_capped_and_spooled_only_in_the_data_dir(rooted, tmp_path):
    import h2ocloud as h2o

    cloud, imp, exp, outside = rooted
    node = cloud.nodes[0]
    h2o.init(url=node.url)
    small = tmp_path / "small.csv"
    small.write_text(CSV[:2000].rsplit("\n", 1)[0] + "\n")
    assert h2o.upload_file(str(small)).nrow > 10
    big = tmp_path / "big.csv"
    big.write_text(CSV * 10)
    with pytest.raises(ValueError, match="--max-upload"):
        h2o.upload_file(str(big))
    status, body, _ = call(node.url + "/3/PostFile?filename=big.csv", "POST", data=big.read_bytes())
    assert status == 413 and "--max-upload" in body["error"], body
    # A client-supplied spool path is no argument of frames.upload: it is refused by name.
    status, body, _ = call(node.url + "/3/PostFile?filename=x.csv&_spooled_path=/etc/hosts", "POST",
                           data=small.read_bytes())
    assert status == 400 and "_spooled_path" in json.dumps(body), body
    assert os.path.exists("/etc/hosts")
    data_dir = node.log_path.with_suffix(".data")
    deadline = time.time() + 60
    while time.time() < deadline and any(p.name.startswith("upload-") for p in data_dir.iterdir()):
        time.sleep(0.2)
    assert not [p.name for p in data_dir.iterdir() if p.name.startswith("upload-")]


def test_roots_on_a_three_node_cloud(tmp_path):
    import h2ocloud as h2o

    imp, exp = tmp_path / "imp", tmp_path / "exp"
    imp.mkdir()
    exp.mkdir()
    (imp / "t.csv").write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(5000)))
    with start_cloud(3, args=["--import-root", str(imp), "--export-root", str(exp)]) as cloud:
        h2o.init(url=cloud.nodes[2].url)
        fr = h2o.import_file(str(imp / "t.csv"), chunk_rows=500)
        assert fr.nrow == 5000
        with pytest.raises(PermissionError, match="--import-root"):
            h2o.import_file(str(tmp_path / ".." / "etc" / "passwd"))
        h2o.export_file(fr, str(exp / "t_out.csv"))
        assert len((exp / "t_out.csv").read_text().splitlines()) == 5001
        with pytest.raises(PermissionError, match="--export-root"):
            h2o.export_file(fr, str(imp / "back.csv"))
        h2o.remove(fr)


def test_roots_from_flags_and_environment(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    parser = argparse.ArgumentParser()
    config.add_node_arguments(parser)
    ns = parser.parse_args(["--import-root", str(a), "--import-root", str(b)])
    assert config.resolve(ns, {})["import_root"] == [str(a), str(b)]
    ns = parser.parse_args([])
    vals = config.resolve(ns, {"H2OCLOUD_EXPORT_ROOT": f"{a}{os.pathsep}{b}", "H2OCLOUD_MAX_UPLOAD": "1m"})
    assert vals["export_root"] == [str(a), str(b)] and vals["max_upload"] == 1 << 20 and vals["import_root"] == []
    with pytest.raises(config.ConfigError, match="H2OCLOUD_IMPORT_ROOT.*not a directory"):
        config.resolve(ns, {"H2OCLOUD_IMPORT_ROOT": str(tmp_path / "nope")})
