"""Temporary frames are removed from the cloud once the user's Python no longer references them.

As in h2o-py: each ``fr[...]``, ``asfactor()``, ``predict()`` or unnamed ``split_frame()`` makes a
frame in the cloud that only its handle knows about. The handle registers the frame here; when the
last live handle of that frame is garbage collected, the frame id is queued, and a background
thread removes it (within about a second), so the removal never runs inside the garbage collector.
Frames the user named (``destination_frame``, ``import_file``, ``h2o.assign``) are never tracked.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

_lock = threading.Lock()
_live: dict[str, int] = {}  # temporary frame id -> live handles
_pending: list[tuple[Any, str]] = []  # (connection, frame id) to remove
_wake = threading.Event()
_thread: threading.Thread | None = None
FLUSH_SECONDS = 0.5


def track(handle: Any, connection: Any) -> None:
    """Register ``handle`` as one more live handle of its (temporary) frame."""
    fid = handle.frame_id
    with _lock:
        _live[fid] = _live.get(fid, 0) + 1
    f = weakref.finalize(handle, _dropped, connection, fid)
    f.atexit = False  # at interpreter exit the frames stay, as h2o-py leaves them
    handle._temp_finalizer = f


def is_temporary(frame_id: str) -> bool:
    with _lock:
        return frame_id in _live


def untrack(handle: Any) -> None:
    """The handle's frame became a named one (h2o.assign): it no longer frees anything."""
    f = getattr(handle, "_temp_finalizer", None)
    if f is not None and f.detach() is not None:
        _dropped(None, handle.frame_id)


def forget_all() -> None:
    """Every tracked frame is gone (h2o.remove_all): nothing left to remove."""
    with _lock:
        _live.clear()
        _pending.clear()


def _dropped(connection: Any, frame_id: str) -> None:
    global _thread
    with _lock:
        n = _live.get(frame_id, 0) - 1
        if n > 0:
            _live[frame_id] = n
            return
        if frame_id not in _live:
            return  # already forgotten (remove_all)
        del _live[frame_id]
        if connection is None:
            return
        _pending.append((connection, frame_id))
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_reaper, name="h2ocloud-temp-frames", daemon=True)
            _thread.start()
    _wake.set()


def _reaper() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        with _lock:
            batch = list(_pending)
            _pending.clear()
        for conn, fid in batch:
            if is_temporary(fid):
                continue  # a new handle of the same id appeared (get_frame) meanwhile
            try:
                conn.call("dkv.remove_user", {"key": fid}, timeout=10)
            except Exception:  # noqa: BLE001 -- gone already, or the cloud is down: nothing to free
                pass
