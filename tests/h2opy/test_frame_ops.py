"""h2o-py's frame operations computed in the cloud, compared with pandas on the same data (issue 12).

The frame is uploaded in chunks of 37 rows, so on the 3-node cloud every operation runs over
chunks spread across the nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

N = 400


@pytest.fixture
def data(h2o, tmp_path):
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "x": rng.normal(size=N).round(6),
        "k": rng.integers(0, 6, N),
        "g": rng.choice(["a", "b", "c"], N),
        "s": rng.choice(["  Foo", "bar ", "Baz"], N),
    })
    df.loc[[3, 50, 77, 300], "x"] = np.nan
    path = tmp_path / "ops.csv"
    df.to_csv(path, index=False, na_rep="NA")
    fr = h2o.upload_file(str(path), chunk_rows=37, col_types={"s": "string"})
    assert fr._header["nchunks"] > 5
    return fr, df


def test_row_filters_and_slices(h2o, data):
    fr, df = data
    m = fr[(fr["x"] > 0.2) & ((fr["g"] == "a") | (fr["k"] >= 4)), ["x", "g", "k"]].as_data_frame()
    want = df[(df.x > 0.2) & ((df.g == "a") | (df.k >= 4))][["x", "g", "k"]]
    np.testing.assert_allclose(m["x"].to_numpy(), want["x"].to_numpy())
    assert list(m["g"].astype(str)) == list(want["g"])
    assert fr[~fr["x"].isna()].nrows == df.x.notna().sum()
    assert fr[fr["x"].isna()].nrows == 4
    assert fr[fr["g"] != "b"].nrows == (df.g != "b").sum()
    rows = fr[[1, 5, 9, 399], :].as_data_frame()
    np.testing.assert_array_equal(rows["k"].to_numpy(), df.k.iloc[[1, 5, 9, 399]].to_numpy())
    sl = fr[30:80, :]
    assert sl.shape == (50, 4)
    np.testing.assert_array_equal(sl.as_data_frame()["k"].to_numpy(), df.k.iloc[30:80].to_numpy())
    head, tail = fr.head(6), fr.tail(3)
    assert isinstance(head, h2o.H2OFrame) and head.nrows == 6 and tail.nrows == 3
    np.testing.assert_array_equal(tail.as_data_frame()["k"].to_numpy(), df.k.iloc[-3:].to_numpy())
    # a filtered factor keeps every level of its parent
    only_a = fr[fr["g"] == "a"]
    assert only_a.levels()[2] == ["a", "b", "c"]
    assert "H2OFrame" in str(head) and "<table" in head._repr_html_()
    with pytest.raises(ValueError, match="out of range"):
        fr[[400], :]


def test_arithmetic_and_functions(h2o, data):
    fr, df = data
    got = ((fr["x"] * 2 + fr["k"]) / 4 - 1).as_data_frame()["x"].to_numpy()
    np.testing.assert_allclose(got, ((df.x * 2 + df.k) / 4 - 1).to_numpy(), equal_nan=True)
    np.testing.assert_allclose((fr["k"] // 4).as_data_frame()["k"], df.k // 4)
    np.testing.assert_allclose((fr["k"] % 4).as_data_frame()["k"], df.k % 4)
    np.testing.assert_allclose((2 ** fr["k"]).as_data_frame()["k"], 2.0 ** df.k)
    np.testing.assert_allclose(fr["x"].abs().as_data_frame()["x"], df.x.abs(), equal_nan=True)
    np.testing.assert_allclose((fr["k"] + 1).log().as_data_frame()["k"], np.log(df.k + 1))
    np.testing.assert_allclose(fr["x"].round(2).as_data_frame()["x"], df.x.round(2), equal_nan=True)
    ie = (fr["x"] > 0).ifelse(1, -1).as_data_frame()["x"].to_numpy()
    np.testing.assert_allclose(ie, np.where(df.x.isna(), np.nan, np.where(df.x > 0, 1, -1)))
    cut = fr["x"].cut([-10, -1, 0, 1, 10], labels=["vlow", "low", "high", "vhigh"]).as_data_frame()["x"]
    want = pd.cut(df.x, [-10, -1, 0, 1, 10], labels=["vlow", "low", "high", "vhigh"])
    assert list(cut.astype(str)) == list(want.astype(str).replace("nan", "nan"))
    up = fr["s"].trim().toupper().as_data_frame()["s"]
    assert list(up) == list(df.s.str.strip().str.upper())
    low = fr["g"].toupper().gsub("A", "Z")
    assert low.levels() == [["B", "C", "Z"]]
    assert list(low.as_data_frame()["g"].astype(str)) == list(df.g.str.upper().str.replace("A", "Z"))
    assert fr["g"].ascharacter().types == {"g": "string"}
    assert fr["k"].asfactor().asnumeric().as_data_frame()["k"].tolist() == df.k.tolist()


def test_time_parts(h2o):
    when = pd.to_datetime(["2007-11-06 10:22:33", "2016-02-29 00:00:00", "1999-12-31 23:59:59"])
    ms = when.values.astype("datetime64[ms]").astype("int64").astype(float)  # H2O stores time as ms
    fr = h2o.H2OFrame(pd.DataFrame({"t": ms}))
    t = fr["t"]
    assert t.year().as_data_frame()["t"].tolist() == list(when.year)
    assert t.month().as_data_frame()["t"].tolist() == list(when.month)
    assert t.day().as_data_frame()["t"].tolist() == list(when.day)
    assert t.hour().as_data_frame()["t"].tolist() == list(when.hour)
    assert t.minute().as_data_frame()["t"].tolist() == list(when.minute)
    assert t.dayOfWeek().as_data_frame()["t"].tolist() == list(when.day_of_week)
    assert t.week().as_data_frame()["t"].tolist() == list(when.isocalendar().week)


def test_reductions(h2o, data):
    fr, df = data
    x = df.x
    mean = fr[["x", "k"]].mean()
    assert mean == pytest.approx([x.mean(), df.k.mean()])
    assert fr[["x", "k"]].mean(skipna=False)[0] != fr[["x", "k"]].mean(skipna=False)[0]  # NaN
    assert fr["x"].sd(na_rm=True) == pytest.approx([x.std()])
    assert fr["k"].sum() == pytest.approx([df.k.sum()])
    assert fr.nacnt() == [4, 0, 0, 0]
    assert fr["x"].min() == pytest.approx(x.min()) and fr["x"].max() == pytest.approx(x.max())
    assert fr["x"].median(na_rm=True) == pytest.approx([x.median()])
    q = fr["x"].quantile([0.01, 0.1, 0.333, 0.9]).as_data_frame()
    np.testing.assert_allclose(q["xQuantiles"], x.quantile([0.01, 0.1, 0.333, 0.9]).to_numpy(), rtol=1e-12)
    assert fr["x"].var(na_rm=True) == pytest.approx(x.var())
    assert fr["x"].cor(fr["k"], use="complete.obs") == pytest.approx(x.corr(df.k))
    uniq = fr["k"].unique().as_data_frame()["k"].tolist()
    assert uniq == sorted(df.k.unique().tolist())
    tab = fr["g"].table().as_data_frame()
    assert dict(zip(tab["g"].astype(str), tab["Count"])) == df.g.value_counts().to_dict()
    assert fr.nrow == N and fr.ncol == 4 and fr.dim == [N, 4]


def test_shape_operations(h2o, data):
    fr, df = data
    both = fr.cbind(fr["x"] * 2)
    assert both.columns == ["x", "k", "g", "s", "x0"]
    assert fr.rbind(fr).nrows == 2 * N
    assert fr.drop("s").columns == ["x", "k", "g"] and fr.drop(["s", 0]).columns == ["k", "g"]
    srt = fr.sort("k").as_data_frame()
    assert srt["k"].tolist() == sorted(df.k.tolist())
    srt2 = fr.sort(["g", "x"], ascending=[True, False]).as_data_frame()
    want = df.sort_values(["g", "x"], ascending=[True, False], na_position="first", kind="stable")
    assert list(srt2["g"].astype(str)) == list(want.g)
    np.testing.assert_allclose(srt2["x"].to_numpy(), want.x.to_numpy(), equal_nan=True)
    assert fr.na_omit().nrows == len(df.dropna())
    g = fr.group_by("g").count().mean("x", na="rm").sum("k").get_frame().as_data_frame()
    want = df.groupby("g").agg(nrow=("k", "size"), mean_x=("x", "mean"), sum_k=("k", "sum")).reset_index()
    assert list(g["g"].astype(str)) == list(want.g)
    np.testing.assert_allclose(g[["nrow", "mean_x", "sum_k"]].to_numpy(), want[["nrow", "mean_x", "sum_k"]].to_numpy())
    fr2 = fr.rename({"k": "kk"})
    assert fr2.columns == ["x", "kk", "g", "s"]


def test_in_place_operations(h2o, data):
    fr, df = data
    c = fr.cbind(fr["k"])  # a copy to change
    col = c.pop("k0")
    assert c.columns == ["x", "k", "g", "s"] and col.columns == ["k0"]
    c.set_name(1, "kay")
    assert c.columns == ["x", "kay", "g", "s"]
    used = c.impute("x", method="median")
    assert used == [pytest.approx(df.x.median())] and c.nacnt()[0] == 0
    filled = c.as_data_frame()["x"].to_numpy()
    np.testing.assert_allclose(filled, df.x.fillna(df.x.median()).to_numpy())
    d = fr.cbind(fr["k"])
    by = d.impute("x", method="mean", by=["g"])
    assert len(by) == 1
    want = df.x.fillna(df.groupby("g").x.transform("mean"))
    np.testing.assert_allclose(d.as_data_frame()["x"].to_numpy(), want.to_numpy())
    e = fr.cbind(fr["k"])
    e[["k", "k0"]] = e[["k", "k0"]].asfactor()
    assert e.types["k"] == "enum" and e.types["k0"] == "enum"
    e.insert_missing_values(fraction=0.25, seed=1)
    assert 0.15 * N < e.nacnt()[1] < 0.35 * N
    r = fr.runif(seed=3).as_data_frame()["rnd"].to_numpy()
    assert r.min() >= 0 and r.max() < 1 and np.array_equal(r, fr.runif(seed=3).as_data_frame()["rnd"].to_numpy())
    assert fr[[2], :].getrow()[1] == df.k.iloc[2]


def test_module_level(h2o, data, tmp_path):
    fr, df = data
    out = h2o.export_file(fr, str(tmp_path / "out.csv"))
    back = pd.read_csv(out)
    np.testing.assert_allclose(back["x"].to_numpy(), df.x.to_numpy(), equal_nan=True)
    assert list(back["g"]) == list(df.g)
    pq = h2o.export_file(fr, str(tmp_path / "out.parquet"))
    assert pd.read_parquet(pq)["k"].tolist() == df.k.astype(float).tolist()
    with pytest.raises(FileExistsError):
        h2o.export_file(fr, out)
    rows = h2o.as_list(fr[0:2, ["k"]], use_pandas=False)
    assert rows == [["k"], [df.k[0]], [df.k[1]]]
    assert fr.frame_id in [f["frame_id"] for f in h2o.frames()["frames"]]
    assert h2o.get_frame(fr.frame_id).shape == fr.shape


def _sorted(df, by):
    return df.sort_values(by, kind="stable", na_position="first").reset_index(drop=True)


def test_merge_matches_pandas(h2o, data):
    """merge(other, all_x, all_y, by_x, by_y, method) as pandas' inner/left/right/outer joins
    (NA keys aside: pandas pairs NaN with NaN, H2O matches them with nothing)."""
    fr, df = data
    rng = np.random.default_rng(11)
    right = pd.DataFrame({"kk": [0, 1, 1, 2, 7, 9], "gg": ["a", "b", "c", "a", "a", "b"],
                          "w": rng.normal(size=6).round(4)})
    fy = h2o.H2OFrame(right)
    x = df[["k", "g", "x"]]
    fx = fr[["k", "g", "x"]]
    for all_x, all_y, how in ((False, False, "inner"), (True, False, "left"), (False, True, "right"),
                              (True, True, "outer")):
        got = fx.merge(fy, all_x=all_x, all_y=all_y, by_x=["k", "g"], by_y=["kk", "gg"]).as_data_frame()
        want = x.merge(right.rename(columns={"kk": "k", "gg": "g"}), on=["k", "g"], how=how)
        assert got.columns.tolist() == ["k", "g", "x", "w"] and len(got) == len(want), how
        got["g"] = got["g"].astype(str)
        g, w = _sorted(got, ["k", "g", "x", "w"]), _sorted(want, ["k", "g", "x", "w"])
        np.testing.assert_allclose(g[["k", "x", "w"]].to_numpy(float), w[["k", "x", "w"]].to_numpy(float))
        assert g["g"].tolist() == w["g"].tolist()
        keys = got[["k"]].to_numpy(float)[:, 0]
        assert (np.diff(keys[~np.isnan(keys)]) >= 0).all()  # ordered by the keys, as H2O's merge
    # default keys: the columns both frames have; a name both have besides is suffixed as cbind does
    other = h2o.H2OFrame(pd.DataFrame({"k": [1, 3], "x": [0.5, 0.25]}))
    m = fr[["k", "s"]].merge(other)
    assert m.columns == ["k", "s", "x"] and m.nrows == int(df.k.isin([1, 3]).sum())
    both = fr[["k", "x"]].merge(other, by_x="k", by_y="k", method="hash")
    assert both.columns == ["k", "x", "x0"]
    np.testing.assert_allclose(sorted(both.as_data_frame()["x0"].unique()), [0.25, 0.5])
    # a self-merge on a unique key gives the frame back, keyed; NA keys match nothing
    idx = h2o.H2OFrame(pd.DataFrame({"i": [3.0, 1.0, np.nan, 2.0], "v": [30, 10, 0, 20]}))
    assert idx.merge(idx, by_x="i", by_y="i").as_data_frame()["v"].tolist() == [10, 20, 30]
    with pytest.raises(ValueError, match="method"):
        fx.merge(fy, by_x="k", by_y="kk", method="sort")
    with pytest.raises(ValueError, match="no column name in common"):
        fr[["x"]].merge(fy)
    with pytest.raises(ValueError, match="by_y: key column 'gg' is enum but 'k' of x is numeric"):
        fx.merge(fy, by_x="k", by_y="gg")


def test_impute_median_and_mode_by_groups(h2o, data):
    """impute(method="median"/"mode", by=...) fills each NA from its own group, as pandas'
    groupby transform gives."""
    fr, df = data
    med = fr.cbind(fr["k"])
    med.impute("x", method="median", by=["g", "k"])
    want = df.x.fillna(df.groupby(["g", "k"]).x.transform("median"))
    np.testing.assert_allclose(med.as_data_frame()["x"].to_numpy(), want.to_numpy())
    # mode of a factor per group, with NAs planted in the groups and the values
    e = fr[["g", "k"]].cbind(fr[["x"]])
    e["gk"] = e["k"].asfactor()
    e.insert_missing_values(fraction=0.2, seed=5)
    before = e.as_data_frame()
    used = e.impute("gk", method="mode", by=["g"])
    after = e.as_data_frame()
    assert len(used) == 1  # one table of (group, value) for the one column
    assert after["gk"].isna().sum() == (before["gk"].isna() & before["g"].isna()).sum()  # NA group: no fill
    modes = before.dropna(subset=["g", "gk"]).groupby("g", observed=True)["gk"].agg(
        lambda s: s.astype(str).value_counts().sort_index().idxmax())
    filled = before["gk"].isna() & before["g"].notna()
    assert filled.sum() > 10
    expect = before.loc[filled, "g"].astype(str).map(modes.to_dict())
    assert list(after.loc[filled, "gk"].astype(str)) == list(expect)
    with pytest.raises(ValueError, match="use method='mode'"):
        e.impute("gk", method="median", by=["g"])
