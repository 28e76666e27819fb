"""The model plots h2o-py draws (scoring history, variable importances, learning curve) and the
booklet's per-row reconstruction error (``plot.ts(recon_error)``).

Each reads what the cloud already computed (a model's scoring history and importances, an
autoencoder's per-row error frame): only the plotted series come to the client.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from h2ocloud.exceptions import H2OValueError
from h2ocloud.plot.result import finish, get_matplotlib_pyplot

TIMESTEPS = ("epochs", "samples", "iterations", "duration")


def _auto_metric(model: Any) -> str:
    kind = (model.model_category or "").lower()
    return "logloss" if kind in ("binomial", "multinomial") else "mse" if kind == "autoencoder" else "rmse"


def _history(model: Any):
    history = model.scoring_history()
    if history.empty:
        raise H2OValueError(f"model {model.model_id} has no scoring history (is it trained?)", var_name="model")
    return history


def _metric_column(history: Any, metric: str, model: Any) -> str:
    """The metric's name as the history's ``training_<metric>`` columns spell it."""
    m = str(metric).lower()
    if m == "auto":
        m = _auto_metric(model)
    if m == "deviance" and "training_deviance" not in history:  # gaussian: the deviance is the MSE
        m = "mean_residual_deviance" if "training_mean_residual_deviance" in history else "mse"
    if f"training_{m}" not in history:
        have = sorted(c.removeprefix("training_") for c in history.columns if c.startswith("training_"))
        raise H2OValueError(f"metric must be one of {', '.join(have)} (or AUTO) for this model, got {metric!r}",
                            var_name="metric")
    return m


def _timestep(history: Any, timestep: str) -> str:
    t = "epochs" if str(timestep).upper() == "AUTO" else str(timestep).lower()
    if t not in TIMESTEPS or t not in history:
        raise H2OValueError(f"timestep must be AUTO or one of {', '.join(TIMESTEPS)}, got {timestep!r}",
                            var_name="timestep")
    return t


def scoring_history_plot(model: Any, timestep: str = "AUTO", metric: str = "AUTO", server: bool = False,
                         save_plot_path: str | None = None) -> Any:
    """The model's scoring history: ``metric`` on the training (and validation) data against
    ``timestep`` (epochs by default, or samples, iterations, duration). h2o-py's ``m.plot()``."""
    history = _history(model)
    m, t = _metric_column(history, metric, model), _timestep(history, timestep)
    plt = get_matplotlib_pyplot(server)
    fig, ax = plt.subplots(figsize=(8, 5))
    _training_and_validation(ax, history, t, m)
    _label(ax, f"Scoring History: {model.model_id}", t, m)
    return finish(plt, fig, server, save_plot_path)


def _training_and_validation(ax: Any, history: Any, t: str, m: str, colors: Any = (None, None)) -> None:
    """The metric's training line and, where the model was validated, its validation line."""
    ax.plot(history[t], history[f"training_{m}"], "o-", color=colors[0], label="Training")
    if f"validation_{m}" in history and history[f"validation_{m}"].notna().any():
        ax.plot(history[t], history[f"validation_{m}"], "o-", color=colors[1], label="Validation")


def _label(ax: Any, title: str, x: str, y: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend()
    ax.grid(True, alpha=0.3)


def varimp_plot(model: Any, num_of_features: int | None = None, server: bool = False,
                save_plot_path: str | None = None) -> Any:
    """Horizontal bars of the scaled variable importances, the most important on top (the
    first ``num_of_features``, 10 by default). Needs a model trained with
    variable_importances=True."""
    vi = model.varimp()
    if not vi:
        raise H2OValueError(f"model {model.model_id} has no variable importances: train it with "
                            "variable_importances=True", var_name="model")
    n = 10 if num_of_features is None else int(num_of_features)
    if n < 1:
        raise H2OValueError(f"num_of_features must be >= 1, got {num_of_features}", var_name="num_of_features")
    rows = vi[:n]
    plt = get_matplotlib_pyplot(server)
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.4 * len(rows) + 1.5)))
    names = [r[0] for r in rows][::-1]
    ax.barh(names, [r[2] for r in rows][::-1], align="center")
    ax.set_title(f"Variable Importance: {model.model_id}")
    ax.set_xlabel("Scaled Importance")
    ax.set_xlim(0, 1.05)
    return finish(plt, fig, server, save_plot_path)


