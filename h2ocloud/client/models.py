"""Deep learning from the client: H2ODeepLearningEstimator, h2o.deeplearning, model handles,
metrics, grid-free model management (get_model, save_model, load_model)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from h2ocloud.client.frame import H2OFrame, get_frame
from h2ocloud.client.jobs import wait_job
from h2ocloud.client.session import connection


def _column_name(c: Any, names: list[str], what: str) -> str:
    """A column given by name or, as h2o-py accepts, by 0-based position."""
    if isinstance(c, str):
        return c
    if hasattr(c, "__index__") and not isinstance(c, bool):
        i = int(c.__index__())
        if not -len(names) <= i < len(names):
            raise ValueError(f"parameter {what!r}: column index {i} is out of range for a frame of "
                             f"{len(names)} columns")
        return names[i]
    raise ValueError(f"parameter {what!r}: expected a column name or index, got {c!r}")


def resolve_columns(x: Any, y: Any, frame: H2OFrame | str | None) -> tuple[list[str] | None, str | None]:
    """x and y as column names: h2o-py (and the booklet's ``x=1:784, y=785``) may give them as
    positions, which are read against the training frame's columns (0-based, as in h2o-py)."""
    positional = (y is not None and not isinstance(y, str)) or (
        x is not None and (not isinstance(x, str)) and any(not isinstance(c, str) for c in x))
    if not positional:
        return (None if x is None else [x] if isinstance(x, str) else list(x)), y
    if frame is None:
        raise ValueError("column indices in x / y need a training_frame to read them against")
    names = frame.columns if isinstance(frame, H2OFrame) else H2OFrame._from_id(frame).columns
    if y is not None:
        y = _column_name(y, names, "y")
    if x is not None:
        if isinstance(x, str) or hasattr(x, "__index__"):
            x = [x]
        x = [_column_name(c, names, "x") for c in x]
    return x, y


def _param_value(name: str, v: Any) -> Any:
    """A parameter as it crosses the wire: a model or frame handle stands for its id (the
    booklet passes ``checkpoint=model``); anything else must be plain JSON."""
    if isinstance(v, H2ODeepLearningModel):
        return v.model_id
    if isinstance(v, H2OFrame):
        return v.frame_id
    if hasattr(v, "tolist") and not isinstance(v, str):  # numpy arrays and scalars
        return v.tolist()
    if isinstance(v, range):
        return list(v)
    if isinstance(v, list | tuple) and any(isinstance(e, H2ODeepLearningModel | H2OFrame) for e in v):
        return [_param_value(name, e) for e in v]  # initial_weights=[frame, ...]
    return v


def _frame_id(fr: H2OFrame | str | None, name: str) -> str | None:
    if fr is None:
        return None
    if isinstance(fr, H2OFrame):
        return fr.frame_id
    if isinstance(fr, str):
        return fr
    raise TypeError(f"{name} must be an H2OFrame or a frame id, got {type(fr).__name__}")


class H2OModelMetrics:
    """Metrics of a model on one frame, with h2o-py's accessors."""

    def __init__(self, metrics: dict[str, Any]):
        self._m = metrics or {}

    def __getitem__(self, key: str) -> Any:
        return self._m[key]

    def mse(self) -> float | None:
        return self._m.get("mse")

    def rmse(self) -> float | None:
        return self._m.get("rmse")

    def logloss(self) -> float | None:
        return self._m.get("logloss")

    def auc(self) -> float | None:
        return self._m.get("auc")

    def gains_lift(self):
        """A binomial model's gains/lift table (H2OTwoDimTable), None without one."""
        rows = self._m.get("gains_lift_table")
        if not rows:
            return None
        import pandas as pd

        from h2ocloud.two_dim_table import H2OTwoDimTable

        return H2OTwoDimTable.from_data_frame(pd.DataFrame(rows), "Gains/Lift Table")

    def multinomial_auc_table(self):
        """auc_type set: the one-vs-rest and one-vs-one AUCs and their averages (H2OTwoDimTable);
        None when the metrics have none (auc_type AUTO / NONE, or not multinomial)."""
        rows = self._m.get("multinomial_auc_table")
        if not rows:
            return None
        import pandas as pd

        from h2ocloud.two_dim_table import H2OTwoDimTable

        return H2OTwoDimTable.from_data_frame(pd.DataFrame(rows), "Multinomial AUC values")

    def r2(self) -> float | None:
        return self._m.get("r2")

    def mae(self) -> float | None:
        return self._m.get("mae")

    def mean_residual_deviance(self) -> float | None:
        return self._m.get("mean_residual_deviance")

    def classification_error(self) -> float | None:
        return self._m.get("classification_error")

    def mean_per_class_error(self) -> float | None:
        return self._m.get("mean_per_class_error")

    def F1(self, thresholds: Sequence[float] | None = None) -> Any:
        """Binomial: [[threshold, F1]] at the threshold that maximizes F1, as h2o-py returns it."""
        f1 = self._m.get("max_f1")
        return None if f1 is None else [[self._m.get("threshold"), f1]]

    def error(self, thresholds: Sequence[float] | None = None) -> Any:
        """Binomial: [[threshold, error]] at the max-F1 threshold (h2o-py's form); other kinds:
        the classification error (the mean squared error for regression)."""
        err = self._m.get("classification_error")
        if self._m.get("max_f1") is not None:
            return [[self._m.get("threshold"), err]]
        return err if err is not None else self._m.get("mse")

    def nobs(self) -> int | None:
        return self._m.get("nobs")

    def find_threshold_by_max_metric(self, metric: str = "f1") -> float | None:
        return self._m.get("threshold")

    def confusion_matrix(self):
        """The confusion matrix as a pandas DataFrame (rows actual, columns predicted, class names),
        with H2O's Error and Rate columns."""
        import pandas as pd

        cm = self._m.get("confusion_matrix")
        if not cm:
            if self._m.get("confusion_matrix_omitted"):
                print(f"confusion matrix not shown: {self._m['confusion_matrix_omitted']}")
            return None
        dom = [str(d) for d in cm["domain"]]
        df = pd.DataFrame(cm["matrix"], index=dom, columns=dom)
        totals = df.sum(axis=1)
        wrong = totals - pd.Series([df.iloc[i, i] for i in range(len(dom))], index=dom)
        df["Error"] = (wrong / totals.where(totals > 0, 1)).astype(float)
        df["Rate"] = [f"{int(w)} / {int(t)}" for w, t in zip(wrong, totals)]
        return df

    def hit_ratio_table(self):
        """Top-k hit ratios (multinomial) as a pandas DataFrame."""
        import pandas as pd

        hr = self._m.get("hit_ratios")
        if hr is None:
            return None
        return pd.DataFrame({"k": list(range(1, len(hr) + 1)), "hit_ratio": hr})

    _SHOWN = ("nobs", "mse", "rmse", "logloss", "auc", "max_f1", "classification_error",
              "mean_per_class_error", "r2", "mae", "mean_residual_deviance")

    def _table(self):
        from h2ocloud.two_dim_table import H2OTwoDimTable

        rows = [[k, self._m[k]] for k in self._SHOWN if isinstance(self._m.get(k), int | float)]
        return H2OTwoDimTable(f"ModelMetrics{type(self).__name__.removeprefix('H2O').removesuffix('ModelMetrics')}",
                              col_header=["metric", "value"], cell_values=rows)

    def show(self) -> None:
        """Print the metrics as an aligned table."""
        print(self._table())

    def __repr__(self) -> str:
        keys = ("mse", "rmse", "logloss", "auc", "classification_error", "r2")
        shown = ", ".join(f"{k}={self._m[k]:.5g}" for k in keys if isinstance(self._m.get(k), int | float))
        return f"{type(self).__name__}({self._m.get('kind')}: {shown})"

    def _repr_html_(self) -> str:
        return self._table()._repr_html_()


class H2OBinomialModelMetrics(H2OModelMetrics):
    """Metrics of a two-class model."""


class H2OMultinomialModelMetrics(H2OModelMetrics):
    """Metrics of a model of more than two classes."""


class H2ORegressionModelMetrics(H2OModelMetrics):
    """Metrics of a regression model."""


class H2OAutoEncoderModelMetrics(H2OModelMetrics):
    """Reconstruction metrics of an autoencoder."""


def metrics_for(metrics: dict[str, Any] | None, category: str | None = None) -> H2OModelMetrics:
    """The metrics class h2o-py uses for a model category (Binomial, Multinomial, ...)."""
    m = metrics or {}
    kind = category or m.get("model_category") or m.get("kind") or ""
    kind = str(kind).lower()
    cls = {"binomial": H2OBinomialModelMetrics, "multinomial": H2OMultinomialModelMetrics,
           "regression": H2ORegressionModelMetrics, "autoencoder": H2OAutoEncoderModelMetrics}
    return cls.get(kind, H2OModelMetrics)(m)


def _pick(train: bool, valid: bool, fn, xval: bool = False):
    """h2o-py's convention: no flag -> training; one flag -> that value; several -> a dict
    keyed "train" / "valid" / "xval" (xval: the cross-validation metrics of nfolds)."""
    if not train and not valid and not xval:
        train = True
    out = {}
    if train:
        out["train"] = fn("training_metrics")
    if valid:
        out["valid"] = fn("validation_metrics")
    if xval:
        out["xval"] = fn("cross_validation_metrics")
    return next(iter(out.values())) if len(out) == 1 else out


class H2ODeepLearningModel:
    """A trained model in the cloud."""

    def __init__(self, summary: dict[str, Any]):
        self._s = summary

    @property
    def model_id(self) -> str:
        return self._s["model_id"]

    key = model_id

    @property
    def params(self) -> dict[str, Any]:
        """Every parameter the model was trained with, defaults filled in."""
        return dict(self._s["params"])

    @property
    def actual_params(self) -> dict[str, Any]:
        return self.params

    @property
    def model_category(self) -> str | None:
        return self._s.get("model_category")

    @property
    def type(self) -> str:
        """h2o-py's model type: "classifier", "regressor" or "unsupervised" (autoencoder)."""
        return {"Binomial": "classifier", "Multinomial": "classifier", "Regression": "regressor"}.get(
            self.model_category or "", "unsupervised")

    @property
    def parms(self) -> dict[str, dict[str, Any]]:
        """h2o-py's parameter table: name -> {"name", "default_value", "actual_value", "input_value"}."""
        from h2ocloud.dl.params import DEFAULTS

        given = getattr(self, "_parms", None) or self._s.get("input_params") or {}
        out = {}
        for name, value in self.params.items():
            out[name] = {"name": name, "default_value": DEFAULTS.get(name), "actual_value": value,
                         "input_value": given.get(name, DEFAULTS.get(name))}
        return out

    def _layer_frame(self, matrix_id: int, what: str) -> H2OFrame:
        if self.params.get("export_weights_and_biases"):  # the frames training stored (H2O-3)
            return get_frame(f"{self.model_id}.{what}.{int(matrix_id)}")
        result, blobs = connection().call("models.weights", {"model_id": self.model_id,
                                                             "layer": int(matrix_id), "what": what})
        import numpy as np

        values = np.frombuffer(blobs[0], "<f4").astype(np.float64).reshape(result["shape"])
        return H2OFrame(values, column_names=result["names"])

    def weights(self, matrix_id: int = 0) -> H2OFrame:
        """The weight matrix between layer matrix_id and the next, as a frame (one row per unit of
        the next layer, one column per unit of layer matrix_id), as h2o-py returns it."""
        return self._layer_frame(matrix_id, "weights")

    def biases(self, vector_id: int = 0) -> H2OFrame:
        """The biases of the units of layer vector_id + 1, as a one-column frame."""
        return self._layer_frame(vector_id, "biases")

    def summary(self):
        """The model summary (one row per layer: units, type, dropout, l1, l2, mean and RMS of
        weights and biases) as an H2OTwoDimTable."""
        import pandas as pd

        from h2ocloud.two_dim_table import H2OTwoDimTable

        return H2OTwoDimTable.from_data_frame(pd.DataFrame(self._s.get("diagnostics") or []),
                                              "Status of Neuron Layers")

    @property
    def epochs_trained(self) -> float:
        return float(self._s["epochs_trained"])

    @property
    def samples_trained(self) -> int:
        return int(self._s["samples_trained"])

    def summary_json(self) -> dict[str, Any]:
        return dict(self._s)

    def refresh(self) -> H2ODeepLearningModel:
        self._s = get_model(self.model_id)._s
        return self

    def _metric(self, name: str, train: bool, valid: bool, xval: bool = False):
        return _pick(train, valid, lambda which: (self._s.get(which) or {}).get(name), xval)

    def mse(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("mse", train, valid, xval)

    def rmse(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("rmse", train, valid, xval)

    def logloss(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("logloss", train, valid, xval)

    def auc(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("auc", train, valid, xval)

    def r2(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("r2", train, valid, xval)

    def mae(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("mae", train, valid, xval)

    def mean_residual_deviance(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("mean_residual_deviance", train, valid, xval)

    def classification_error(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("classification_error", train, valid, xval)

    def mean_per_class_error(self, train: bool = False, valid: bool = False, xval: bool = False):
        return self._metric("mean_per_class_error", train, valid, xval)

    def confusion_matrix(self, train: bool = False, valid: bool = False, xval: bool = False):
        return _pick(train, valid, lambda w: H2OModelMetrics(self._s.get(w) or {}).confusion_matrix(), xval)

    def gains_lift(self, train: bool = False, valid: bool = False, xval: bool = False):
        return _pick(train, valid, lambda w: H2OModelMetrics(self._s.get(w) or {}).gains_lift(), xval)

    def multinomial_auc_table(self, train: bool = False, valid: bool = False, xval: bool = False):
        return _pick(train, valid, lambda w: H2OModelMetrics(self._s.get(w) or {}).multinomial_auc_table(), xval)

    def hit_ratio_table(self, train: bool = False, valid: bool = False, xval: bool = False):
        return _pick(train, valid, lambda w: H2OModelMetrics(self._s.get(w) or {}).hit_ratio_table(), xval)

    def cross_validation_metrics_summary(self):
        """nfolds: one row per metric with its mean and standard deviation over the folds and
        each fold model's value on its held-out fold (None without cross-validation)."""
        table = self._s.get("cross_validation_metrics_summary")
        if not table:
            return None
        import pandas as pd

        return pd.DataFrame(table).set_index("metric")

    def _cv_frames(self, key: str, param: str):
        ids = (self._s.get("cross_validation_frames") or {}).get(key)
        if ids is None:
            raise ValueError(f"no {key.replace('_', ' ')}: train with nfolds and {param}=True")
        return ids

    def cross_validation_predictions(self) -> list[H2OFrame]:
        """keep_cross_validation_predictions: each fold model's predictions on the rows it held
        out, expanded to the training frame's rows with 0 elsewhere (as h2o-py)."""
        return [get_frame(i) for i in self._cv_frames("predictions", "keep_cross_validation_predictions")]

    def cross_validation_holdout_predictions(self) -> H2OFrame:
        """keep_cross_validation_predictions: every training row's prediction by the fold model
        that held it out."""
        return get_frame(self._cv_frames("holdout_predictions", "keep_cross_validation_predictions"))

    def cross_validation_fold_assignment(self) -> H2OFrame:
        """keep_cross_validation_fold_assignment: the fold (0-based) of every training row."""
        return get_frame(self._cv_frames("fold_assignment", "keep_cross_validation_fold_assignment"))

    def cross_validation_models(self) -> list[H2ODeepLearningModel] | None:
        """nfolds: the fold models (trained with keep_cross_validation_models, the default)."""
        ids = self._s.get("cross_validation_models")
        return [get_model(i) for i in ids] if ids else None

    def scoring_history(self):
        """One row per scoring: timestamp, duration, epochs, samples, training_* and validation_*."""
        import pandas as pd

        return pd.DataFrame(self._s.get("scoring_history") or [])

    def varimp(self, use_pandas: bool = False):
        """Variable importances (train with variable_importances=True): rows of (variable,
        relative_importance, scaled_importance, percentage), most important first."""
        vi = self._s.get("variable_importances")
        if not vi:
            return None
        rows = list(zip(vi["variable"], vi["relative_importance"], vi["scaled_importance"], vi["percentage"]))
        rows.sort(key=lambda r: -r[1])
        if use_pandas:
            import pandas as pd

            return pd.DataFrame(rows, columns=["variable", "relative_importance", "scaled_importance", "percentage"])
        return rows

    def diagnostics(self):
        """Per-layer diagnostics (units, dropout, mean/RMS of weights and biases, rate, momentum)."""
        import pandas as pd

        return pd.DataFrame(self._s.get("diagnostics") or [])

    def _predict_frame(self, frame: H2OFrame, kind: str, **extra: Any) -> H2OFrame:
        args = {"model_id": self.model_id, "frame_id": _frame_id(frame, "test_data"), "kind": kind, **extra}
        result, _ = connection().call("models.predict", args)
        return H2OFrame._from_header(result, temporary=True)

    def predict(self, test_data: H2OFrame) -> H2OFrame:
        """Predictions for each row, in order: `predict` and one probability column per class
        (classification), `predict` (regression), the reconstruction (autoencoder)."""
        return self._predict_frame(test_data, "predict")

    def anomaly(self, test_data: H2OFrame, per_feature: bool = False) -> H2OFrame:
        """Per-row reconstruction error of an autoencoder (`Reconstruction.MSE`)."""
        return self._predict_frame(test_data, "anomaly", per_feature=per_feature)

    def deepfeatures(self, test_data: H2OFrame, layer: int) -> H2OFrame:
        """The activations of hidden layer `layer` (0-based) for each row."""
        return self._predict_frame(test_data, "deepfeatures", layer=int(layer))

    def model_performance(self, test_data: H2OFrame | None = None, train: bool = False,
                          valid: bool = False, xval: bool = False) -> H2OModelMetrics:
        """Metrics on a frame, or the stored training / validation / cross-validation metrics."""
        if test_data is None:
            which = "cross_validation_metrics" if xval else "validation_metrics" if valid else "training_metrics"
            return metrics_for(self._s.get(which) or {}, self.model_category)
        result, _ = connection().call("models.performance", {"model_id": self.model_id,
                                                              "frame_id": _frame_id(test_data, "test_data")})
        return metrics_for(result["metrics"], self.model_category)

    # ---- export: the model as code that scores with nothing of h2ocloud installed ----------
    def download_pojo(self, path: str = "") -> str | None:
        """Write the model as a plain Java class (a POJO, one source file needing only the JDK)
        into directory ``path`` (created if need be) and return the file's path, as h2o-py's
        does; with ``path=""`` print the source instead. Compile and score with
        ``javac M.java && java -cp . M < rows.csv``."""
        return download_pojo(self.model_id, path)

    def download_onnx(self, path: str = "") -> str:
        """Write the model (its preprocessing and network) as an ONNX file at ``path`` (a
        directory: the file gets the model's name); return the file's path. Run it with
        onnxruntime: one input per predictor column, outputs label and probabilities (or
        predict; or reconstruction and reconstruction_mse)."""
        return _write_export(self.model_id, "onnx", path or ".", directory=False)

    def download_python(self, path: str = "") -> str:
        """Write the model as one Python module that needs only numpy at ``path`` (a
        directory: the file gets the model's name); return the file's path. Its
        ``predict(rows)`` takes a pandas frame, a list of dicts or a 2-D array."""
        return _write_export(self.model_id, "python", path or ".", directory=False)

    # ---- plots (h2ocloud.plot; matplotlib is the optional 'plot' extra) -----------------------
    def plot(self, timestep: str = "AUTO", metric: str = "AUTO", server: bool = False,
             save_plot_path: str | None = None, **kwargs: Any) -> Any:
        """The scoring history: ``metric`` (AUTO: logloss, rmse for regression, mse for an
        autoencoder) on training and validation data against ``timestep`` (AUTO: epochs, or
        samples, iterations, duration). Returns a result whose ``.figure()`` is the figure."""
        from h2ocloud.plot import scoring_history_plot

        return scoring_history_plot(self, timestep, metric, server, save_plot_path)

    def varimp_plot(self, num_of_features: int | None = None, server: bool = False,
                    save_plot_path: str | None = None) -> Any:
        """Bars of the scaled variable importances (train with variable_importances=True)."""
        from h2ocloud.plot import varimp_plot

        return varimp_plot(self, num_of_features, server, save_plot_path)

    def learning_curve_plot(self, metric: str = "AUTO", cv_ribbon: bool | None = None,
                            cv_lines: bool | None = None, figsize: tuple[float, float] = (16, 9),
                            colormap: str | None = None, save_plot_path: str | None = None,
                            server: bool = False) -> Any:
        """``metric`` against epochs on training, validation and cross-validation data."""
        from h2ocloud.plot import learning_curve_plot

        return learning_curve_plot(self, metric, cv_ribbon, cv_lines, figsize, colormap, save_plot_path, server)

    def plot_anomaly(self, test_data: H2OFrame, server: bool = False, save_plot_path: str | None = None) -> Any:
        """An autoencoder's reconstruction error of each row of ``test_data``, in row order
        (the booklet's ``plot.ts(recon_error)``)."""
        from h2ocloud.plot import plot_anomaly

        return plot_anomaly(self.anomaly(test_data), server=server, save_plot_path=save_plot_path)

    # ---- display: aligned text in a terminal, HTML tables in a notebook (h2o-py's show()) ----
    _METRIC_TITLES = (("training_metrics", "training data"), ("validation_metrics", "validation data"),
                      ("cross_validation_metrics", "cross-validation"))

    def _tables(self) -> list[Any]:
        """The tables show() prints and a notebook renders: the model's details, its layers,
        each metrics set it has, and its scoring history."""
        import pandas as pd

        from h2ocloud.two_dim_table import H2OTwoDimTable

        if not self._s:
            return [H2OTwoDimTable(f"{type(self).__name__}: not trained", col_header=["parameter", "value"],
                                   cell_values=[[k, repr(v)] for k, v in sorted(self.params.items())])]
        details: list[list[Any]] = [["model_id", self.model_id], ["model_category", self.model_category],
                   ["epochs_trained", self._s.get("epochs_trained")],
                   ["samples_trained", self._s.get("samples_trained")]]
        tables = [H2OTwoDimTable(f"Model Details: {type(self).__name__}", col_header=["field", "value"],
                                 cell_values=[[k, v] for k, v in details if v is not None])]
        if self._s.get("diagnostics"):
            tables.append(self.summary())
        for which, title in self._METRIC_TITLES:
            if self._s.get(which):
                t = metrics_for(self._s[which], self.model_category)._table()
                t._table_header = f"{t.table_header} on {title}"
                tables.append(t)
        history = self._s.get("scoring_history")
        if history:
            hist = pd.DataFrame(history)
            if "timestamp" in hist:  # seconds since 1970 on the node, shown as h2o-py shows it
                hist["timestamp"] = pd.to_datetime(hist["timestamp"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
            tables.append(H2OTwoDimTable.from_data_frame(hist, "Scoring History"))
        return tables

    def __str__(self) -> str:
        return "\n\n".join(repr(t) for t in self._tables())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_id!r}, {self.model_category})"

    def show(self) -> None:
        """Print the model's details, layers, metrics and scoring history as aligned tables."""
        print(self)

    def _repr_html_(self) -> str:
        return "".join(t._repr_html_() for t in self._tables())


class H2OEstimator(H2ODeepLearningModel):
    """The base of h2o-py's estimators (h2ocloud.estimators.estimator_base.H2OEstimator): the
    constructor's keywords (an estimator's explicit signature, generated from the parameter
    table) held as given, get_params / set_params as scikit-learn's clone expects, and train().
    """

    algo = "deeplearning"

    def __init__(self, values: dict[str, Any] | None = None, other: dict[str, Any] | None = None):
        super().__init__({})
        self._values: dict[str, Any] = {}  # every constructor keyword's value, as given (get_params)
        self._parms: dict[str, Any] = {}  # those away from their default: what train() sends
        self._set(dict(values or {}), dict(other or {}))

    @classmethod
    def _keyword_defaults(cls) -> dict[str, Any]:
        """The keyword-only parameters of the nearest explicit constructor, with defaults."""
        import inspect

        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            params = inspect.signature(init).parameters.values()
            found = {p.name: p.default for p in params if p.kind == p.KEYWORD_ONLY}
            if found:
                return found
        return {}

    def _set(self, values: dict[str, Any], other: dict[str, Any]) -> None:
        """Take constructor keywords; `other` holds aliases (H2O-3's and the booklet's names) and
        the H2O-3 parameters accepted at their default only. An unknown name is refused with the
        closest valid one (as the node does)."""
        from h2ocloud.dl.params import ALIASES, H2O3_DEFAULT_ONLY, closest

        defaults = self._keyword_defaults()
        for k, v in other.items():
            name = ALIASES.get(k, k)
            if name in defaults:
                if name in values and _differs(values[name], defaults[name]):
                    raise ValueError(f"parameter {name!r}: given twice (as {k!r} and {name!r})")
                values[name] = v
            elif name in ("x", "y"):
                raise ValueError(f"parameter {k!r}: the columns are given to train(x=..., y=...)")
            elif name in H2O3_DEFAULT_ONLY:
                self._values[name] = v
                self._parms[name] = v  # the node refuses anything but H2O-3's default, by name
            else:
                hint = closest(k, [*defaults, *ALIASES, *H2O3_DEFAULT_ONLY])
                hint = ALIASES.get(hint, hint) if hint else None
                raise ValueError(f"unknown parameter {k!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        for k, v in values.items():
            if k not in defaults:
                raise ValueError(f"unknown parameter {k!r}")
            self._values[k] = v
            if _differs(v, defaults[k]):
                self._parms[k] = v
            else:
                self._parms.pop(k, None)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every constructor keyword with its value (defaults included), as scikit-learn's
        ``clone`` reads them: ``type(m)(**m.get_params())`` is an unfitted copy."""
        out = {k: self._values.get(k, d) for k, d in self._keyword_defaults().items()}
        out.update({k: v for k, v in self._values.items() if k not in out})
        return out

    def set_params(self, **params: Any) -> H2OEstimator:
        """Change constructor keywords (checked as the constructor checks them); returns self."""
        defaults = self._keyword_defaults()
        self._set({k: v for k, v in params.items() if k in defaults},
                  {k: v for k, v in params.items() if k not in defaults})
        return self

    @property
    def params(self) -> dict[str, Any]:
        """After training, every parameter the model was trained with; before, those set."""
        return dict(self._s["params"]) if self._s else dict(self._parms)

    @property
    def model_id(self) -> str | None:  # type: ignore[override]  # None until trained
        return self._s.get("model_id") if self._s else self._parms.get("model_id")

    def train(self, x: Sequence[str] | None = None, y: str | None = None, training_frame: H2OFrame | None = None,
              validation_frame: H2OFrame | None = None, progress: bool | None = None, **kw: Any) -> H2OEstimator:
        """Train on training_frame (Ctrl-C cancels the job on the cloud)."""
        given = dict(self._parms)
        training_frame = training_frame if training_frame is not None else given.pop("training_frame", None)
        validation_frame = validation_frame if validation_frame is not None else given.pop("validation_frame", None)
        given.pop("training_frame", None)
        given.pop("validation_frame", None)
        if training_frame is None:
            raise ValueError("training_frame is required")
        x, y = resolve_columns(x, y, training_frame)
        params = {k: _param_value(k, v) for k, v in {**given, **kw}.items()}
        args = {"params": params, "x": x, "y": y,
                "training_frame": _frame_id(training_frame, "training_frame"),
                "validation_frame": _frame_id(validation_frame, "validation_frame")}
        result, _ = connection().call("models.train", args)
        for w in result.get("warnings") or []:
            warnings.warn(w, UserWarning, stacklevel=2)
        if progress is None and params.get("quiet_mode"):
            progress = False  # quiet_mode: no per-iteration progress here nor in the node's log
        wait_job(result["job"], progress=progress)
        self._s = get_model(result["model_id"])._s
        return self


def _differs(value: Any, default: Any) -> bool:
    """Whether a keyword is set away from its default (a list equal to a tuple default is not)."""
    if value is default:
        return False
    if isinstance(value, list | tuple) and isinstance(default, list | tuple):
        return list(value) != list(default)
    if type(value) is not type(default):
        return True
    try:
        return bool(value != default)
    except Exception:  # e.g. a numpy array: compare nothing, send it
        return True


def __getattr__(name: str) -> Any:
    # The estimators are generated (h2ocloud/estimators/deeplearning.py); this module's old
    # names for them still work.
    if name in ("H2ODeepLearningEstimator", "H2OAutoEncoderEstimator"):
        from h2ocloud.estimators import deeplearning

        return getattr(deeplearning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def deeplearning(x: Sequence[str] | None = None, y: str | None = None, training_frame: H2OFrame | None = None,
                 validation_frame: H2OFrame | None = None, **params: Any) -> Any:
    """The booklet's functional form: train a deep learning model and return it, or, when a
    parameter is given several values (``hidden=[[200, 200], [100, 300, 100]], l1=[1e-5, 1e-7]``),
    build the grid of them and return the H2OGridSearch."""
    data = params.pop("data", None)
    if training_frame is None:
        training_frame = data
    validation_frame = validation_frame if validation_frame is not None else params.pop("validation", None)
    from h2ocloud.estimators.deeplearning import H2ODeepLearningEstimator

    hyper = grid_axes(params)
    if hyper:
        # The booklet's R form: lists of values are a grid's axes, and the grid is returned.
        from h2ocloud.grid.grid_search import H2OGridSearch

        base = {k: v for k, v in params.items() if k not in hyper}
        grid_id = base.pop("grid_id", None)
        return H2OGridSearch(H2ODeepLearningEstimator(**base), hyper, grid_id=grid_id).train(
            x=x, y=y, training_frame=training_frame, validation_frame=validation_frame)
    return H2ODeepLearningEstimator(**params).train(x=x, y=y, training_frame=training_frame,
                                                    validation_frame=validation_frame)


# Parameters whose single value is a list: a grid axis of them is a list of lists.
_LIST_VALUED = ("hidden", "hidden_dropout_ratios", "hidden_dropout_ratio", "class_sampling_factors",
                "x", "ignored_columns", "initial_weights", "initial_biases")


def grid_axes(params: dict[str, Any]) -> dict[str, list[Any]]:
    """The parameters given as several values (a list for a scalar parameter, a list of lists
    for a list-valued one such as hidden): the axes of the grid h2o.deeplearning builds."""
    axes = {}
    for k, v in params.items():
        if not isinstance(v, list | tuple):
            continue
        if k in _LIST_VALUED:
            if v and all(isinstance(e, list | tuple) for e in v) and k not in ("x", "initial_weights", "initial_biases"):
                axes[k] = [list(e) for e in v]
        else:
            axes[k] = list(v)
    return axes


def predict(object: H2ODeepLearningModel, newdata: H2OFrame) -> H2OFrame:
    """The booklet's ``h2o.predict(model, newdata=)``: the model's predictions for each row."""
    return object.predict(newdata)


def anomaly(data: H2OFrame, model: H2ODeepLearningModel, per_feature: bool = False) -> H2OFrame:
    """The booklet's ``h2o.anomaly(data, model)``: an autoencoder's reconstruction error per row."""
    return model.anomaly(data, per_feature=per_feature)


def _export_file(model_id: str, fmt: str) -> tuple[str, bytes]:
    """(file name, bytes) of a model exported by the node it is connected to."""
    result, blobs = connection().call("models.export", {"model_id": model_id, "format": fmt})
    return result["filename"], bytes(blobs[0])


def _write_export(model_id: str, fmt: str, path: str, directory: bool) -> str:
    """Write the export under ``path``: into it when it is (or, ``directory``, must be) a
    directory, else as that file. Return the file's path."""
    import os

    path = os.path.abspath(os.path.expanduser(path))
    if directory and os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"parameter 'path': {path} is a file; download_pojo writes into a directory")
    name, data = _export_file(model_id, fmt)
    if directory or os.path.isdir(path):
        os.makedirs(path, exist_ok=True)
        target = os.path.join(path, name)
    else:
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            raise ValueError(f"parameter 'path': directory {parent} does not exist")
        target = path
    with open(target, "wb") as f:
        f.write(data)
    return target


def download_pojo(model: H2ODeepLearningModel | str, path: str = "") -> str | None:
    """h2o.download_pojo(model, path): the model's POJO written into directory ``path``; the
    file's path is returned (``path=""`` prints the source)."""
    mid = model if isinstance(model, str) else model.model_id
    if not path:
        print(_export_file(mid, "java")[1].decode("utf-8"))
        return None
    return _write_export(mid, "java", path, directory=True)


def get_model(model_id: str) -> H2ODeepLearningModel:
    """A handle on a stored model (NotFound when there is none)."""
    result, _ = connection().call("models.get", {"model_id": model_id})
    return H2ODeepLearningModel(result)


def save_model(model: H2ODeepLearningModel | str, path: str = "", force: bool = False) -> str:
    """Write the model under directory `path` on the node; return the file's path."""
    import os

    mid = model if isinstance(model, str) else model.model_id
    path = os.path.abspath(path or ".")
    result, _ = connection().call("models.save", {"model_id": mid, "path": path, "force": force})
    return result["path"]


def load_model(path: str) -> H2ODeepLearningModel:
    """Load a model written by save_model (on this cloud or another)."""
    import os

    result, _ = connection().call("models.load", {"path": os.path.abspath(path)})
    return H2ODeepLearningModel(result)
