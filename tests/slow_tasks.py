"""Map/reduce tasks the tests register in their daemons (``--preload tests.slow_tasks``): the node's
own tasks, slowed down, so a test can kill a node while a map is running: frame.colsum here, and
predictions' frame.derive from tests.slow_predict. Production code carries no such delay."""

from __future__ import annotations

import time

from h2ocloud.node.tasks.frames import ColumnSumTask
from h2ocloud.node.tasks.mrtask import TASKS
from tests.slow_predict import DELAY_S, SlowDerive  # noqa: F401  (registers the slow derive)


class SlowColumnSum(ColumnSumTask):
    """frame.colsum with every chunk's map taking DELAY_S longer."""

    def map(self, ctx, index, chunk):
        time.sleep(DELAY_S)
        return super().map(ctx, index, chunk)


TASKS["frame.colsum"] = SlowColumnSum  # replaces the node's own for this daemon
