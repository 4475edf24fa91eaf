"""The web worker's own SQLite connection: its write transaction, WAL checkpoints and a ping.

`digest.web.store` keeps one raw sqlite3 connection per worker for the vote hot path (see
`digest.data.votes`) and moves WAL checkpoints to a thread of its own; the statements that
takes are here, with the rest of digest's SQL.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@contextlib.contextmanager
def write_transaction(raw: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (the write lock up front, so a read-then-write cannot act on a stale
    read) and COMMIT on success; ROLLBACK on any error, including a failed COMMIT."""
    raw.execute("BEGIN IMMEDIATE")
    try:
        yield raw
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise


def stop_autocheckpoint(raw: sqlite3.Connection) -> None:
    """Commits on `raw` no longer checkpoint the WAL; someone must call `checkpoint`."""
    raw.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint(connection: sqlite3.Connection) -> None:
    """A passive checkpoint: copies what it can of the WAL without ever blocking a writer."""
    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def ping(connection: Connection) -> bool:
    """True when the database answers a trivial query."""
    from sqlalchemy import text

    return connection.execute(text("SELECT 1")).scalar() == 1
