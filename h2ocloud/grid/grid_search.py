"""H2OGridSearch: the booklet's grid search (3.4) with h2o-py's names.

The grid itself lives in the cloud (a DKV value under ``grid_id``, built by a job on the node):
this object is a handle that reads it. Every method re-reads the grid, so a handle sees models
that a resumed or still running build added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from h2ocloud.client.frame import H2OFrame
from h2ocloud.client.jobs import wait_job
from h2ocloud.client.models import (
    H2ODeepLearningModel,
    H2OEstimator,
    _frame_id,
    get_model,
)
from h2ocloud.client.session import connection


class H2OGridSearch:
    """Train one model per combination of hyper-parameter values.

    >>> g = H2OGridSearch(H2ODeepLearningEstimator(epochs=1), grid_id="dl_grid",
    ...                   hyper_params={"hidden": [[200, 200], [100, 300, 100]], "l1": [1e-5, 1e-7]})
    >>> g.train(x=cols, y="label", training_frame=train, validation_frame=valid)
    >>> g.get_grid(sort_by="logloss", decreasing=False).models[0]   # the best model

    ``search_criteria={"strategy": "RandomDiscrete", "max_models": N, "max_runtime_secs": S,
    "seed": s, "stopping_rounds": k, "stopping_metric": m, "stopping_tolerance": t}`` samples
    combinations at random instead of building all of them. ``parallelism`` builds up to that
    many models at once (on a cloud, from different nodes). Training again under the same
    ``grid_id`` builds only the models not built yet. Ctrl-C cancels the grid and keeps the
    models already built.
    """

    def __init__(self, model: H2OEstimator | type | None = None,
                 hyper_params: dict[str, Any] | None = None, grid_id: str | None = None,
                 search_criteria: dict[str, Any] | None = None, parallelism: int = 1):
        if isinstance(model, type):
            model = model()
        if model is not None and not isinstance(model, H2OEstimator):
            raise TypeError(f"model must be an H2ODeepLearningEstimator, got {type(model).__name__}")
        self.model = model
        self.hyper_params = dict(hyper_params or {})
        self.grid_id = grid_id
        self.search_criteria = dict(search_criteria) if search_criteria else None
        self.parallelism = parallelism
        self._grid: dict[str, Any] | None = None
        self._sort: tuple[str | None, bool | None] = (None, None)

    # ---- building ------------------------------------------------------------------------
    def train(self, x: Sequence[str] | str | None = None, y: str | None = None,
              training_frame: H2OFrame | None = None, validation_frame: H2OFrame | None = None,
              progress: bool | None = None, **params: Any) -> H2OGridSearch:
        """Build the grid's models (those not built yet under this grid_id); the grid's
        parameters that are not hyper-parameters come from the estimator and ``params``."""
        if training_frame is None:
            raise ValueError("training_frame is required")
        from h2ocloud.client.models import resolve_columns

        x, y = resolve_columns(x, y, training_frame)  # names, or positions as in h2o-py
        base = {**(self.model._parms if self.model is not None else {}), **params}
        args = {"params": base, "hyper_params": self.hyper_params, "search_criteria": self.search_criteria,
                "grid_id": self.grid_id, "parallelism": self.parallelism,
                "x": list(x) if x is not None else None, "y": y,
                "training_frame": _frame_id(training_frame, "training_frame"),
                "validation_frame": _frame_id(validation_frame, "validation_frame")}
        result, _ = connection().call("grids.train", args)
        self.grid_id = result["grid_id"]
        wait_job(result["job"], progress=progress)
        self._refresh()
        return self

    # ---- reading -------------------------------------------------------------------------
    def _refresh(self) -> dict[str, Any]:
        if self.grid_id is None:
            raise ValueError("the grid has not been trained yet (no grid_id)")
        sort_by, decreasing = self._sort
        args: dict[str, Any] = {"grid_id": self.grid_id}
        if sort_by is not None:
            args["sort_by"] = sort_by
        if decreasing is not None:
            args["decreasing"] = decreasing
        self._grid, _ = connection().call("grids.get", args)
        return self._grid

    def get_grid(self, sort_by: str | None = None, decreasing: bool | None = None) -> H2OGridSearch:
        """The grid with its models sorted by ``sort_by`` (logloss, auc, mse, rmse, mae, r2, err,
        mean_per_class_error, deviance): by cross-validation metrics when the models have them,
        else validation, else training. ``decreasing`` defaults to best first."""
        g = H2OGridSearch(self.model, self.hyper_params, self.grid_id, self.search_criteria, self.parallelism)
        g._sort = (sort_by, decreasing)
        g._refresh()
        return g

    @property
    def _data(self) -> dict[str, Any]:
        return self._refresh()

    @property
    def hyper_names(self) -> list[str]:
        return list(self._data["hyper_names"])

    @property
    def model_ids(self) -> list[str]:
        return [m["model_id"] for m in self._data["models"]]

    @property
    def models(self) -> list[H2ODeepLearningModel]:
        return [get_model(mid) for mid in self.model_ids]

    def __len__(self) -> int:
        return len(self._data["models"])

    def __getitem__(self, i: int) -> H2ODeepLearningModel:
        return self.models[i]

    def __iter__(self):
        return iter(self.models)

    def get_hyperparams(self, id: int | str, display: bool = True) -> list[Any]:
        """The hyper-parameter values of model ``id`` (an index into the sorted models, or a model id)."""
        hyper = self.get_hyperparams_dict(id, display=False)
        if display:
            print(f"Hyperparameters: {list(hyper)}")
        return list(hyper.values())

    def get_hyperparams_dict(self, id: int | str, display: bool = True) -> dict[str, Any]:
        data = self._data
        models = data["models"]
        entry = models[id] if isinstance(id, int) else next((m for m in models if m["model_id"] == id), None)
        if entry is None:
            raise KeyError(f"no model {id!r} in grid {self.grid_id!r}")
        hyper = {k: entry["hyper"].get(k) for k in data["hyper_names"]}
        if display:
            print(f"Hyperparameters: {hyper}")
        return hyper

    def sorted_metric_table(self):
        """One row a model, best first: the hyper-parameters, the model id and the sort metric."""
        import pandas as pd

        data = self._data
        key, source = data["sort_by"], data["metrics_source"]
        rows = []
        for m in data["models"]:
            row = {k: m["hyper"].get(k) for k in data["hyper_names"]}
            row["model_ids"] = m["model_id"]
            row[key] = ((m.get("metrics") or {}).get(source) or {}).get(key)
            rows.append(row)
        return pd.DataFrame(rows, columns=[*data["hyper_names"], "model_ids", key])

    def summary(self, header: bool = True):
        """Print and return the summary table (the hyper-parameters that vary, the metric)."""
        table = self.sorted_metric_table()
        data = self._grid or {}
        if header:
            print(f"Hyper-Parameter Search Summary: ordered by {'decreasing' if data.get('decreasing') else 'increasing'} "
                  f"{data.get('sort_by')} ({data.get('metrics_source')} metrics)")
        print(table.to_string(index=False))
        return table

    def _tables(self) -> list[Any]:
        """The summary table (hyper-parameters, model id, metric; best first) and the failures."""
        from h2ocloud.two_dim_table import H2OTwoDimTable

        summary = self.sorted_metric_table()  # re-reads the grid
        data = self._grid or {}
        order = "decreasing" if data.get("decreasing") else "increasing"
        tables = [H2OTwoDimTable.from_data_frame(
            summary,
            f"Hyper-Parameter Search Summary: ordered by {order} {data.get('sort_by')}",
            f"{data.get('metrics_source')} metrics")]
        if self.failed_params:
            tables.append(H2OTwoDimTable("Failed models", col_header=["params", "failure"],
                                         cell_values=[[str(p), why] for p, why in
                                                      zip(self.failed_params, self.failure_details)]))
        return tables

    def __str__(self) -> str:
        if self._grid is None:
            return repr(self)
        return "\n\n".join(repr(t) for t in self._tables())

    def show(self) -> None:
        """Print the summary (and any failed models) as aligned tables."""
        print(self)

    def _repr_html_(self) -> str:
        if self._grid is None:
            import html

            return f"<pre>{html.escape(repr(self))}</pre>"
        return "".join(t._repr_html_() for t in self._tables())

    def __repr__(self) -> str:
        if self._grid is None:
            return f"H2OGridSearch(grid_id={self.grid_id!r}, hyper_params={self.hyper_params!r})"
        return (f"H2OGridSearch(grid_id={self.grid_id!r}, {len(self._grid['models'])} models, "
                f"{len(self._grid['failures'])} failures)")

    # ---- failures (h2o-py's names) -------------------------------------------------------
    @property
    def failed_params(self) -> list[dict[str, Any]]:
        return [dict(f["hyper"]) for f in self._data["failures"]]

    @property
    def failure_details(self) -> list[str]:
        return [f["error"] for f in self._data["failures"]]

    @property
    def failure_stack_traces(self) -> list[str]:
        return [f["stack_trace"] for f in self._data["failures"]]

    # ---- metrics of every model, keyed by model id (h2o-py) ------------------------------
    def _metric(self, key: str, train: bool, valid: bool, xval: bool) -> dict[str, Any]:
        which = "xval" if xval else "valid" if valid else "train"
        return {m["model_id"]: ((m.get("metrics") or {}).get(which) or {}).get(key) for m in self._data["models"]}

    def logloss(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("logloss", train, valid, xval)

    def auc(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("auc", train, valid, xval)

    def mse(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("mse", train, valid, xval)

    def rmse(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("rmse", train, valid, xval)

    def r2(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("r2", train, valid, xval)

    def classification_error(self, train: bool = False, valid: bool = False, xval: bool = False) -> dict[str, Any]:
        return self._metric("classification_error", train, valid, xval)


def get_grid(grid_id: str) -> H2OGridSearch:
    """A handle on a grid in the cloud (NotFound when there is none)."""
    g = H2OGridSearch(grid_id=grid_id)
    data = g._refresh()
    g.hyper_params = dict(data.get("hyper_params") or {})
    g.search_criteria = data.get("search_criteria")
    return g
