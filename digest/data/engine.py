"""Portable SQL for the hot paths: one query string, run by sqlite3 or by SQLAlchemy.

Importing SQLAlchemy and SQLModel costs half a second here, more than the whole start-up
budget of `digest tools list`, and a poll of hundreds of feeds pays it on every run. The paths
that must be fast (polling, listing tools) therefore talk to the database through this small
layer: each query is one SQL string with `:name` parameters that the standard library's
sqlite3 runs directly on SQLite, and SQLAlchemy's `text()` runs on PostgreSQL. The ORM models
in `digest.models` stay the single description of the schema; values are stored exactly as the
ORM stores them (datetimes through `digest.data.codec`, JSON as text), so either side reads
what the other wrote.

Errors: `connect` raises DatabaseError (missing, unreachable, wrong schema); a unique or
foreign-key violation raises `Conflict`, which callers catch to re-read instead of creating
twins.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from digest.data.codec import sqlite_text
from digest.errors import DatabaseError, MissingDatabaseError

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.config_values import DatabaseTarget


class Conflict(DatabaseError):
    """A unique constraint (or another integrity rule) refused a write.

    Callers that expect one (a concurrent writer won a race) catch it and re-read; one that
    escapes is still a one-line database error, never a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"the database refused a write: {message}")


class Retry(DatabaseError):
    """The server aborted the transaction to break a deadlock (or a serialization conflict):
    the whole unit of work can simply run again."""


