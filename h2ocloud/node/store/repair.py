"""Periodic repair: a re-replication round every --repair-interval seconds.

Re-replication runs on every membership change, which heals what a change leaves behind. A copy
can also go missing while membership stands still: a write to a home that was late and whose
detached call then failed, or a removal that reached one home of a key and not the other. Without
a change nothing would look at such a key again, so each node also runs the same round on a
timer (H2O's cloud has no such gap to fill: it stops when a node dies). A round asks each home
which of this node's keys it lacks, with the stamps of our copies, so it both pushes missing
copies and drops copies of keys the cloud removed meanwhile; with every key in place it costs one
small message per peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from h2ocloud.node.store.dkv import DKV

log = logging.getLogger("h2ocloud.dkv")


class PeriodicRepair:
    """Runs dkv.schedule_rebalance() every `interval` seconds while the cloud has peers."""

    def __init__(self, dkv: DKV, interval: float):
        self.dkv = dkv
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start(self) -> PeriodicRepair:
        if self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return self

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if len(self.dkv.node.membership.members) > 1:
                self.dkv.schedule_rebalance()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
