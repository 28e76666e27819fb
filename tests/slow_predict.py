"""A map/reduce task the tests register in their daemons (``--preload tests.slow_predict``): the
node's frame.derive with every chunk of a prediction slowed down, so a test can kill a node
while a prediction runs. Production code carries no such delay. (tests.slow_tasks adds a slow
frame.colsum to this; a test that checks frames with frame.colsum while it kills nodes during
predictions preloads this module alone, so its checks run at full speed.)"""

from __future__ import annotations

import time

from h2ocloud.node.tasks.frames import DeriveTask
from h2ocloud.node.tasks.mrtask import TASKS

DELAY_S = 0.1  # per chunk


class SlowDerive(DeriveTask):
    """frame.derive with every chunk of a prediction taking DELAY_S longer (other kinds as they are)."""

    def map(self, ctx, index, chunk):
        if self.args.get("kind") == "predict":
            time.sleep(DELAY_S)
        return super().map(ctx, index, chunk)


TASKS["frame.derive"] = SlowDerive  # replaces the node's own for this daemon
