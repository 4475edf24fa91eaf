"""Engine, sessions and migrations: SQLite (WAL, foreign keys) by default, PostgreSQL to scale.

`init_database` creates or upgrades the schema with Alembic and is safe to run again.
`open_database` is what every other command uses: it refuses a missing database or one on an
older schema with a one-line DatabaseError instead of failing later on a missing column.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from digest.errors import DatabaseError, MissingDatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from digest.config import Settings
    from digest.config_values import DatabaseTarget

# The newest migration in digest/migrations/versions; a test keeps it equal to Alembic's head.
SCHEMA_REVISION = "0004"
MIGRATIONS = Path(__file__).with_name("migrations")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite:/// URL, or None for memory databases and other backends."""
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    return Path(rest) if rest and not rest.startswith(":") else None


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5, echo: bool = False,
                pgbouncer: bool = False) -> Engine:
    """An engine with the pragmas and pool this project relies on.

    SQLite: WAL so readers never block the writer, foreign keys enforced, a busy timeout so
    concurrent writers wait instead of failing. PostgreSQL: a bounded pool sized for the
    sender's workers, with pre-ping to survive server restarts and PgBouncer recycling;
    `pgbouncer` turns off psycopg's server-side prepared statements, which a PgBouncer in
    transaction pooling mode (before 1.21) would hand to the wrong server connection.
    """
    from sqlalchemy import create_engine, event

    if is_sqlite(url):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # noqa: ANN001
            # pysqlite opens transactions lazily; take control so BEGIN IMMEDIATE works.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # noqa: ANN001
            # A writer takes the lock up front: a deferred transaction that reads, then writes,
            # fails at once (SQLITE_BUSY_SNAPSHOT) when another writer committed in between.
            mode = connection.get_execution_options().get("sqlite_begin", "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    connect_args = {"prepare_threshold": None} if pgbouncer else {}
    return create_engine(postgresql_url(url), echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                         pool_pre_ping=True, pool_recycle=1800, connect_args=connect_args)


def engine_for(settings: Settings | DatabaseTarget) -> Engine:
    return make_engine(settings.database_url, pool_size=settings.database.pool_size,
                       max_overflow=settings.database.max_overflow, echo=settings.database.echo,
                       pgbouncer=settings.database.pgbouncer)


def postgresql_url(url: str) -> str:
    """psycopg 3 for a bare `postgresql://` or `postgres://` URL (SQLAlchemy would look for
    psycopg2, which digest does not install); any other URL unchanged."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare):]
    return url


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, None if it has never been initialised."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot reach the database: {_short(exc)}",
                            hint="check database.url / DIGEST_DATABASE_URL") from None


def _alembic_config(engine: Engine):  # noqa: ANN202
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def init_database(settings: Settings) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after).

    Existing rows are kept: migrations only ever add or transform, never recreate tables.
    """
    from alembic import command
    from sqlalchemy.exc import SQLAlchemyError

    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings)
    try:
        before = current_revision(engine)
        command.upgrade(_alembic_config(engine), "head")
        after = current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migration failed: {_short(exc)}") from None
    finally:
        engine.dispose()
    return before, after or SCHEMA_REVISION


def open_database(settings: Settings) -> Engine:
    """An engine on an initialised, up-to-date database; DatabaseError otherwise."""
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        raise MissingDatabaseError(f"no database at {path}", hint="run `digest init` first")
    engine = engine_for(settings)
    revision = current_revision(engine)
    if revision is None:
        engine.dispose()
        raise DatabaseError("the database has no digest schema", hint="run `digest init` first")
    if revision != SCHEMA_REVISION:
        engine.dispose()
        raise DatabaseError(f"the database schema is at {revision}, this digest needs {SCHEMA_REVISION}",
                            hint="run `digest init` to upgrade (existing rows are kept)")
    return engine


def write_engine(engine: Engine) -> Engine:
    """The engine, set to take SQLite's write lock at BEGIN (a no-op on PostgreSQL)."""
    return engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(str(engine.url)) else engine


@contextlib.contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    `write=True` takes SQLite's write lock at BEGIN (BEGIN IMMEDIATE) so that a
    read-then-write transaction waits for other writers instead of failing; PostgreSQL
    ignores it.
    """
    from sqlmodel import Session

    bind = write_engine(engine) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_ignore(connection, model, values, *, conflict: list[str]):  # noqa: ANN001, ANN201
    """INSERT that silently does nothing when a row with the same `conflict` columns exists.

    The unique constraint decides, not a prior SELECT, so concurrent writers cannot both
    insert. Works on SQLite and PostgreSQL (`ON CONFLICT DO NOTHING`); `values` may be a dict,
    a list of dicts, or a SELECT for INSERT ... SELECT (pass `columns=` via a select's labels).
    """
    table = model.__table__
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    if hasattr(values, "subquery"):
        statement = statement.from_select([c.key for c in values.selected_columns], values)
    else:
        statement = statement.values(values)
    return connection.execute(statement.on_conflict_do_nothing(index_elements=conflict))


def _short(exc: Exception) -> str:
    """The first line of a driver error, without SQLAlchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
