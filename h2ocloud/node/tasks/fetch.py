"""Fetching an http(s) URL for h2o.import_file: the node downloads it (as H2O's node does), to a
file in its data dir that the parse then reads and deletes."""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid

URL = re.compile(r"^https?://", re.IGNORECASE)
TIMEOUT_S = 60.0


def is_url(path: str) -> bool:
    return bool(URL.match(path))


def fetch_url(url: str, directory: str, check_cancelled=None) -> str:
    """Download ``url`` into ``directory``; return the file's path, named after the URL's
    last path segment (so the format is sniffed from its name and content as a local file's).
    A failed download raises FileNotFoundError naming the URL and the reason."""
    name = os.path.basename(urllib.parse.urlparse(url).path) or "download"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    target_dir = os.path.join(directory, "fetch-" + uuid.uuid4().hex)
    os.makedirs(target_dir)
    target = os.path.join(target_dir, name)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(target, "wb") as out:
            while True:
                if check_cancelled is not None:
                    check_cancelled()
                block = response.read(1 << 20)
                if not block:
                    break
                out.write(block)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        shutil.rmtree(target_dir, ignore_errors=True)
        reason = getattr(exc, "reason", None) or exc
        raise FileNotFoundError(f"cannot fetch {url}: {reason}") from None
    return target


def discard(path: str) -> None:
    """Delete a fetched file (and the folder made for it)."""
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
