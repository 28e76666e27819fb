"""Frames from the client, end to end through a real daemon (issue 3)."""

from __future__ import annotations

import gzip
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from h2ocloud.errors import NotFound


@pytest.fixture
def mixed_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame({
        "a": rng.normal(size=n).round(6),
        "b": rng.integers(0, 200, size=n),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "y": rng.integers(0, 2, size=n),
    })
    df.loc[[3, 7, 11], "a"] = np.nan
    path = tmp_path / "mixed.csv"
    df.to_csv(path, index=False, na_rep="NA")
    return path, df


def test_import_csv_types_shape_and_summary(h2o, mixed_csv):
    path, df = mixed_csv
    fr = h2o.import_file(str(path))
    assert fr.frame_id == "mixed.hex"
    assert fr.shape == (500, 4) and fr.nrows == 500 and fr.ncols == 4
    assert fr.columns == ["a", "b", "color", "y"]
    assert fr.types == {"a": "real", "b": "int", "color": "enum", "y": "int"}
    summ = {c["name"]: c for c in fr.summary(return_data=True)}
    a = df["a"].to_numpy()
    assert summ["a"]["missing"] == 3
    assert summ["a"]["mean"] == pytest.approx(np.nanmean(a), rel=1e-9)
    assert summ["a"]["sigma"] == pytest.approx(np.nanstd(a, ddof=1), rel=1e-9)
    assert summ["a"]["min"] == pytest.approx(np.nanmin(a)) and summ["a"]["max"] == pytest.approx(np.nanmax(a))
    assert summ["color"]["cardinality"] == 3 and summ["color"]["domain"] == ["blue", "green", "red"]
    assert sum(summ["color"]["level_counts"]) == 500
    assert sum(summ["b"]["histogram"]["counts"]) == 500
    head = fr.head(5).as_data_frame()
    assert list(head["color"]) == list(df["color"][:5])
    back = fr.as_data_frame()
    np.testing.assert_allclose(back["a"].to_numpy(), a, equal_nan=True)
    assert list(back["color"].astype(str)) == list(df["color"])


def test_describe_prints_table(h2o, mixed_csv, capsys):
    path, _ = mixed_csv
    h2o.import_file(str(path), destination_frame="described.hex").describe()
    out = capsys.readouterr().out
    assert "Rows: 500" in out and "sigma" in out and "color" in out


@pytest.mark.parametrize("kind", ["gz", "zip", "parquet"])
def test_compressed_and_parquet_equal_plain(h2o, mixed_csv, tmp_path, kind):
    path, df = mixed_csv
    if kind == "gz":
        target = tmp_path / "m.csv.gz"
        target.write_bytes(gzip.compress(path.read_bytes()))
    elif kind == "zip":
        target = tmp_path / "m.csv.zip"
        with zipfile.ZipFile(target, "w") as z:
            z.write(path, "m.csv")
    else:
        target = tmp_path / "m.parquet"
        df.to_parquet(target, index=False)
    fr = h2o.import_file(str(target), destination_frame=f"m_{kind}.hex")
    back = fr.as_data_frame()
    assert fr.shape == (500, 4)
    np.testing.assert_allclose(back["a"].to_numpy(), df["a"].to_numpy(), equal_nan=True)
    np.testing.assert_array_equal(back["b"].to_numpy(), df["b"].to_numpy())
    assert list(back["color"].astype(str)) == list(df["color"])


def test_options_header_sep_names_types_na(h2o, tmp_path):
    p = tmp_path / "opts.txt"
    p.write_text("1;x;?\n2;y;5\n3;?;6\n")
    fr = h2o.import_file(str(p), header=-1, sep=";", na_strings=["?"])
    assert fr.columns == ["C1", "C2", "C3"]
    assert fr.types["C2"] == "enum" and fr.types["C3"] == "int"
    s = {c["name"]: c for c in fr.summary(return_data=True)}
    assert s["C2"]["missing"] == 1 and s["C3"]["missing"] == 1
    fr2 = h2o.import_file(str(p), header=-1, sep=";", col_names=["id", "k", "v"], col_types={"id": "enum"},
                          na_strings=["?"], destination_frame="opts2.hex")
    assert fr2.columns == ["id", "k", "v"] and fr2.types["id"] == "enum" and fr2.levels()[0] == ["1", "2", "3"]


