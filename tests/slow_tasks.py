"""Map/reduce tasks the tests register in their daemons (``--preload tests.slow_tasks``): the node's
own tasks, slowed down, so a test can kill a node while a map is running. Production code carries
no such delay."""

from __future__ import annotations

import time

from h2ocloud.node.tasks.frames import ColumnSumTask, DeriveTask
from h2ocloud.node.tasks.mrtask import TASKS

DELAY_S = 0.1  # per chunk


class SlowColumnSum(ColumnSumTask):
    """frame.colsum with every chunk's map taking DELAY_S longer."""

    def map(self, ctx, index, chunk):
        time.sleep(DELAY_S)
        return super().map(ctx, index, chunk)


TASKS["frame.colsum"] = SlowColumnSum  # replaces the node's own for this daemon


class SlowDerive(DeriveTask):
    """frame.derive with every chunk of a prediction taking DELAY_S longer (other kinds as they are)."""

    def map(self, ctx, index, chunk):
        if self.args.get("kind") == "predict":
            time.sleep(DELAY_S)
        return super().map(ctx, index, chunk)


TASKS["frame.derive"] = SlowDerive
