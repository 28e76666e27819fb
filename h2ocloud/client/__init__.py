"""The Python client, with the names H2O's Python users know."""

from h2ocloud.client.session import H2OCluster, cluster, connection, init, shutdown

__all__ = ["init", "cluster", "connection", "shutdown", "H2OCluster"]
