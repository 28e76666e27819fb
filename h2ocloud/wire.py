"""Framing: one operation request or reply as a stream of protobuf `Part`s.

A message is a JSON header plus a list of binary blobs (raw numpy bytes). The first Part holds the
header (with the blob sizes); the concatenated blob bytes follow in pieces of at most PIECE bytes,
so a value of any size travels without meeting gRPC's 4 MiB message limit. Nothing is pickled:
arrays go as raw bytes with dtype and shape in the JSON header (see pack_arrays).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import numpy as np

from h2ocloud._proto.h2ocloud.v1 import h2ocloud_pb2 as pb

PIECE = 1 << 20  # 1 MiB: well under gRPC's default 4 MiB receive limit

Blob = bytes | bytearray | memoryview


def _as_bytes_view(blob: Blob | np.ndarray) -> memoryview:
    if isinstance(blob, np.ndarray):
        return memoryview(np.ascontiguousarray(blob)).cast("B")
    return memoryview(blob).cast("B")


def encode(header: dict[str, Any], blobs: Iterable[Blob | np.ndarray] = ()) -> Iterator[pb.Part]:
    """Yield the Parts of one message."""
    views = [_as_bytes_view(b) for b in blobs]
    head = dict(header)
    head["blobs"] = [len(v) for v in views]
    first = pb.Part(header_json=json.dumps(head, default=_json_default))
    pending = first
    room = PIECE
    buf: list[bytes] = []
    for v in views:
        pos = 0
        while pos < len(v):
            take = min(room, len(v) - pos)
            buf.append(bytes(v[pos : pos + take]))
            pos += take
            room -= take
            if room == 0:
                pending.data = b"".join(buf)
                yield pending
                pending, room, buf = pb.Part(), PIECE, []
    pending.data = b"".join(buf)
    yield pending


def loads(text: str | bytes, what: str = "message header") -> Any:
    """json.loads for text that came over the network: malformed or too deeply nested JSON
    (json's recursion, 100k-deep arrays) is a ValueError naming `what`, never a RecursionError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} is not valid JSON: {e}") from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply (JSON arrays or objects nested beyond "
                         f"{sys.getrecursionlimit()} levels)") from None


def _split(header_json: str, data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    return _cut(_header(header_json), data)


def _header(header_json: str) -> dict[str, Any]:
    if not header_json:
        raise ValueError("malformed message: the first part has no header")
    header = loads(header_json)
    if not isinstance(header, dict):
        raise ValueError("malformed message: the header is not a JSON object")
    return header


def _cut(header: dict[str, Any], data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The header without its blob sizes, and the blobs cut from the concatenated bytes."""
    sizes = header.pop("blobs", [])
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise ValueError("malformed message: 'blobs' must be a list of byte counts")
    if sum(sizes) != len(data):
        raise ValueError(f"malformed message: header announces {sum(sizes)} bytes, got {len(data)}")
    blobs, pos = [], 0
    for n in sizes:
        blobs.append(data[pos : pos + n])
        pos += n
    return header, blobs


def decode(parts: Iterable[pb.Part]) -> tuple[dict[str, Any], list[bytes]]:
    """Reassemble one message from its Parts (blocking iterator)."""
    header_json, chunks = "", []
    for i, part in enumerate(parts):
        if i == 0:
            header_json = part.header_json
        chunks.append(part.data)
    return _split(header_json, b"".join(chunks))


async def decode_async(parts: AsyncIterator[pb.Part]) -> tuple[dict[str, Any], list[bytes]]:
    """Reassemble one message from its Parts (async iterator)."""
    it = parts.__aiter__()
    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        raise ValueError("malformed message: the first part has no header") from None
    return await decode_rest_async(_header(first.header_json), first, it)


async def decode_rest_async(header: dict[str, Any], first: pb.Part,
                            parts: AsyncIterator[pb.Part]) -> tuple[dict[str, Any], list[bytes]]:
    """Reassemble a message whose first Part's header the caller has decoded already (``header``:
    it is not decoded twice, which for a wide frame's header was milliseconds a call)."""
    chunks = [first.data]
    async for part in parts:
        chunks.append(part.data)
    return _cut(header, b"".join(chunks))


def pack_arrays(arrays: dict[str, np.ndarray], start: int = 0) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Describe named arrays in JSON (dtype, shape, blob index) and list their buffers as blobs."""
    meta, blobs = {}, []
    for i, (name, arr) in enumerate(arrays.items()):
        arr = np.ascontiguousarray(arr)
        if arr.dtype == object:
            raise TypeError(f"array {name!r} has dtype object, which cannot travel without pickling")
        meta[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "blob": start + i}
        blobs.append(arr)
    return meta, blobs


def unpack_arrays(meta: dict[str, Any], blobs: list[bytes]) -> dict[str, np.ndarray]:
    """Inverse of pack_arrays (arrays are read-only views over the received bytes)."""
    out = {}
    for name, m in meta.items():
        dtype = np.dtype(m["dtype"])
        if dtype.hasobject:
            raise ValueError(f"array {name!r}: object dtype refused")
        out[name] = np.frombuffer(blobs[m["blob"]], dtype=dtype).reshape(m["shape"])
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def dumps(obj: Any) -> str:
    """json.dumps that understands numpy scalars and arrays (NaN allowed)."""
    return json.dumps(obj, default=_json_default)
