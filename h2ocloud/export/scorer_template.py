"""Scores an h2ocloud deep-learning model with numpy alone (written by h2ocloud's export).

    import MODULE
    MODULE.predict(rows)      # rows: a pandas DataFrame, a list of dicts or a 2-D array
    MODULE.COLUMNS            # the predictor columns a 2-D array holds, in this order

``predict`` gives the columns the cloud's predict() makes: a pandas DataFrame when handed one,
otherwise a dict of those columns as numpy arrays. In a factor column a level the model never
saw counts as missing; None, NaN, "" and "NA" are missing values.
"""
# This file is both h2ocloud's template and, once the writer has put a model between the
# markers below, the scorer it hands out: it must import nothing but numpy (and the standard
# library), and pandas only when it is handed a pandas frame.

import base64
import json

import numpy as np

# BEGIN MODEL (replaced by the writer)
MODEL_JSON = "{}"
PARAMS_B64: tuple[str, ...] = ()
# END MODEL

MODEL = json.loads(MODEL_JSON)
MODEL_ID = MODEL.get("model_id")
CATEGORY = MODEL.get("category")
COLUMNS = [c["name"] for c in MODEL.get("columns", [])]
DOMAINS = [c.get("domain") for c in MODEL.get("columns", [])]
RESPONSE = MODEL.get("response")
RESPONSE_DOMAIN = MODEL.get("response_domain") or None
PREDICTION_COLUMNS = list(MODEL.get("output_columns", []))
_MISSING_TEXT = ("", "NA")
_MAXOUT_CELLS = 1 << 24  # rows * units * inputs held at once by a maxout layer


def _layers():
    """(W float64 (n_out, n_in), b float64, activation, scale) of every layer."""
    flat = np.frombuffer(base64.b64decode("".join(PARAMS_B64)), dtype="<f4")
    out, pos = [], 0
    for lay in MODEL.get("layers", []):
        n_in, n_out = lay["n_in"], lay["n_out"]
        w = flat[pos:pos + n_in * n_out].reshape(n_out, n_in).astype(np.float64)
        pos += n_in * n_out
        b = flat[pos:pos + n_out].astype(np.float64)
        pos += n_out
        out.append((w, b, lay["activation"], lay["scale"]))
    return out


_LAYERS = _layers() if MODEL else []


def _is_pandas(rows) -> bool:
    return hasattr(rows, "columns") and hasattr(rows, "iloc")


def _column_values(rows):
    """{column name: 1-D array} of the predictors, and the number of rows."""
    if _is_pandas(rows):
        missing = [c for c in COLUMNS if c not in rows.columns]
        if missing:
            raise ValueError(f"the frame lacks the model's column(s) {missing}")
        return {c: rows[c].to_numpy() for c in COLUMNS}, len(rows)
    if isinstance(rows, dict):
        raise TypeError("rows must be a list of dicts, a 2-D array or a pandas DataFrame "
                        "(wrap one row's dict in a list)")
    if isinstance(rows, (list, tuple)) and rows and all(isinstance(r, dict) for r in rows):
        return {c: np.array([r.get(c) for r in rows], dtype=object) for c in COLUMNS}, len(rows)
    arr = np.asarray(rows)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, len(COLUMNS))
    if arr.ndim != 2 or arr.shape[1] != len(COLUMNS):
        raise ValueError(f"a 2-D array of rows needs {len(COLUMNS)} columns in the order "
                         f"{COLUMNS}; got shape {arr.shape}")
    return {c: arr[:, j] for j, c in enumerate(COLUMNS)}, arr.shape[0]


def _as_float(v: np.ndarray) -> np.ndarray:
    if v.dtype.kind in "fiub":
        return v.astype(np.float64)
    out = np.empty(len(v), dtype=np.float64)
    for i, x in enumerate(v):
        try:
            out[i] = np.nan if x is None or (isinstance(x, str) and x.strip() in _MISSING_TEXT) else float(x)
        except (TypeError, ValueError):
            out[i] = np.nan  # text in a numeric column: missing, as the POJO reads it
    return out


def _level(x) -> str | None:
    """The level name of one factor value (None when missing); 3.0 names level "3"."""
    if x is None:
        return None
    if isinstance(x, str):
        return None if x in _MISSING_TEXT else x
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return None
        return str(int(x)) if float(x).is_integer() else repr(float(x))
    return str(x)


