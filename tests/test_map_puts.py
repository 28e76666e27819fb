"""The stores a map makes (MapContext.put, H2O's DKV.put(key, value, _fs)): they run while the
map goes on, map_local waits for all of them before the node's partial is returned, a failed
one fails the node's part by name, and a map's own error is not hidden by them."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import h2ocloud
from h2ocloud.errors import OutOfMemory
from h2ocloud.node.store.local import Value
from h2ocloud.node.tasks.mrtask import MapContext, MRTask, map_local
from tests.cloudfixture import start_cloud


class _SlowStore:
    """A DKV whose puts take a while on its own event loop thread; "bad/..." keys fail."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stored: dict[str, Value] = {}
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def put(self, key: str, value: Value) -> list[str]:
        await asyncio.sleep(0.05)
        if key.startswith("bad/"):
            raise OutOfMemory(f"storing {key!r} would pass --max-mem")
        self.stored[key] = value
        return ["n0"]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class _Writes(MRTask):
    name = "test.writes"

    def map_node(self, ctx: MapContext, indices: list[int]) -> list[str]:
        for key in self.args["keys"]:
            ctx.put(key, Value("test", {"k": key}))
        if self.args.get("fail"):
            raise ValueError("the map failed by itself")
        return list(self.args["keys"])

    def reduce(self, a, b):
        return a + b

    def to_wire(self, p):
        return {"keys": p}, []

    def from_wire(self, meta, blobs):
        return meta["keys"]


@pytest.fixture()
def store():
    s = _SlowStore()
    yield s
    s.close()


def _node(store: _SlowStore):
    return SimpleNamespace(dkv=store, config=SimpleNamespace(effective_nthreads=1))


def test_a_maps_puts_run_while_it_goes_on_and_are_all_stored_when_it_returns(store):
    keys = [f"k/{i}" for i in range(8)]
    t0 = time.perf_counter()
    got = map_local(_node(store), _Writes({"keys": keys}), None, [])
    took = time.perf_counter() - t0
    assert got == keys and sorted(store.stored) == keys
    assert took < 8 * 0.05  # side by side, not one after another


def test_a_failed_put_fails_the_nodes_part_by_name(store):
    with pytest.raises(OutOfMemory, match="'bad/1' would pass --max-mem"):
        map_local(_node(store), _Writes({"keys": ["k/0", "bad/1", "k/2"]}), None, [])
    assert sorted(store.stored) == ["k/0", "k/2"]  # the others were still waited for


def test_a_maps_own_error_is_the_one_reported(store):
    with pytest.raises(ValueError, match="the map failed by itself"):
        map_local(_node(store), _Writes({"keys": ["bad/0"], "fail": True}), None, [])


def test_predictions_past_max_mem_are_refused_by_name_and_the_node_serves_on():
    # Small whole numbers are stored a byte each (the frames: about 200 KB), the predictions'
    # probabilities four bytes each (about 320 KB for the big frame): past the cap only together.
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.integers(0, 10, size=(3000, 4)), columns=list("abcd"))
    df["label"] = np.where(df["a"] > 4, "p", "q")
    with start_cloud(1, args=["--max-mem", "400k"], persist=False) as cloud:
        h2ocloud.init(url=cloud.nodes[0].url)
        fr = h2ocloud.H2OFrame(df)
        m = h2ocloud.H2ODeepLearningEstimator(hidden=[4], epochs=1, seed=1, force_load_balance=False)
        m.train(x=list("abcd"), y="label", training_frame=fr)
        big = h2ocloud.H2OFrame(pd.concat([df] * 12, ignore_index=True))
        with pytest.raises(OutOfMemory, match=r"storing 'predict-\w+\.hex/chunk/\d+' .* past --max-mem"):
            m.predict(big)
        assert m.predict(fr).nrows == 3000  # still serving
