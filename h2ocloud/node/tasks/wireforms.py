"""Wire forms of what map/reduce partials carry: a network's arrays, a metric builder.

JSON for the small fields and raw arrays as blobs (h2ocloud.wire): nothing is pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from h2ocloud import wire
from h2ocloud.kernel import Net, NetSpec


def net_to_wire(net: Net) -> tuple[dict[str, Any], list[np.ndarray]]:
    meta, blobs = wire.pack_arrays({k: np.asarray(v) for k, v in net.to_arrays().items()})
    return {"spec": net.spec.to_dict(), "arrays": meta}, blobs


def net_from_wire(head: dict[str, Any], blobs: list[Any]) -> Net:
    arrays = {k: np.array(v) for k, v in wire.unpack_arrays(head["arrays"], blobs).items()}
    return Net.from_arrays(NetSpec.from_dict(head["spec"]), arrays)


def builder_to_wire(b: Any) -> tuple[dict[str, Any], list[np.ndarray]]:
    d = b.to_arrays()
    arrays = {k: v for k, v in d.items() if isinstance(v, np.ndarray)}
    meta, blobs = wire.pack_arrays(arrays)
    return {"scalars": {k: v for k, v in d.items() if k not in arrays}, "arrays": meta}, blobs


def builder_from_wire(meta: dict[str, Any], blobs: list[Any]) -> Any:
    from h2ocloud.dl.metrics import builder_from_arrays

    d = dict(meta["scalars"])
    d.update({k: np.array(v) for k, v in wire.unpack_arrays(meta["arrays"], blobs).items()})
    return builder_from_arrays(d)