def encode(rows) -> np.ndarray:
    """The model's input units for ``rows`` (float32, n x units), as the cloud makes them."""
    values, n = _column_values(rows)
    X = np.zeros((n, MODEL["n_inputs"]), dtype=np.float32)
    for col in MODEL["columns"]:
        v = values[col["name"]]
        if col["kind"] == "enum":
            unit = {lvl: k - col["first_level"] for k, lvl in enumerate(col["domain"])
                    if k >= col["first_level"]}
            for i, x in enumerate(v):
                u = unit.get(_level(x))
                if u is not None:  # missing and unseen levels light no unit
                    X[i, col["offset"] + u] = 1.0
        else:
            z = (_as_float(v) - col["mean"]) / col["sigma"]
            X[:, col["offset"]] = np.where(np.isnan(z), 0.0, z)  # missing -> the mean
    return X


def _maxout(a, w, b):
    """max over the active (non-zero) inputs of w_ji a_i (0 when none is active), plus b."""
    out = np.empty((a.shape[0], w.shape[0]))
    step = max(1, _MAXOUT_CELLS // max(1, w.size))
    for lo in range(0, a.shape[0], step):
        x = a[lo:lo + step]
        prod = x[:, None, :] * w[None, :, :]
        prod = np.where((x != 0)[:, None, :], prod, -np.inf).max(axis=2)
        out[lo:lo + step] = np.where(np.isneginf(prod), 0.0, prod)
    return out + b


def _forward(X: np.ndarray) -> np.ndarray:
    a = X.astype(np.float64)
    for w, b, act, scale in _LAYERS:
        if act == "Maxout":
            z = _maxout(a, w, b)
            big = np.maximum(z.max(axis=1, keepdims=True, initial=0.0), 1.0)
            a = z / big * scale  # the layer is divided by its largest unit when that is > 1
        else:
            z = a @ w.T + b
            if act == "Tanh":
                a = np.tanh(z) * scale
            elif act == "Rectifier":
                a = np.where(z > 0, z * scale, 0.0)
            elif act == "Softmax":
                e = np.exp(z - z.max(axis=1, keepdims=True))
                a = e / e.sum(axis=1, keepdims=True)
            else:
                a = z
    return a


def _columns(X: np.ndarray, out: np.ndarray) -> dict:
    if CATEGORY == "AutoEncoder":
        rec = out * np.asarray(MODEL["reconstruction_scale"]) + np.asarray(MODEL["reconstruction_offset"])
        return {name: rec[:, i] for i, name in enumerate(PREDICTION_COLUMNS)}
    if CATEGORY == "Regression":
        f = out[:, 0].astype(np.float64) * MODEL["response_sigma"] + MODEL["response_mean"]
        if MODEL.get("response_link") == "log":  # poisson, gamma, tweedie: the log link's inverse
            f = np.exp(np.minimum(f, 700.0))
        return {"predict": f}
    p = out
    if MODEL.get("class_ratio") is not None:  # undo balance_classes' resampling
        q = p * np.asarray(MODEL["class_ratio"])[None, :]
        p = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-300)
    if CATEGORY == "Binomial":
        label = (p[:, 1] >= MODEL["threshold"]).astype(np.int64)
    else:
        label = p.argmax(axis=1)
    res = {"predict": np.asarray(RESPONSE_DOMAIN, dtype=object)[label]}
    for k, name in enumerate(PREDICTION_COLUMNS[1:]):
        res[name] = p[:, k]
    return res


def predict(rows):
    """The cloud's predict() for ``rows``: a pandas DataFrame of PREDICTION_COLUMNS when given
    one, otherwise a dict of those columns (numpy arrays)."""
    X = encode(rows)
    res = _columns(X, _forward(X))
    if _is_pandas(rows):
        import pandas as pd

        return pd.DataFrame(res, columns=PREDICTION_COLUMNS, index=rows.index)
    return res


def anomaly(rows):
    """An autoencoder's per-row reconstruction error, {"Reconstruction.MSE": array} (in the
    standardized space, as the cloud's anomaly())."""
    if CATEGORY != "AutoEncoder":
        raise ValueError("anomaly needs an autoencoder model")
    X = encode(rows)
    err = _forward(X) - X.astype(np.float64)
    mse = (err * err).mean(axis=1)
    if _is_pandas(rows):
        import pandas as pd

        return pd.DataFrame({"Reconstruction.MSE": mse}, index=rows.index)
    return {"Reconstruction.MSE": mse}
