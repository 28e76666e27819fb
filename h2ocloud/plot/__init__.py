"""Plots of models and frames with matplotlib, as h2o-py 3.46 draws them.

matplotlib is an optional extra (``pip install 'h2ocloud[plot]'``): without it a plot raises
ImportError saying so. Each plot returns what h2o-py returns, a result whose ``.figure()`` is
the matplotlib figure, and writes the picture to ``save_plot_path`` when given.
``server=True`` draws off-screen (the Agg backend) and never calls ``plt.show()``.
"""

from __future__ import annotations

from h2ocloud.plot.plots import (
    learning_curve_plot,
    plot_anomaly,
    scoring_history_plot,
    varimp_plot,
)
from h2ocloud.plot.result import (
    decorate_plot_result,
    get_matplotlib_pyplot,
    is_decorated_plot_result,
)

__all__ = ["decorate_plot_result", "is_decorated_plot_result", "get_matplotlib_pyplot",
           "scoring_history_plot", "varimp_plot", "learning_curve_plot", "plot_anomaly"]
