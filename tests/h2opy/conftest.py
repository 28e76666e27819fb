"""Fixtures of the h2o-py compatibility tests: every test runs on a 1-node and a 3-node cloud."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["cloud1", "cloud3"])
def h2o(request):
    """The client (`import h2ocloud as h2o`), connected to a 1-node or a 3-node cloud."""
    import h2ocloud

    cloud = request.getfixturevalue(request.param)
    h2ocloud.init(url=cloud.nodes[0].url)
    return h2ocloud