def learning_curve_plot(model: Any, metric: str = "AUTO", cv_ribbon: bool | None = None,
                        cv_lines: bool | None = None, figsize: tuple[float, float] = (16, 9),
                        colormap: str | None = None, save_plot_path: str | None = None,
                        server: bool = False) -> Any:
    """The learning curve as h2o-py's explain module draws it: ``metric`` against epochs on the
    training data, the validation data and, with nfolds, the cross-validation fold models'
    held-out folds (their mean with a mean +- sd ribbon, ``cv_ribbon``, and each fold's line,
    ``cv_lines``; by default the ribbon, and the lines when there is no ribbon)."""
    history = _history(model)
    m = _metric_column(history, metric, model)
    t = "epochs"
    folds = [f.scoring_history() for f in (model.cross_validation_models() or [])]
    folds = [f for f in folds if f"validation_{m}" in f and len(f)]
    cv_ribbon = bool(folds) if cv_ribbon is None else cv_ribbon and bool(folds)
    cv_lines = (bool(folds) and not cv_ribbon) if cv_lines is None else cv_lines and bool(folds)
    plt = get_matplotlib_pyplot(server)
    cmap = plt.get_cmap(colormap or "tab10")
    fig, ax = plt.subplots(figsize=figsize)
    _training_and_validation(ax, history, t, m, (cmap(0), cmap(1)))
    if folds:
        # The folds score at different epochs: compare them on the epochs every fold reached.
        grid = np.linspace(max(f[t].min() for f in folds), min(f[t].max() for f in folds), 50)
        curves = np.array([np.interp(grid, f[t].to_numpy(float), f[f"validation_{m}"].to_numpy(float))
                           for f in folds])
        if cv_lines:
            for i, c in enumerate(curves):
                ax.plot(grid, c, "--", color=cmap(2), alpha=0.5, linewidth=1,
                        label="Cross-validation folds" if i == 0 else None)
        mean, sd = curves.mean(axis=0), curves.std(axis=0)
        ax.plot(grid, mean, "-", color=cmap(2), label="Cross-validation")
        if cv_ribbon:
            ax.fill_between(grid, mean - sd, mean + sd, color=cmap(2), alpha=0.25)
    _label(ax, f"Learning Curve for {model.model_id}", t, m)
    return finish(plt, fig, server, save_plot_path)


def _error_values(errors: Any, column: str | None) -> tuple[np.ndarray, str]:
    from h2ocloud.client.frame import H2OFrame

    if isinstance(errors, H2OFrame):
        name = column or ("Reconstruction.MSE" if "Reconstruction.MSE" in errors.columns else errors.columns[0])
        if name not in errors.columns:
            raise H2OValueError(f"no column {name!r} in the errors frame", var_name="column")
        return errors[name].as_data_frame()[name].to_numpy(float), name
    if hasattr(errors, "columns"):  # a pandas DataFrame
        name = column or errors.columns[0]
        return np.asarray(errors[name], float), str(name)
    values = np.asarray(errors, float)
    if values.ndim != 1:
        raise H2OValueError(f"errors must be one column, got shape {values.shape}", var_name="errors")
    return values, column or getattr(errors, "name", None) or "Reconstruction.MSE"


def plot_anomaly(errors: Any, column: str | None = None, server: bool = False,
                 save_plot_path: str | None = None) -> Any:
    """The booklet's ``plot.ts(recon_error)``: an autoencoder's reconstruction error of each
    row, in row order (``errors``: the frame ``model.anomaly(data)`` returns, a pandas frame or
    series, or an array)."""
    values, name = _error_values(errors, column)
    plt = get_matplotlib_pyplot(server)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(np.arange(len(values)), values, "-", linewidth=1)
    ax.set_title("Reconstruction error per row")
    ax.set_xlabel("row")
    ax.set_ylabel(name)
    ax.grid(True, alpha=0.3)
    return finish(plt, fig, server, save_plot_path)
