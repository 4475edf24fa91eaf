"""The web app's way to the database: blocking calls run on a small pool of DB threads.

On SQLite that pool is one thread with one connection per worker process: writers inside a
process never contend for the file lock (SQLite's busy handler sleeps in steps of milliseconds,
which would wreck tail latency), and the event loop stays free while a statement runs. On
PostgreSQL the pool matches `database.pool_size`. Handlers `await store.write(fn)` with a
function of a Connection (Core, for hot paths) or `await store.session(fn)` (ORM).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from digest.db import is_sqlite, session_scope, write_engine

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

T = TypeVar("T")


class Store:
    def __init__(self, engine: Engine, *, threads: int) -> None:
        self.engine = engine
        self._writer = write_engine(engine)
        self._threads = 1 if is_sqlite(str(engine.url)) else max(1, threads)
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="digest-db")

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

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
