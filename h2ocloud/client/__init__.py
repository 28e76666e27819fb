"""The Python client, with the names H2O's Python users know."""

from h2ocloud.client.frame import H2OFrame, assign, get_frame, import_file, ls, remove, upload_file
from h2ocloud.client.frame_ops import as_list, create_frame, export_file, frames, remove_all
from h2ocloud.client.jobs import cancel_job, list_jobs, no_progress, show_progress
from h2ocloud.client.models import (
    H2ODeepLearningModel,
    H2OEstimator,
    H2OModelMetrics,
    anomaly,
    deeplearning,
    download_pojo,
    get_model,
    load_model,
    predict,
    save_model,
)
from h2ocloud.client.session import H2OCluster, cluster, connection, init, shutdown
from h2ocloud.grid.grid_search import H2OGridSearch, get_grid  # noqa: E402  (needs the client above)
from h2ocloud.plot import plot_anomaly  # noqa: E402  (imports matplotlib only when it draws)

__all__ = [
    "init", "cluster", "connection", "shutdown", "H2OCluster",
    "H2OFrame", "import_file", "upload_file", "get_frame", "ls", "remove", "assign",
    "export_file", "as_list", "frames", "remove_all", "create_frame",
    "list_jobs", "cancel_job", "no_progress", "show_progress",
    "H2ODeepLearningEstimator", "H2OAutoEncoderEstimator", "H2OEstimator", "H2ODeepLearningModel", "H2OModelMetrics", "deeplearning", "predict", "anomaly", "download_pojo",
    "get_model", "save_model", "load_model", "H2OGridSearch", "get_grid",
    "plot_anomaly",
]


def __getattr__(name: str):
    # The estimators are generated from the parameter table (h2ocloud/estimators/deeplearning.py)
    # and import this package's models module, so they are looked up when first used.
    if name in ("H2ODeepLearningEstimator", "H2OAutoEncoderEstimator"):
        from h2ocloud.estimators import deeplearning

        return getattr(deeplearning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
