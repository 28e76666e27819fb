"""The node's operations, in two tables (tables.py): CLIENT_OPS for clients and the REST API,
PEER_OPS for cloud members. Each operation is `async def handler(node, args: ItsArgs, blobs)`,
its arguments parsed into the frozen dataclass ItsArgs once (schema.py) by `dispatch`.
"""

from h2ocloud.node.ops.registry import Op, OpRefused, OpTable, Reply, dispatch  # noqa: F401


def register_all() -> None:
    """Import the map/reduce tasks (they register by name when their module is imported)."""
    from h2ocloud.node.tasks import frame_expr as frame_expr_tasks  # noqa: F401
    from h2ocloud.node.tasks import frames, models, training_tasks  # noqa: F401  (their MRTasks)
