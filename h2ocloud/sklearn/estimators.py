"""The scikit-learn wrappers: each fit uploads the validated arrays as a frame, trains an
H2ODeepLearningEstimator (its public API, nothing below it) and keeps the model's handle in
``model_``; predictions come back from the cloud's scoring of an uploaded frame.

Validation is scikit-learn's own (``validate_data``: shapes, dtypes, feature names, inf), once,
at the boundary; the deep-learning parameters are checked by the node when fit sends them, as
scikit-learn checks parameters in fit and never in ``__init__`` or ``set_params``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

RESPONSE = "response"


def _ensure_connected() -> None:
    """Use the cloud the client is connected to; with none, h2ocloud.init() (which starts a
    local node when none answers at localhost:54321)."""
    from h2ocloud.client import session

    if session._current is None:
        session.init()


def _columns(n: int) -> list[str]:
    return [f"C{i + 1}" for i in range(n)]


def _frame(X: np.ndarray, y: Any = None):
    """The validated rows as a frame in the cloud (a temporary: removed when dropped)."""
    import pandas as pd

    from h2ocloud.client.frame import H2OFrame

    df = pd.DataFrame(np.asarray(X, dtype=np.float64), columns=_columns(X.shape[1]))
    types = None
    if y is not None:
        df[RESPONSE] = y
        types = {RESPONSE: "enum"} if y.dtype == object else None
    return H2OFrame(df, column_types=types)


class _H2ODeepLearningBase(BaseEstimator):
    """The parameters every wrapper shares: the names and defaults of
    H2ODeepLearningEstimator (the booklet's appendix A). ``hidden`` is a tuple, as scikit-learn
    wants immutable defaults. ``verbose`` shows the training job's progress bar."""

    def __init__(self, hidden: tuple[int, ...] = (200, 200), activation: str = "Tanh", epochs: float = 10.0,
                 seed: int | None = None, reproducible: bool = False, adaptive_rate: bool = True,
                 rho: float = 0.99, epsilon: float = 1e-8, rate: float = 0.005, rate_annealing: float = 1e-6,
                 rate_decay: float = 1.0, momentum_start: float = 0.0, momentum_ramp: float = 1e6,
                 momentum_stable: float = 0.0, nesterov_accelerated_gradient: bool = True,
                 input_dropout_ratio: float = 0.0, hidden_dropout_ratios: tuple[float, ...] | None = None,
                 l1: float = 0.0, l2: float = 0.0, max_w2: float = math.inf,
                 initial_weight_distribution: str = "UniformAdaptive", initial_weight_scale: float = 1.0,
                 loss: str = "Automatic", train_samples_per_iteration: int = -1, standardize: bool = True,
                 stopping_rounds: int = 5, stopping_metric: str = "AUTO", stopping_tolerance: float = 0.0,
                 max_runtime_secs: float = 0.0, score_each_iteration: bool = False,
                 variable_importances: bool = False, shuffle_training_data: bool = False,
                 verbose: bool = False):
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.seed = seed
        self.reproducible = reproducible
        self.adaptive_rate = adaptive_rate
        self.rho = rho
        self.epsilon = epsilon
        self.rate = rate
        self.rate_annealing = rate_annealing
        self.rate_decay = rate_decay
        self.momentum_start = momentum_start
        self.momentum_ramp = momentum_ramp
        self.momentum_stable = momentum_stable
        self.nesterov_accelerated_gradient = nesterov_accelerated_gradient
        self.input_dropout_ratio = input_dropout_ratio
        self.hidden_dropout_ratios = hidden_dropout_ratios
        self.l1 = l1
        self.l2 = l2
        self.max_w2 = max_w2
        self.initial_weight_distribution = initial_weight_distribution
        self.initial_weight_scale = initial_weight_scale
        self.loss = loss
        self.train_samples_per_iteration = train_samples_per_iteration
        self.standardize = standardize
        self.stopping_rounds = stopping_rounds
        self.stopping_metric = stopping_metric
        self.stopping_tolerance = stopping_tolerance
        self.max_runtime_secs = max_runtime_secs
        self.score_each_iteration = score_each_iteration
        self.variable_importances = variable_importances
        self.shuffle_training_data = shuffle_training_data
        self.verbose = verbose

    _NOT_H2O = ("verbose",)

    def _h2o_params(self) -> dict[str, Any]:
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in self._NOT_H2O}
        for k in ("hidden", "hidden_dropout_ratios"):
            if params[k] is not None:
                params[k] = [v.item() if hasattr(v, "item") else v for v in params[k]]
        if isinstance(params["hidden"], int):
            params["hidden"] = [params["hidden"]]
        return params

    def _train(self, X: np.ndarray, y: Any, estimator_cls: Any = None):
        from h2ocloud.client.models import H2OAutoEncoderEstimator, H2ODeepLearningEstimator

        if X.shape[0] < 2:  # nothing varies in one row: every column would be dropped as constant
            raise ValueError(f"n_samples={X.shape[0]}: {type(self).__name__} needs at least 2 samples")
        _ensure_connected()
        fr = _frame(X, y)
        cls = estimator_cls or H2ODeepLearningEstimator
        est = cls(**self._h2o_params())
        est.train(x=_columns(X.shape[1]), y=None if cls is H2OAutoEncoderEstimator else RESPONSE,
                  training_frame=fr, progress=bool(self.verbose))
        self.model_ = est
        self.model_id_ = est.model_id
        self.n_iter_ = len(est.scoring_history())  # scoring rounds, as sklearn's iterative models report
        return est

    def _predict_frame(self, X: Any, kind: str = "predict", **extra: Any):
        """The model's output on X as a pandas frame (rows in order)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        _ensure_connected()
        fr = _frame(X)
        model = self.model_
        out = {"predict": model.predict, "anomaly": model.anomaly,
               "deepfeatures": lambda f: model.deepfeatures(f, extra["layer"])}[kind](fr)
        return out.as_data_frame()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values: mean imputation, as H2O does
        # Several threads are not repeatable bit for bit; a seed with reproducible=True is.
        tags.non_deterministic = not (self.reproducible and self.seed is not None)
        return tags


class H2ODeepLearningClassifier(ClassifierMixin, _H2ODeepLearningBase):
    """H2O deep learning for classes (two or more). ``predict`` is the most probable class
    (scikit-learn's rule; h2o-py's binomial predict uses the max-F1 threshold instead).

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_`` (pandas
    input), ``model_`` (the H2ODeepLearningEstimator trained in the cloud), ``model_id_``.
    """

    def fit(self, X: Any, y: Any) -> H2ODeepLearningClassifier:
        """Train on X (n_samples, n_features) and class labels y."""
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} can't train when only one class is present "
                             f"(y holds only {self.classes_[0]!r})")
        # Level names that sort in class order, so the probability columns come out in it.
        width = len(str(len(self.classes_)))
        levels = np.array([f"L{c:0{width}d}" for c in codes], dtype=object)
        self._levels = [f"L{c:0{width}d}" for c in range(len(self.classes_))]
        self._train(X, levels)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class (columns in ``classes_`` order)."""
        df = self._predict_frame(X)
        return df[self._levels].to_numpy(dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        proba = self.predict_proba(X)  # first: it says NotFittedError before classes_ exists
        return self.classes_[np.argmax(proba, axis=1)]


class H2ODeepLearningRegressor(RegressorMixin, _H2ODeepLearningBase):
    """H2O deep learning for a numeric target (gaussian; ``score`` is R^2)."""

    def fit(self, X: Any, y: Any) -> H2ODeepLearningRegressor:
        """Train on X (n_samples, n_features) and numeric targets y."""
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan", y_numeric=True)
        self._train(X, np.asarray(y, dtype=np.float64))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted target of each row."""
        return self._predict_frame(X)["predict"].to_numpy(dtype=np.float64)


class H2OAutoEncoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _H2ODeepLearningBase):
    """An H2O autoencoder as a transformer: ``transform`` gives the activations of the middle
    hidden layer (``feature_layer_``, 0-based: the bottleneck of a symmetric network such as
    hidden=(50, 10, 50)), ``deepfeatures(X, layer)`` those of any layer, and
    ``reconstruction_error`` the per-row MSE (h2o-py's ``anomaly``)."""

    def fit(self, X: Any, y: Any = None) -> H2OAutoEncoderTransformer:
        """Train the autoencoder on X (y is ignored)."""
        from h2ocloud.client.models import H2OAutoEncoderEstimator

        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self._train(X, None, H2OAutoEncoderEstimator)
        self.hidden_ = [int(h) for h in self._h2o_params()["hidden"]]
        self.feature_layer_ = len(self.hidden_) // 2
        self._n_features_out = self.hidden_[self.feature_layer_]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The activations of the middle hidden layer (``feature_layer_``) for each row."""
        return self.deepfeatures(X, self.feature_layer_)

    def deepfeatures(self, X: Any, layer: int) -> np.ndarray:
        """The activations of hidden layer ``layer`` (0-based) for each row."""
        check_is_fitted(self, "model_")
        if not 0 <= int(layer) < len(self.hidden_):
            raise ValueError(f"layer must be in 0..{len(self.hidden_) - 1} (hidden has {len(self.hidden_)} "
                             f"layers), got {layer}")
        return self._predict_frame(X, "deepfeatures", layer=int(layer)).to_numpy(dtype=np.float64)

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Each row's reconstruction MSE (h2o-py's ``anomaly``): large for rows unlike the training data."""
        return self._predict_frame(X, "anomaly")["Reconstruction.MSE"].to_numpy(dtype=np.float64)
