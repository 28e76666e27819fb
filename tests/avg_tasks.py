"""A map/reduce task the tests and bench/averaging.py register in their daemons
(``--preload tests.avg_tasks``): a training iteration's reduce with no training before it.

``test.model_average`` is ``dl.iteration`` (its sample-weighted model average, its partial's wire
form) whose map hands back a made-up model instead of training one: each node's net is drawn from
args["seed"] (layers args["layers"], weights and both ADADELTA accumulators, as a trained net
travels) and weighs args["n"] samples; args["sleep"] (seconds, default 0) makes the map take
that long, so a test can kill a node while the tree waits on it. So a test knows every node's model and can check the
cloud's average against its own, and the benchmark times averaging alone, with no kernel running
to compete for this machine's cores. Production code carries no such task.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from h2ocloud.kernel import Net, NetSpec
from h2ocloud.kernel.layout import param_offsets
from h2ocloud.node.tasks.training_tasks import IterationPartial, TrainingIteration


@functools.lru_cache(maxsize=4)
def made_net(layers: tuple[int, ...], seed: int) -> Net:
    """The model a node hands back for (layers, seed): the same in every process."""
    spec = NetSpec(layers[0], tuple(layers[1:-1]), layers[-1])
    total = param_offsets(spec)[2]
    rng = np.random.default_rng(seed)
    w, o1, o2 = (rng.standard_normal(total, dtype=np.float32) for _ in range(3))
    return Net(spec, w, np.abs(o1), np.abs(o2))


class ModelAverage(TrainingIteration):
    """dl.iteration's reduce over made-up models (see the module's doc)."""

    name = "test.model_average"

    def map_node(self, ctx, indices):
        time.sleep(float(self.args.get("sleep", 0)))
        n = int(self.args["n"])
        net = made_net(tuple(int(v) for v in self.args["layers"]), int(self.args["seed"]))
        # samples_seen = n: every node's model starts from 0 samples, as an iteration's do from one.
        return IterationPartial(Net(net.spec, net.weights, net.opt1, net.opt2, n), n, [ctx.node.node_id],
                                list(indices), 0.0)
