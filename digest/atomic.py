"""Writing a file so that no reader, and no crash, ever sees half of it.

The data goes to a temporary file beside the target, which then replaces it in one rename:
the outbox's rendered and frozen parts, the manifest and the issue record all rely on it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, read_only: bool = False, durable: bool = False) -> None:
    """Replace `path` with `data` in one rename. `read_only` leaves it mode 0444 (frozen parts,
    the record: what was sent never changes); `durable` syncs it to disk before the rename.
    OSError as the file system raises it; no temporary file is left behind."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if read_only:
            os.chmod(temporary, 0o444)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
