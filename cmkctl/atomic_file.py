"""Files written so no reader ever sees a half or a swapped file: key material, and the
fleet's plan cache entries.

The data goes to a new temporary file in the target's directory, created owner-only (0600,
``mkstemp`` opens it ``O_EXCL``, so nothing already there is followed or reused), flushed to
disk, given its final mode, and then moved into place in one step: ``os.replace`` to replace,
``os.link`` to create only (it fails if the name appeared meanwhile). A process that had the
old file open keeps reading the old bytes (its own inode); a symbolic link in place of the
file is replaced as a link, never written through.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int, *, replace: bool,
                     durable: bool = True) -> None:
    """Put ``data`` at ``path`` with ``mode``; ``replace=False`` raises FileExistsError rather
    than overwrite. ``durable=False`` skips the flush to disk, for files whose loss in a crash
    costs only time (a cache entry that is gone is a miss)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(temporary, mode)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