class Database(abc.ABC):
    """One connection and its transactions; use `transaction()` for every unit of work.

    Each backend (SQLite, PostgreSQL) implements the abstract methods; the rest is shared.
    """

    dialect = ""

    @abc.abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one statement; its rows as dicts."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run one statement; returns the number of rows it changed."""

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]], *, plain: bool = False) -> None:
        """Run one statement per row; `plain` promises every value is a str, int or None, so
        no value needs converting (a noticeable saving for thousands of rows)."""

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run an INSERT ending in `RETURNING id`; returns the new id."""
        rows = self.query(sql, params)
        return int(rows[0]["id"])

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None

    @abc.abstractmethod
    def transaction(self, *, write: bool = False) -> contextlib.AbstractContextManager[Database]:
        """Commit on success, roll back on any error.

        `write=True` takes SQLite's write lock at BEGIN, so a read-then-write unit of work
        waits for other writers rather than failing or acting on a stale read.
        """

    @contextlib.contextmanager
    def savepoint(self, name: str = "sp") -> Iterator[None]:
        """A nested unit inside a transaction: on error only its own writes are undone."""
        self._raw(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._raw(f"ROLLBACK TO SAVEPOINT {name}")
            self._raw(f"RELEASE SAVEPOINT {name}")
            raise
        self._raw(f"RELEASE SAVEPOINT {name}")

    def _raw(self, sql: str) -> None:
        self.execute(sql)

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        import sqlite3

        self._sqlite3 = sqlite3
        try:
            self.connection = sqlite3.connect(path, timeout=30, isolation_level=None,
                                              check_same_thread=False)
            self.connection.row_factory = sqlite3.Row
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.execute("PRAGMA busy_timeout=30000")
            self.connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from None

    @staticmethod
    def _params(params: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Values as SQLAlchemy stores them on SQLite; a mapping that needs nothing is reused."""
        if not params:
            return {}
        out = None
        for key, value in params.items():
            kind = type(value)
            if value is None or kind is str or kind is int or kind is float or kind is bool:
                continue
            if out is None:
                out = dict(params)
            if isinstance(value, datetime):
                out[key] = sqlite_text(value)
            elif isinstance(value, (list, dict)):
                out[key] = json.dumps(value)
        return params if out is None else out

    def _run(self, method: str, sql: str, arg: Any) -> Any:
        try:
            return getattr(self.connection, method)(sql, arg)
        except self._sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from None
        except self._sqlite3.Error as exc:
            raise DatabaseError(f"database error: {exc}") from None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(row) for row in self._run("execute", sql, self._params(params)).fetchall()]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self._run("execute", sql, self._params(params)).rowcount

    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]], *, plain: bool = False) -> None:
        self._run("executemany", sql, rows if plain else (self._params(row) for row in rows))

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Database]:
        self.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class SqlAlchemyDatabase(Database):
    """PostgreSQL (or any other SQLAlchemy URL) through `text()`; JSON values bind as JSON."""

    def __init__(self, settings: Settings | DatabaseTarget) -> None:
        from sqlalchemy import exc

        from digest.db import engine_for

        self._exc = exc
        self.engine = engine_for(settings)
        self.dialect = self.engine.dialect.name
        try:
            self.connection = self.engine.connect()
        except exc.SQLAlchemyError as error:
            self.engine.dispose()
            raise DatabaseError(f"cannot reach the database: {_first_line(error)}",
                                hint="check database.url / DIGEST_DATABASE_URL") from None
        self._transaction = None

    def _statement(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        from sqlalchemy import JSON, bindparam, text

        statement = text(sql)
        json_keys = [k for k, v in (params or {}).items() if isinstance(v, (list, dict))]
        if json_keys:
            statement = statement.bindparams(*(bindparam(k, type_=JSON) for k in json_keys))
        return statement

    def _run(self, sql: str, params: Any, many: bool = False) -> Any:
        try:
            if many:
                rows = list(params)
                if not rows:
                    return None
                return self.connection.execute(self._statement(sql, rows[0]), rows)
            return self.connection.execute(self._statement(sql, params), dict(params or {}))
        except self._exc.IntegrityError as error:
            raise Conflict(_first_line(error)) from None
        except self._exc.SQLAlchemyError as error:
            if getattr(getattr(error, "orig", None), "sqlstate", None) in ("40P01", "40001"):
                raise Retry(f"database error: {_first_line(error)}") from None
            raise DatabaseError(f"database error: {_first_line(error)}") from None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self._run(sql, params)]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self._run(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]], *, plain: bool = False) -> None:
        self._run(sql, rows, many=True)

    def _raw(self, sql: str) -> None:
        self.connection.exec_driver_sql(sql)

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Database]:
        if self.connection.in_transaction():
            self.connection.rollback()
        transaction = self.connection.begin()
        try:
            yield self
        except BaseException:
            transaction.rollback()
            raise
        try:
            transaction.commit()
        except self._exc.IntegrityError as error:
            raise Conflict(_first_line(error)) from None

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(settings: Settings | DatabaseTarget) -> Database:
    """A connection to the initialised, up-to-date database of `settings` (the whole Settings,
    or the [database] section alone that `digest.config_values.load_database` reads).

    Raises DatabaseError when the database is missing, unreachable or on another schema
    revision (the same checks as `digest.db.open_database`, without importing SQLAlchemy on
    SQLite).
    """
    from digest.db import SCHEMA_REVISION, is_sqlite, sqlite_path

    url = settings.database_url
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is None:
            raise DatabaseError(f"{url} is not a database file digest can share between commands",
                                hint="use sqlite:///digest.db or a PostgreSQL URL")
        if not path.exists():
            raise MissingDatabaseError(f"no database at {path}", hint="run `digest init` first")
        database: Database = SqliteDatabase(str(path))
    else:
        database = SqlAlchemyDatabase(settings)
    try:
        revision = database.scalar("SELECT version_num FROM alembic_version")
    except DatabaseError:
        database.close()
        raise DatabaseError("the database has no digest schema", hint="run `digest init` first") from None
    if revision != SCHEMA_REVISION:
        database.close()
        raise DatabaseError(f"the database schema is at {revision}, this digest needs {SCHEMA_REVISION}",
                            hint="run `digest init` to upgrade (existing rows are kept)")
    return database