def test_upload_streams_a_large_file(h2o, tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, size=(60_000, 40))
    p = tmp_path / "big.csv"
    np.savetxt(p, arr, fmt="%d", delimiter=",", header=",".join(f"c{i}" for i in range(40)), comments="")
    assert os.path.getsize(p) > 5 << 20  # several pieces of 1 MiB
    fr = h2o.upload_file(str(p))
    assert fr.shape == arr.shape
    back = fr.as_data_frame().to_numpy()
    np.testing.assert_array_equal(back, arr)
    info = h2o.connection().call("frames.get", {"frame_id": fr.frame_id})[0]
    assert info["nchunks"] > 1
    assert info["nbytes"] / arr.size <= 1.05  # 0..255 stored as one byte a cell


def test_h2oframe_from_python_objects(h2o):
    a = h2o.H2OFrame(pd.DataFrame({"x": [1.5, 2.5, None], "s": ["u", "v", "u"]}))
    assert a.types == {"x": "real", "s": "enum"} and a.nrows == 3
    b = h2o.H2OFrame(np.arange(12).reshape(4, 3))
    assert b.columns == ["C1", "C2", "C3"] and b.shape == (4, 3)
    np.testing.assert_array_equal(b.as_data_frame().to_numpy(), np.arange(12).reshape(4, 3))
    c = h2o.H2OFrame({"k": ["a", "b"], "v": [1, 2]})
    assert c.columns == ["k", "v"] and c.levels()[0] == ["a", "b"]


def test_select_asfactor_assign_split_get_ls_remove(h2o, mixed_csv):
    path, df = mixed_csv
    fr = h2o.import_file(str(path), destination_frame="ops.hex")
    one = fr["y"]
    assert one.columns == ["y"] and one.nrows == 500
    two = fr[:, ["a", "color"]]
    assert two.columns == ["a", "color"]
    f = fr["y"].asfactor()
    assert f.types == {"y": "enum"} and f.levels() == [["0", "1"]]
    fr["y"] = f
    assert fr.types["y"] == "enum"
    assert list(fr.as_data_frame()["y"].astype(str)[:10]) == [str(v) for v in df["y"][:10]]
    assert h2o.get_frame("ops.hex").types["y"] == "enum"
    tr, te = fr.split_frame(ratios=[0.75], seed=1)
    assert tr.nrows + te.nrows == 500 and 330 < tr.nrows < 420
    tr2, te2 = fr.split_frame(ratios=[0.75], seed=1)
    assert tr2.nrows == tr.nrows
    pd.testing.assert_frame_equal(tr.as_data_frame(), tr2.as_data_frame())
    assert "ops.hex" in h2o.ls()
    h2o.remove(fr)
    with pytest.raises(NotFound, match="ops.hex"):
        h2o.get_frame("ops.hex")


def test_rollups_by_map_reduce_equal_parse_stats(h2o, mixed_csv):
    path, _ = mixed_csv
    fr = h2o.import_file(str(path), destination_frame="roll.hex")
    mr = h2o.connection().call("frames.rollups", {"frame_id": fr.frame_id})[0]
    hdr = h2o.connection().call("frames.get", {"frame_id": fr.frame_id})[0]
    for a, b in zip(mr["stats"], hdr["stats"]):
        for k in ("min", "max", "missing"):
            assert a[k] == b[k]
        if a["mean"] is not None:
            assert a["mean"] == pytest.approx(b["mean"], rel=1e-12)


BAD_FILES = {
    "empty": (b"", "empty"),
    "ragged": (b"a,b,c\n1,2,3\n4,5\n6,7,8\n", "line 3"),
    "binary": (bytes(range(256)) * 20, "text"),
    "header_only": (b"a,b,c\n", "no data"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_give_clear_errors_and_node_keeps_serving(h2o, tmp_path, case):
    data, expect = BAD_FILES[case]
    p = tmp_path / f"{case}.csv"
    p.write_bytes(data)
    with pytest.raises(ValueError) as ei:
        h2o.import_file(str(p))
    msg = str(ei.value)
    assert str(p) in msg or p.name in msg
    assert expect.lower() in msg.lower()
    assert h2o.cluster().cloud_size == 1


def test_missing_path_directory_unknown_frame_and_column(h2o, tmp_path, mixed_csv):
    with pytest.raises((ValueError, FileNotFoundError), match="no such file"):
        h2o.import_file(str(tmp_path / "nope.csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no files in folder"):  # a folder is its files (none here)
        h2o.import_file(str(tmp_path / "empty"))
    with pytest.raises(NotFound, match="no frame 'unknown.hex'"):
        h2o.get_frame("unknown.hex")
    fr = h2o.import_file(str(mixed_csv[0]), destination_frame="cols.hex")
    with pytest.raises(ValueError, match="'zzz' does not exist"):
        fr["zzz"]
    with pytest.raises(ValueError, match="header"):
        h2o.import_file(str(mixed_csv[0]), header=5)
