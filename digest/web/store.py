"""The web app's way to the database: one connection per worker on SQLite, a thread pool on PostgreSQL.

On SQLite, statements run on the event loop itself, one at a time, over the one pooled
connection of the worker: a vote's statements take a fraction of a millisecond, so handing
them to a thread would cost more (a GIL hand-over per call, measured at up to several ms under
load) than it saves, and writers inside a process never contend for the file lock (SQLite's
busy handler sleeps in steps of milliseconds). The price: while another process holds the
write lock, this worker waits with it. On PostgreSQL, where a call is a network round trip,
calls run on a pool of `database.pool_size` threads so the loop stays free.

Handlers `await store.write(fn)` with a function of a Connection (Core), `await
store.hot_write(fn)` for the vote hot path, or `await store.session(fn)` (ORM).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from digest.data import worker
from digest.db import is_sqlite, session_scope, write_engine

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

T = TypeVar("T")


class Store:
    def __init__(self, engine: Engine, *, threads: int) -> None:
        self.engine = engine
        self._writer = write_engine(engine)
        self._inline = is_sqlite(str(engine.url))
        self._raw = None
        self._checkpointer = None
        self._pool = None if self._inline else ThreadPoolExecutor(max_workers=max(1, threads),
                                                                   thread_name_prefix="digest-db")

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            return fn()
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def hot_write(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(connection)` in a write transaction on the fastest connection there is.

        On SQLite that is the worker's own raw sqlite3 connection, opened on first use, which
        skips SQLAlchemy's per-call overhead; elsewhere it is `write`'s. `fn` must accept
        either: the functions of `digest.data.votes` do.
        """
        if not self._inline:
            return await self.write(fn)
        if self._raw is None:
            self._raw = self.engine.raw_connection()
            self._start_checkpointer(self._raw.driver_connection)
        with worker.write_transaction(self._raw.driver_connection) as raw:
            return fn(raw)

    def _start_checkpointer(self, raw: Any) -> None:
        """Move WAL checkpoints off the hot connection onto a thread of their own.

        SQLite otherwise checkpoints inside whichever commit crosses `wal_autocheckpoint`
        pages: a write of megabytes and an fsync that the unlucky vote (and every request
        queued behind it on this worker) waits for. A passive checkpoint every half second on
        another connection keeps the WAL short without ever blocking a writer; sqlite3
        releases the GIL while it runs.
        """
        import sqlite3
        import threading

        from digest.db import sqlite_path

        path = sqlite_path(str(self.engine.url))
        if path is None:
            return
        worker.stop_autocheckpoint(raw)
        stop = threading.Event()

        def checkpoint() -> None:
            connection = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            try:
                while not stop.wait(0.5):
                    try:
                        worker.checkpoint(connection)
                    except sqlite3.Error:
                        continue
            finally:
                connection.close()

        self._checkpointer = (stop, threading.Thread(target=checkpoint, name="digest-checkpoint", daemon=True))
        self._checkpointer[1].start()

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn(connection)` in a read transaction."""
        def call() -> T:
            with self.engine.connect() as connection:
                return fn(connection)
        return await self._run(call)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn(connection)` in a write transaction (committed on success)."""
        def call() -> T:
            with self._writer.begin() as connection:
                return fn(connection)
        return await self._run(call)

    async def session(self, fn: Callable[[Session], T], *, write: bool = False) -> T:
        """Run `fn(session)` in an ORM session (committed on success)."""
        def call() -> T:
            with session_scope(self.engine, write=write) as session:
                return fn(session)
        return await self._run(call)

    def close(self) -> None:
        if self._checkpointer is not None:
            stop, thread = self._checkpointer
            stop.set()
            thread.join(timeout=5)
            self._checkpointer = None
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.engine.dispose()


class TtlCache:
    """A small time-bounded cache for figures that may lag by a moment (vote splits, pages)."""

    def __init__(self, ttl: float, *, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any | None:
        if self.ttl <= 0:
            return None
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, value)

    def drop(self, key: Any) -> None:
        self._items.pop(key, None)
