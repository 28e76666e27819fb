"""What the cluster layer needs from the process that hosts it, and nothing more.

Membership, discovery and peer calls are given an object with these attributes (the Node is
one; a test may pass a SimpleNamespace). They never import the server: the layers below the
process see only this narrow view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from h2ocloud.node.cluster.membership import Membership
    from h2ocloud.node.cluster.peers import PeerClient
    from h2ocloud.node.config import NodeConfig


class StoreStats(Protocol):
    """How much this node holds (reported in its heartbeat status)."""

    @property
    def count(self) -> int: ...

    @property
    def nbytes(self) -> int: ...


class ClusterHost(Protocol):
    """The node as membership, discovery and peer calls see it."""

    node_id: str
    config: NodeConfig
    advertise_host: str
    grpc_port: int
    web_port: int
    data_dir: str
    started_ms: int
    peer_client: PeerClient
    membership: Membership

    @property
    def store(self) -> StoreStats:  # read-only here, so the node's full Store fits it
        ...
