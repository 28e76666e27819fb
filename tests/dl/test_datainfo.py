"""DataInfo: one-hot, standardization, constant columns, NA imputation, columns by name."""

import numpy as np
import pytest

from h2ocloud.dl.datainfo import DataInfo


def meta_num(name, v):
    v = np.asarray(v, dtype=np.float64)
    ok = v[~np.isnan(v)]
    return {"name": name, "type": "numeric", "domain": None, "mean": float(ok.mean()),
            "sigma": float(ok.std(ddof=1)), "min": float(ok.min()), "max": float(ok.max()),
            "missing": int(np.isnan(v).sum())}


def meta_enum(name, domain, codes):
    codes = np.asarray(codes)
    ok = codes[codes >= 0]
    return {"name": name, "type": "enum", "domain": list(domain), "mean": float("nan"),
            "sigma": float("nan"), "min": float(ok.min()), "max": float(ok.max()),
            "missing": int((codes < 0).sum())}


@pytest.fixture
def frame():
    cols = {
        "num": np.array([1.0, 2.0, np.nan, 5.0]),
        "const": np.array([3.0, 3.0, 3.0, 3.0]),
        "color": np.array([0, 2, -1, 1], dtype=np.int32),
        "txt": np.array(["a", "b", "c", "d"]),
        "resp": np.array([10.0, 20.0, 30.0, 40.0]),
        "cls": np.array([1, 0, 1, 0], dtype=np.int32),
    }
    metas = [meta_num("num", cols["num"]), meta_num("const", cols["const"]),
             meta_enum("color", ["red", "green", "blue"], cols["color"]),
             {"name": "txt", "type": "string", "domain": None, "mean": np.nan, "sigma": np.nan,
              "min": np.nan, "max": np.nan, "missing": 0},
             meta_num("resp", cols["resp"]), meta_enum("cls", ["no", "yes"], cols["cls"])]
    return metas, cols


def test_onehot_standardize_const_na(frame):
    metas, cols = frame
    info = DataInfo.build(metas, ["num", "const", "color", "txt"], "resp", {})
    assert info.input_names == ["color.red", "color.green", "color.blue", "num"]
    assert info.ignored == ["const", "txt"]
    X = info.transform(metas, cols)
    assert X.dtype == np.float32 and X.flags["C_CONTIGUOUS"] and X.shape == (4, 4)
    m = np.nanmean(cols["num"])
    s = np.nanstd(cols["num"], ddof=1)
    expect_num = [(1 - m) / s, (2 - m) / s, 0.0, (5 - m) / s]
    np.testing.assert_allclose(X[:, 3], expect_num, rtol=1e-6)
    np.testing.assert_array_equal(X[:, :3], [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 1, 0]])
    # regression response standardized and mapped back
    yt = info.transform_response(metas[4], cols["resp"])
    np.testing.assert_allclose(yt, (cols["resp"] - 25) / np.std(cols["resp"], ddof=1), rtol=1e-6)
    np.testing.assert_allclose(info.response_to_original(yt), cols["resp"], rtol=1e-6)
    assert not info.classification and info.n_outputs == 1


def test_drop_first_level_and_keep_const(frame):
    metas, cols = frame
    info = DataInfo.build(metas, ["color", "const"], "cls",
                          {"use_all_factor_levels": False, "ignore_const_cols": False})
    assert info.input_names == ["color.green", "color.blue", "const"]
    X = info.transform(metas, cols)
    np.testing.assert_array_equal(X, [[0, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 0]])
    assert info.classification and info.response_domain == ["no", "yes"]
    np.testing.assert_array_equal(info.transform_response(metas[5], cols["cls"]), [1, 0, 1, 0])


def test_columns_by_name_any_order_and_unseen_levels(frame):
    metas, cols = frame
    info = DataInfo.build(metas, ["num", "color"], "resp", {})
    X_train = info.transform(metas, cols)
    # The scored frame: other order, extra column, a different domain order, an unseen level.
    new_meta = [meta_enum("color", ["blue", "purple", "red"], np.array([0, 1, 2])),
                meta_num("extra", [1.0, 2.0, 3.0]), meta_num("num", [1.0, 2.0, 5.0])]
    new_cols = {"extra": np.array([1.0, 2.0, 3.0]), "color": np.array([0, 1, 2], np.int32),
                "num": np.array([1.0, 2.0, 5.0])}
    X = info.transform(new_meta, new_cols)
    np.testing.assert_array_equal(X[:, :3], [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    np.testing.assert_allclose(X[:, 3], X_train[[0, 1, 3], 3])
    with pytest.raises(ValueError, match="'num'"):
        info.transform(new_meta, {"color": new_cols["color"]})


def test_unknown_columns_and_classification_forced(frame):
    metas, cols = frame
    with pytest.raises(ValueError, match="'nope'"):
        DataInfo.build(metas, ["num", "nope"], "resp", {})
    with pytest.raises(ValueError, match="'zzz'"):
        DataInfo.build(metas, ["num"], "zzz", {})
    yv = np.array([0.0, 1.0, 1.0, 0.0])
    m = meta_num("r01", yv)
    info = DataInfo.build(metas + [m], ["num"], "r01", {"classification": True}, y_values=yv)
    assert info.classification and info.response_domain == ["0", "1"]
    np.testing.assert_array_equal(info.transform_response(m, yv), [0, 1, 1, 0])
    info2 = DataInfo.build(metas + [m], ["num"], "r01", {"classification": True})
    assert info2.response_domain == ["0", "1"]


def test_round_trip_dict(frame):
    import json

    metas, cols = frame
    info = DataInfo.build(metas, None, "cls", {})
    info2 = DataInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert info2 == info
    np.testing.assert_array_equal(info2.transform(metas, cols), info.transform(metas, cols))
    assert "cls" not in info.x_columns and "resp" in info.x_columns
