"""The node's operations: one registry that both the gRPC service and the REST API adapt.

Each operation is `async def handler(node, args: dict, blobs: list[bytes]) -> Reply`, registered
under a dotted name ("frames.import", "models.train", ...). Importing this package registers all
of them.
"""

from h2ocloud.node.ops.registry import OPS, Reply, dispatch, op  # noqa: F401


def register_all() -> None:
    """Import every module that registers operations or map/reduce tasks."""
    from h2ocloud.node.ops import cloud, dkv, frame_expr, grid, jobs, mr  # noqa: F401
    from h2ocloud.node.ops import frames as frame_ops  # noqa: F401
    from h2ocloud.node.ops import models as model_ops  # noqa: F401
    from h2ocloud.node.tasks import frame_expr as frame_expr_tasks  # noqa: F401
    from h2ocloud.node.tasks import frames, models, training_tasks  # noqa: F401  (their MRTasks)
