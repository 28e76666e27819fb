"""The Python client, with the names H2O's Python users know."""

from h2ocloud.client.frame import (
    H2OFrame,
    assign,
    get_frame,
    import_file,
    ls,
    remove,
    remove_all,
    upload_file,
)
from h2ocloud.client.jobs import cancel_job, list_jobs, no_progress, show_progress
from h2ocloud.client.models import (
    H2ODeepLearningEstimator,
    H2ODeepLearningModel,
    H2OModelMetrics,
    deeplearning,
    get_model,
    load_model,
    save_model,
)
from h2ocloud.client.session import H2OCluster, cluster, connection, init, shutdown

__all__ = [
    "init", "cluster", "connection", "shutdown", "H2OCluster",
    "H2OFrame", "import_file", "upload_file", "get_frame", "ls", "remove", "remove_all", "assign",
    "list_jobs", "cancel_job", "no_progress", "show_progress",
    "H2ODeepLearningEstimator", "H2ODeepLearningModel", "H2OModelMetrics", "deeplearning",
    "get_model", "save_model", "load_model",
]
