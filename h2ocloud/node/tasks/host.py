"""What the tasks layer (map/reduce, frame, model and training tasks) needs from its node.

Tasks are given an object with these attributes (the Node is one); they never import the
server. Modules here name it `Node` in their annotations for brevity: it is this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from h2ocloud.node.cluster.membership import Membership
    from h2ocloud.node.cluster.peers import PeerClient
    from h2ocloud.node.config import NodeConfig
    from h2ocloud.node.store.dkv import DKV
    from h2ocloud.node.store.local import Store
    from h2ocloud.node.tasks.jobs import JobManager
    from h2ocloud.node.tasks.models import ModelCache
    from h2ocloud.node.tasks.training_state import TrainingStates


class TaskHost(Protocol):
    """The node as map/reduce tasks and jobs see it."""

    node_id: str
    config: NodeConfig
    store: Store
    membership: Membership
    peer_client: PeerClient
    dkv: DKV
    jobs: JobManager
    model_cache: ModelCache
    training_states: TrainingStates
    data_dir: str

    async def run_in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
