"""Which server-side paths a client may name: --import-root for what the node reads (import_file,
load_model), --export-root for what it writes (export_file, save_model, export_checkpoints_dir).

Without roots a node reads and writes what its user can, as H2O's does. With them, a path is
resolved as the kernel would open it (symlinks followed, `..` collapsed; a relative path is taken
against the first root) and refused unless it lies under one of the roots, with a
PermissionError (403 / PERMISSION_DENIED) naming the flag. The check runs where the file is
opened too (each file of an imported folder), so a symlink inside a root that leads out of it is
refused as well.
"""

from __future__ import annotations

import os

IMPORT_FLAG = "--import-root"
EXPORT_FLAG = "--export-root"


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def check(path: str, roots: list[str], flag: str, what: str) -> str:
    """The absolute, resolved `path` when `roots` allow it (any path when there are none);
    PermissionError naming `flag` and the roots otherwise. `what` names the argument."""
    if not roots:
        return os.path.abspath(os.path.expanduser(path))
    if "\0" in path:
        raise ValueError(f"{what}: a path cannot hold a NUL character")
    real_roots = [os.path.realpath(r) for r in roots]
    joined = os.path.join(real_roots[0], os.path.expanduser(path))  # an absolute path stays itself
    resolved = os.path.realpath(joined)
    if not any(_inside(resolved, r) for r in real_roots):
        shown = path if resolved == os.path.abspath(path) else f"{path} (resolves to {resolved})"
        raise PermissionError(f"{what} {shown} is outside the directories this node may "
                              f"{'read' if flag == IMPORT_FLAG else 'write'} ({flag} {' '.join(roots)})")
    return resolved
