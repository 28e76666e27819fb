"""The plot result h2o-py 3.46 returns, and importing pyplot with a clear error when absent."""

from __future__ import annotations

from typing import Any

INSTALL_HINT = "plotting needs matplotlib, the optional 'plot' extra: pip install 'h2ocloud[plot]'"


def get_matplotlib_pyplot(server: bool = False) -> Any:
    """matplotlib.pyplot; with ``server`` the off-screen Agg backend. ImportError naming the
    extra to install when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    if server:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class PlotResult:
    """What a plot returns when it has no other value: ``.figure()`` gives the figure."""

    def __init__(self, figure: Any):
        self._figure = figure

    def figure(self) -> Any:
        return self._figure

    def __repr__(self) -> str:
        return f"PlotResult({self._figure!r})"


def decorate_plot_result(res: Any = None, figure: Any = None) -> Any:
    """h2o-py's contract: the plot's value (None, or e.g. a list) with a ``figure()`` method
    returning the matplotlib figure added."""
    if res is None:
        return PlotResult(figure)
    wrapped = type(f"Plot{type(res).__name__.title()}", (type(res),), {})(res) \
        if isinstance(res, list | tuple | dict | str) else res
    wrapped.figure = lambda: figure
    wrapped._is_decorated_plot_result = True
    return wrapped


def is_decorated_plot_result(obj: Any) -> bool:
    return isinstance(obj, PlotResult) or hasattr(obj, "_is_decorated_plot_result")


def finish(plt: Any, fig: Any, server: bool, save_plot_path: str | None, res: Any = None) -> Any:
    """Save (save_plot_path), show (unless server or a non-interactive backend), decorate."""
    import os

    import matplotlib

    fig.tight_layout()
    if save_plot_path is not None:
        path = os.path.abspath(os.path.expanduser(str(save_plot_path)))
        if not os.path.isdir(os.path.dirname(path)):
            raise FileNotFoundError(f"save_plot_path: no such directory {os.path.dirname(path)}")
        fig.savefig(path)
    if not server and matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        plt.show()
    return decorate_plot_result(res, fig)
