"""H2O-3's elastic averaging (``elastic_averaging``, after Zhang, Choromanska & LeCun,
arXiv:1412.6651), as hex.deeplearning.DeepLearningTask and DeepLearningModelInfo do it:

* every node keeps training its OWN model across iterations (DeepLearningTask.setupLocal loads
  the node's local model rather than starting from the averaged one); a node without one yet
  (the first iteration, or a node that just joined the job) starts from a copy of the model
  it was sent, without the elastic force that iteration;
* while training, each weight update is pulled toward the consensus model it was sent:
  ``grad -= elastic_averaging_regularization * (w - w_consensus)`` (Neurons.bprop; weights
  only, as there), see the kernel's ``elastic`` argument;
* the iteration's reduce averages the nodes' models as usual, and the new consensus -- "the"
  model, the one scored and kept -- is the time average (DeepLearningModelInfo.timeAverage):
  ``consensus = rate * average + (1 - rate) * consensus``, the first one being the average.

On one node the same happens with a single local model: H2O-3 runs the same task there.
:class:`ElasticWorker` is a node's side, :class:`ElasticAverager` the driver's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from h2ocloud.kernel import Net


class ElasticAverager:
    """The driver's consensus model: the time average of the iterations' node averages."""

    def __init__(self, moving_rate: float) -> None:
        self.rate = float(moving_rate)
        self.consensus: Net | None = None

    def update(self, average: Net) -> Net:
        """The new consensus from this iteration's average of the nodes' models (a new Net:
        nets returned earlier are left as they were)."""
        prev = self.consensus
        if prev is None or self.rate == 1.0 or prev.spec != average.spec:
            new = average.copy()
        else:
            a, r = np.float64(self.rate), np.float64(1.0 - self.rate)
            w, o1, o2 = ((a * getattr(average, k) + r * getattr(prev, k)).astype(np.float32)
                         for k in ("weights", "opt1", "opt2"))
            new = Net(average.spec, w, o1, o2, average.samples_seen)
        self.consensus = new
        return new


class ElasticWorker:
    """A node's own model under elastic averaging (kept between iterations of one job)."""

    def __init__(self, regularization: float, moving_rate: float) -> None:
        self.regularization = float(regularization)
        self.local: Net | None = None
        # Used where this node is the whole cloud (LocalBackend): it is then also the driver.
        self.averager = ElasticAverager(moving_rate)

    @classmethod
    def for_params(cls, p: Mapping[str, Any]) -> ElasticWorker | None:
        """A worker when the parameters ask for elastic averaging, else None."""
        if not p.get("elastic_averaging"):
            return None
        return cls(p["elastic_averaging_regularization"], p["elastic_averaging_moving_rate"])

    def local_model(self, consensus: Net) -> tuple[Net, Net | None]:
        """(the model this node trains, the consensus its updates are pulled toward or None):
        its own model when it has one of the consensus's shape (its sample count set to the
        cloud's, which drives rate annealing and the momentum ramp), else a copy of the
        consensus and no pull (H2O-3's first iteration)."""
        own = self.local
        if own is None or own.spec != consensus.spec:
            return consensus.copy(), None
        own.samples_seen = consensus.samples_seen
        return own, consensus

    def keep(self, net: Net) -> None:
        """Remember the model this node trained, to continue from it next iteration."""
        self.local = net

    def kernel_args(self, anchor: Net | None) -> dict[str, Any]:
        """train_hogwild's keyword arguments for the pull toward ``anchor`` (none without one)."""
        if anchor is None:
            return {}
        return {"elastic": anchor.weights, "elastic_reg": self.regularization}
