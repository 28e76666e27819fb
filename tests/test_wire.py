"""The message framing: a request's header is decoded once, and malformed blob sizes are named."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from h2ocloud import wire


async def _aiter(parts):
    for p in parts:
        yield p


def _server_side(parts):
    """What the node's service does: decode the first Part's header, then the rest."""
    async def run():
        it = _aiter(parts)
        first = await it.__anext__()
        header = wire.loads(first.header_json, "request header")
        return await wire.decode_rest_async(header, first, it)
    return asyncio.run(run())


def test_a_large_message_round_trips_and_its_header_is_decoded_once(monkeypatch):
    arr = np.arange(600_000, dtype=np.float32)  # 2.4 MB: three Parts
    parts = list(wire.encode({"op": "x", "args": {"names": [f"C{i}" for i in range(785)]}}, [arr, b"ab"]))
    assert len(parts) == 3
    calls = []
    real = json.loads
    monkeypatch.setattr(wire.json, "loads", lambda s, *a, **k: calls.append(1) or real(s, *a, **k))
    header, blobs = _server_side(parts)
    assert len(calls) == 1
    assert header["op"] == "x" and len(header["args"]["names"]) == 785 and "blobs" not in header
    assert np.array_equal(np.frombuffer(blobs[0], np.float32), arr) and blobs[1] == b"ab"
    assert wire.decode(parts) == (header, blobs)


@pytest.mark.parametrize("sizes", ["12", [1, "2"], [-1, 4], [True], {"a": 1}])
def test_malformed_blob_sizes_are_a_value_error(sizes):
    first = wire.pb.Part(header_json=json.dumps({"op": "x", "blobs": sizes}), data=b"abc")
    with pytest.raises(ValueError, match="'blobs' must be a list of byte counts"):
        _server_side([first])


def test_the_peers_async_decode_matches_the_blocking_one_and_names_an_empty_stream():
    parts = list(wire.encode({"op": "y", "args": {"k": 1}}, [np.arange(5, dtype=np.int64)]))

    async def decode(ps):
        return await wire.decode_async(_aiter(ps))

    assert asyncio.run(decode(parts)) == wire.decode(parts)
    with pytest.raises(ValueError, match="no header"):
        asyncio.run(decode([]))
